#include "tests/support/nats_server.hpp"

#include <cstdlib>
#include <thread>

#include "tests/support/ports.hpp"

namespace sy::test {

NatsServer::NatsServer(std::string log_dir, NatsServerOptions options)
    : log_dir_(std::move(log_dir)), options_(std::move(options)) {}

NatsServer::~NatsServer() { stop(); }

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

bool NatsServer::start() {
  if (port_ == 0) port_ = free_port();
  if (port_ == 0) {
    error_ = "no free port";
    return false;
  }
  const char* binary = std::getenv("SY_NATS_SERVER");
  ProcessOptions options;
  options.argv = {binary != nullptr ? binary : "/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", std::to_string(port_)};
  if (!options_.user.empty()) {
    options.argv.insert(options.argv.end(), {"--user", options_.user, "--pass", options_.pass});
  }
  options.log_path = log_dir_ + "/nats-server-" + std::to_string(port_) + ".log";
  if (!process_.start(options)) {
    error_ = process_.error();
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_.running()) break;
    if (port_open(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error_ = "nats-server did not accept connections on port " + std::to_string(port_) + ": " + process_.log();
  process_.kill();
  return false;
}

void NatsServer::stop() { process_.stop(std::chrono::milliseconds(3000)); }

void NatsServer::kill() { process_.kill(); }

bool NatsServer::restart() {
  process_.stop(std::chrono::milliseconds(3000));
  return start();
}

}  // namespace sy::test
