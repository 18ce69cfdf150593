#include "tests/support/dnsmasq.hpp"

#include <cstdlib>

#include "tests/support/ports.hpp"
#include "tests/support/wait.hpp"

namespace sy::test {

std::string dnsmasq_binary() {
  const char* env = std::getenv("SY_DNSMASQ");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/dnsmasq";
}

bool Dnsmasq::start(const DnsmasqOptions& options, const std::string& log_path, std::chrono::milliseconds timeout) {
  error_.clear();
  options_ = options;
  const std::string binary = dnsmasq_binary();
  if (!is_executable(binary)) {
    error_ = "missing " + binary + " (scripts/install-deps.sh --with-tests installs dnsmasq-base)";
    return false;
  }
  if (options_.port == 0) options_.port = free_port();
  ProcessOptions process;
  // -k: foreground; no config file, no /etc/hosts, no upstream servers; only
  // the given address; TTL 1 s; every query logged (to stderr -> the log).
  process.argv = {binary,
                  "-k",
                  "--conf-file=/dev/null",
                  "--no-resolv",
                  "--no-hosts",
                  "--no-poll",
                  "--bind-interfaces",
                  "--listen-address=" + options_.listen_address,
                  "--port=" + std::to_string(options_.port),
                  "--pid-file",
                  "--user=root",
                  "--local-ttl=1",
                  "--log-facility=-",
                  "--log-queries"};
  for (const auto& [name, ip] : options_.records) process.argv.push_back("--host-record=" + name + "," + ip);
  for (const auto& [domain, ip] : options_.wildcards) process.argv.push_back("--address=/" + domain + "/" + ip);
  process.log_path = log_path;
  if (!process_.start(process)) {
    error_ = process_.error();
    return false;
  }
  if (!wait_until([&] { return !process_.running() || port_open(options_.listen_address, options_.port); }, timeout,
                  std::chrono::milliseconds(20)) ||
      !process_.running()) {
    error_ = "dnsmasq did not come up; log:\n" + process_.log();
    return false;
  }
  return true;
}

void Dnsmasq::stop() { process_.stop(std::chrono::milliseconds(2000)); }

}  // namespace sy::test
