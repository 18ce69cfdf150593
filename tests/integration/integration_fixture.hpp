#pragma once
// Shared fixture for the integration tests: a temp dir, a nats-server, a
// NATS client, a switchyard router and echo backends, all on free loopback
// ports, all torn down in reverse order. Only included by
// tests/integration/*.cpp, which are compiled with SY_BIN_DIR.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/prom_text.hpp"
#include "tests/support/router_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#ifndef SY_BIN_DIR
#error "integration tests need SY_BIN_DIR (the CMake build directory)"
#endif

namespace sy::test {

inline Binaries test_binaries() { return binaries_in(SY_BIN_DIR); }

// What switchyard-echo saw: its name, method, target and request headers
// (lower-cased names; repeated headers keep every value).
struct EchoSeen {
  std::string name;
  std::string method;
  std::string target;
  std::multimap<std::string, std::string> headers;

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has(const std::string& lower_name) const { return headers.count(lower_name) != 0; }
};

inline EchoSeen parse_echo(const std::string& body) {
  EchoSeen seen;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("name=", 0) == 0) {
      seen.name = line.substr(5);
    } else if (line.rfind("method=", 0) == 0) {
      seen.method = line.substr(7);
    } else if (line.rfind("target=", 0) == 0) {
      seen.target = line.substr(7);
    } else if (const size_t colon = line.find(": "); colon != std::string::npos) {
      seen.headers.emplace(line.substr(0, colon), line.substr(colon + 2));
    }
  }
  return seen;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(dir_, test_binaries()) {}

  // A router still running must stop cleanly on SIGTERM: exit status 0. (In
  // a sanitized build a report ends it with 134, or 23 for a leak.)
  void TearDown() override {
    if (router_.process().running()) {
      const std::optional<int> code = router_.stop();
      EXPECT_EQ(code, std::optional<int>(0)) << "switchyard did not exit 0 on SIGTERM";
    }
    if (HasFailure()) dump_logs();
  }

  // Starts nats-server (optionally with credentials) and connects client_.
  void start_nats(const NatsServerOptions& options = {}) {
    nats_ = std::make_unique<NatsServer>(dir_.path(), options);
    ASSERT_TRUE(nats_->start()) << nats_->error();
    ASSERT_TRUE(client_.connect(nats_->url(), options.user, options.pass)) << client_.error();
  }

  // Starts the router and waits for /health 200.
  void start_router(const RouterConfig& config = {}) {
    ASSERT_TRUE(is_executable(test_binaries().switchyard)) << "missing binary " << test_binaries().switchyard;
    ASSERT_TRUE(router_.start(config, *nats_)) << router_.process().error();
    ASSERT_TRUE(router_.wait_healthy()) << "router not healthy; log:\n" << router_.log();
  }

  // start_nats() + start_router().
  void start_all(const RouterConfig& config = {}) {
    ASSERT_NO_FATAL_FAILURE(start_nats());
    ASSERT_NO_FATAL_FAILURE(start_router(config));
  }

  EchoBackend& start_echo(const std::string& name) {
    backends_.push_back(std::make_unique<EchoBackend>(dir_, test_binaries()));
    EchoBackend& backend = *backends_.back();
    EXPECT_TRUE(is_executable(test_binaries().echo)) << "missing binary " << test_binaries().echo;
    EXPECT_TRUE(backend.start(name)) << "echo backend " << name << " did not start: " << backend.process().log();
    return backend;
  }

  // Registers 127.0.0.1:port for `uri` and waits until it answers 200.
  void route(const std::string& uri, uint16_t port, const std::string& extra_json = {}) {
    ASSERT_TRUE(register_route(client_, port, {uri}, extra_json)) << client_.error();
    ASSERT_TRUE(wait_routable(router_, uri, 200)) << uri << ": " << router_.get(uri).describe();
  }

  void dump_logs() {
    std::fprintf(stderr, "---- switchyard log (%s) ----\n%s\n", router_.config_path().c_str(),
                 tail(router_.log()).c_str());
    if (nats_) std::fprintf(stderr, "---- nats-server log ----\n%s\n", tail(nats_->log()).c_str());
  }

  static std::string tail(const std::string& text, size_t max = 6000) {
    return text.size() <= max ? text : "..." + text.substr(text.size() - max);
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  NatsClient client_;
  Router router_;
  std::vector<std::unique_ptr<EchoBackend>> backends_;
};

}  // namespace sy::test
