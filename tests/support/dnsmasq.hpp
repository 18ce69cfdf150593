#pragma once
// A real dnsmasq (/usr/sbin/dnsmasq, or $SY_DNSMASQ) in the foreground as a
// small authoritative-looking DNS server for integration tests: fixed A
// records (a name may have several, as a Kubernetes headless Service has one
// per pod) and wildcard domains, nothing forwarded upstream. Used from one
// thread (see process.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace sy::test {

std::string dnsmasq_binary();

struct DnsmasqOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = a free loopback port
  // name -> IPv4; repeat a name for several A records.
  std::vector<std::pair<std::string, std::string>> records;
  // domain -> IPv4: the domain and every name under it (*.domain).
  std::vector<std::pair<std::string, std::string>> wildcards;
};

class Dnsmasq {
 public:
  Dnsmasq() = default;
  ~Dnsmasq() { stop(); }
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  // Starts it and waits until its TCP port accepts connections. False
  // (error() says why) if the binary is missing or it did not come up.
  bool start(const DnsmasqOptions& options, const std::string& log_path,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  void stop();
  uint16_t port() const { return options_.port; }
  // listen_address:port, as HAProxy's `nameserver` takes it.
  std::string address() const { return options_.listen_address + ":" + std::to_string(options_.port); }
  const std::string& error() const { return error_; }
  std::string log() const { return process_.log(); }

 private:
  DnsmasqOptions options_;
  Process process_;
  std::string error_;
};

}  // namespace sy::test
