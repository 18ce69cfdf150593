#pragma once
// A real HAProxy (Debian's /usr/sbin/haproxy, or $SY_HAPROXY) in the
// foreground (-db) for integration tests, from a config file, logging into a
// file. Used from one thread (the one that started it must outlive it: see
// process.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace sy::test {

std::string haproxy_binary();

class Haproxy {
 public:
  Haproxy() = default;
  ~Haproxy() { stop(); }
  Haproxy(const Haproxy&) = delete;
  Haproxy& operator=(const Haproxy&) = delete;

  // Starts `haproxy -db -f config_path` with `env` added to the environment
  // and waits until 127.0.0.1:`port` accepts connections. When the hard
  // file-descriptor limit is below what a config's maxconn 20000 needs,
  // maxconn is lowered from the command line (-n) and the file is used as
  // is. False (error() says why) if it exits or does not listen in time.
  bool start(const std::string& config_path, const std::string& log_path, uint16_t port,
             const std::vector<std::pair<std::string, std::string>>& env = {},
             std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  void stop();
  Process& process() { return process_; }
  std::string log() const { return process_.log(); }
  const std::string& error() const { return error_; }

 private:
  Process process_;
  std::string error_;
};

// An HTTP-mode config: one frontend on 127.0.0.1:`port`, keep-alive on both
// sides, every request to the one server 127.0.0.1:`backend_port`.
std::string haproxy_http_config(uint16_t port, uint16_t backend_port);

}  // namespace sy::test
