#pragma once
// A real nats-server (/usr/sbin/nats-server, or $SY_NATS_SERVER) on a free
// 127.0.0.1 port, logging into a file. Used from one thread.
#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/process.hpp"

namespace sy::test {

struct NatsServerOptions {
  std::string user;  // --user/--pass when not empty
  std::string pass;
  std::chrono::milliseconds start_timeout{10000};
};

class NatsServer {
 public:
  // Log file: <log_dir>/nats-server-<port>.log.
  explicit NatsServer(std::string log_dir, NatsServerOptions options = {});
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Picks a free port (first start only), starts the server and waits until
  // it accepts TCP connections. False if it did not come up (error() says why).
  bool start();
  // SIGTERM, then SIGKILL after a grace period.
  void stop();
  // SIGKILL: the abrupt outage.
  void kill();
  // Starts again on the same port (after stop() or kill()).
  bool restart();
  bool running() { return process_.running(); }

  uint16_t port() const { return port_; }
  // nats://127.0.0.1:PORT (no credentials in it).
  std::string url() const;
  const std::string& user() const { return options_.user; }
  const std::string& pass() const { return options_.pass; }
  const std::string& error() const { return error_; }
  std::string log() const { return process_.log(); }
  Process& process() { return process_; }

 private:
  std::string log_dir_;
  NatsServerOptions options_;
  uint16_t port_ = 0;
  Process process_;
  std::string error_;
};

}  // namespace sy::test
