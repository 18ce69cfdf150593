#include "tests/support/haproxy.hpp"

#include <sys/resource.h>

#include <cstdlib>

#include "tests/support/ports.hpp"
#include "tests/support/wait.hpp"

namespace sy::test {

std::string haproxy_binary() {
  const char* env = std::getenv("SY_HAPROXY");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/haproxy";
}

bool Haproxy::start(const std::string& config_path, const std::string& log_path, uint16_t port,
                    const std::vector<std::pair<std::string, std::string>>& env, std::chrono::milliseconds timeout) {
  error_.clear();
  const std::string binary = haproxy_binary();
  if (!is_executable(binary)) {
    error_ = "missing " + binary;
    return false;
  }
  ProcessOptions options;
  options.argv = {binary, "-db", "-f", config_path};
  // maxconn 20000 needs ~40k file descriptors; HAProxy refuses to start when
  // the hard limit is lower (it is 20000 in some CI containers).
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max != RLIM_INFINITY && limit.rlim_max < 40100) {
    const rlim_t maxconn = limit.rlim_max > 200 ? (limit.rlim_max - 100) / 2 : 50;
    options.argv.insert(options.argv.begin() + 1, {"-n", std::to_string(maxconn)});
  }
  options.log_path = log_path;
  options.env = env;
  if (!process_.start(options)) {
    error_ = process_.error();
    return false;
  }
  if (!wait_until([&] { return !process_.running() || port_open(port); }, timeout) || !process_.running()) {
    error_ = "haproxy did not start listening; log:\n" + process_.log();
    return false;
  }
  return true;
}

void Haproxy::stop() { process_.stop(std::chrono::milliseconds(3000)); }

std::string haproxy_http_config(uint16_t port, uint16_t backend_port) {
  return "global\n"
         "  maxconn 512\n"
         "defaults\n"
         "  mode http\n"
         "  timeout connect 2s\n"
         "  timeout client 10s\n"
         "  timeout server 10s\n"
         "  timeout http-request 5s\n"
         "frontend front\n"
         "  bind 127.0.0.1:" + std::to_string(port) + "\n"
         "  default_backend raw\n"
         "backend raw\n"
         "  server raw 127.0.0.1:" + std::to_string(backend_port) + "\n";
}

}  // namespace sy::test
