// switchyard-tunnel end to end against the Go reference node
// (tests/peers/go/tunnel-node: gorilla/websocket + hashicorp/yamux), with
// in-process TCP targets: bulk bytes both ways, half-close, a refusing
// target, a node that is SIGKILLed and comes back, GoAway, a wrong token,
// SIGTERM. And the Go agent against the Go node (the benchmark's reference).
// Skipped when the Go peers could not be built (no go, or Debian's yamux /
// websocket packages missing).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tcp_target.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#ifndef SY_BIN_DIR
#error "integration tests need SY_BIN_DIR"
#endif

namespace sy::test {
namespace {

std::string bin(const std::string& name) { return std::string(SY_BIN_DIR) + "/" + name; }

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

class TunnelAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_executable(bin("tunnel-node")) || !is_executable(bin("tunnel-agent")))
      GTEST_SKIP() << "Go reference tunnel peers not built: go or Debian's golang-github-hashicorp-yamux-dev / "
                      "golang-github-gorilla-websocket-dev missing (scripts/install-deps.sh --with-tests)";
    ASSERT_TRUE(is_executable(bin("switchyard-tunnel"))) << "missing " << bin("switchyard-tunnel");
  }

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "---- agent stdout ----\n%s\n---- agent stderr ----\n%s\n---- node ----\n%s\n",
                   read_file(dir_.file("agent.out")).c_str(), read_file(dir_.file("agent.err")).c_str(),
                   read_file(dir_.file("node.log")).c_str());
    }
  }

  // Starts the Go node; fixed ports when given (a restart reuses them).
  void start_node(const std::vector<std::string>& extra = {}) {
    node_ = Process();
    ProcessOptions o;
    o.argv = {bin("tunnel-node"), "--listen-tunnel", "127.0.0.1:" + std::to_string(tunnel_port_),
              "--listen-http", "127.0.0.1:" + std::to_string(http_port_)};
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.log_path = dir_.file("node.out");
    o.stderr_path = dir_.file("node.log");
    ::unlink(o.log_path.c_str());
    ASSERT_TRUE(node_.start(o)) << node_.error();
    std::smatch m;
    std::string out;
    ASSERT_TRUE(wait_until(
        [&] {
          out = read_file(o.log_path);
          return out.find('\n') != std::string::npos;
        },
        10s))
        << "the node did not print its ports";
    static const std::regex re("listening tunnel=127\\.0\\.0\\.1:(\\d+) http=127\\.0\\.0\\.1:(\\d+)");
    ASSERT_TRUE(std::regex_search(out, m, re)) << out;
    tunnel_port_ = static_cast<uint16_t>(std::stoi(m[1]));
    http_port_ = static_cast<uint16_t>(std::stoi(m[2]));
  }

  std::string server_url() const { return server_prefix_ + std::to_string(tunnel_port_); }

  // A self-signed certificate for `san` (e.g. "DNS:localhost"), as cert.pem and key.pem.
  void make_certificate(const std::string& san) {
    ProcessOptions o;
    o.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", dir_.file("key.pem"), "-out", dir_.file("cert.pem"), "-days", "1", "-subj",
              "/CN=switchyard-test", "-addext", "subjectAltName=" + san};
    o.log_path = dir_.file("openssl.log");
    ASSERT_EQ(run_process(o, 30s), 0) << read_file(o.log_path);
  }

  void start_agent(uint16_t target_port, const std::vector<std::string>& extra = {}, bool go = false) {
    ProcessOptions o;
    o.argv = {bin(go ? "tunnel-agent" : "switchyard-tunnel"), "--server", server_url(), "--id",
              "381433e1-7980-11ee-bbdb-60f262c1e32d", "--to", "127.0.0.1:" + std::to_string(target_port)};
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.log_path = dir_.file("agent.out");
    o.stderr_path = dir_.file("agent.err");
    ASSERT_TRUE(agent_.start(o)) << agent_.error();
  }

  std::string agent_out() const { return read_file(dir_.file("agent.out")); }
  std::string agent_err() const { return read_file(dir_.file("agent.err")); }

  // Waits for the n-th tunnel-ready line.
  bool wait_ready(size_t n, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return count_of(agent_out(), "tunnel-ready host=") >= n; }, timeout, 20ms);
  }

  // Sessions the node holds, from its log.
  size_t node_sessions_up() const { return count_of(read_file(dir_.file("node.log")), "session up:"); }

  // N concurrent echo exchanges of `bytes` each way through the node.
  std::vector<std::string> exchange_many(int n, size_t bytes) {
    std::vector<std::string> errors(static_cast<size_t>(n));
    std::vector<std::thread> clients;
    for (int i = 0; i < n; ++i)
      clients.emplace_back([&, i] { errors[static_cast<size_t>(i)] = echo_exchange(http_port_, bytes, 1000 + i); });
    for (auto& t : clients) t.join();
    std::vector<std::string> failed;
    for (size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty()) failed.push_back("connection " + std::to_string(i) + ": " + errors[i]);
    return failed;
  }

  TempDir dir_{"sy-tunnel-agent"};
  std::string server_prefix_ = "ws://127.0.0.1:";
  uint16_t tunnel_port_ = 0;
  uint16_t http_port_ = 0;
  Process node_;
  Process agent_;
};

TEST_F(TunnelAgentTest, HundredConnectionsOfOneMebibyteEachWayAreByteIdentical) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port());
  ASSERT_TRUE(wait_ready(1));
  EXPECT_NE(agent_out().find("tunnel-ready host=b7de88a94729b931.tunnel.test server=" + server_url()),
            std::string::npos)
      << "md5(id)[:16] as the host, printed once";
  ASSERT_TRUE(wait_until([&] { return node_sessions_up() >= 2; }, 10s)) << "--connections defaults to 2";
  const auto failed = exchange_many(100, 1 << 20);
  EXPECT_TRUE(failed.empty()) << failed.size() << " failed, first: " << failed.front();
  EXPECT_EQ(target.eofs_seen(), 100) << "every client's half-close reached the target";
  EXPECT_EQ(count_of(agent_out(), "tunnel-ready"), 1u);
}

TEST_F(TunnelAgentTest, HalfCloseReachesTheTargetAndItsAnswerStillArrives) {
  TcpTarget target(TcpTarget::Mode::count_at_eof);
  start_node();
  start_agent(target.port());
  ASSERT_TRUE(wait_ready(1));
  for (int round = 0; round < 3; ++round) {
    const int fd = connect_tcp(http_port_, 10000);
    ASSERT_GE(fd, 0);
    const std::string payload(100000 + round, 'x');
    ASSERT_EQ(::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL), static_cast<ssize_t>(payload.size()));
    ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
    std::string answer;
    char buf[256];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<size_t>(n));
    ::close(fd);
    EXPECT_EQ(answer, "count=" + std::to_string(payload.size()) + "\n") << "round " << round;
  }
  EXPECT_EQ(target.eofs_seen(), 3);
}

TEST_F(TunnelAgentTest, RefusingTargetClosesTheClientPromptly) {
  const uint16_t closed_port = free_port();
  start_node();
  start_agent(closed_port);
  ASSERT_TRUE(wait_ready(1));
  for (int i = 0; i < 5; ++i) {
    const int fd = connect_tcp(http_port_, 5000);
    ASSERT_GE(fd, 0);
    ::send(fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL);
    const auto start = std::chrono::steady_clock::now();
    char buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    const auto took = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_LE(n, 0) << "no bytes from a target that refused";
    EXPECT_LT(took, 3s) << "reset or closed promptly, not at a timeout";
  }
  EXPECT_TRUE(agent_.running()) << "a refusing target does not end the session";
}

TEST_F(TunnelAgentTest, AStuckTargetStallsOnlyItsOwnStream) {
  TcpTarget target(TcpTarget::Mode::stall_first);
  start_node();
  start_agent(target.port(), {"--connections", "1"});
  ASSERT_TRUE(wait_ready(1));
  // Fill the stuck stream: the target's socket, the agent's window, the
  // node's stream and the client's socket buffers, until send() blocks.
  const int stuck = connect_tcp(http_port_, 2000);
  ASSERT_GE(stuck, 0);
  ASSERT_TRUE(wait_until([&] { return target.accepted() >= 1; }, 10s));
  const std::string chunk(64 * 1024, 's');
  size_t pushed = 0;
  for (;;) {
    const ssize_t n = ::send(stuck, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      pushed += static_cast<size_t>(n);
      continue;
    }
    pollfd p{stuck, POLLOUT, 0};
    if (::poll(&p, 1, 300) <= 0) break;  // no room for 300 ms: everything on the way is full
  }
  EXPECT_GT(pushed, 256u * 1024) << "at least a yamux window went in before it blocked";
  // The same session still carries other streams at full speed.
  const auto failed = exchange_many(5, 4 << 20);
  EXPECT_TRUE(failed.empty()) << failed.front();
  ::close(stuck);
}

TEST_F(TunnelAgentTest, UnansweredKeepaliveEndsTheSession) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port(), {"--connections", "1"});
  ASSERT_TRUE(wait_ready(1));
  ASSERT_TRUE(node_.signal(SIGSTOP));  // the node stops answering pings
  const bool ended = wait_until([&] { return agent_err().find("keepalive ping unanswered") != std::string::npos; }, 20s);
  node_.signal(SIGCONT);
  EXPECT_TRUE(ended) << "a ping every 5 s, dead when unanswered 5 s";
  EXPECT_TRUE(wait_ready(2, 20s)) << "and it reconnects";
}

TEST_F(TunnelAgentTest, ReconnectsWhenTheNodeComesBack) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port());
  ASSERT_TRUE(wait_ready(1));
  ASSERT_TRUE(exchange_many(2, 4096).empty());
  node_.kill();
  ASSERT_TRUE(wait_until([&] { return count_of(agent_err(), "tunnel-session-ended") >= 2; }, 10s))
      << "both sessions notice the dead node";
  ASSERT_TRUE(wait_until([&] { return count_of(agent_err(), "tunnel-reconnect-wait") >= 3; }, 10s))
      << "it keeps retrying with backoff while the node is away";
  start_node();
  ASSERT_TRUE(wait_ready(2, 20s)) << "the host is printed again once a session is back";
  ASSERT_TRUE(wait_until([&] { return node_sessions_up() >= 2; }, 20s));
  const auto failed = exchange_many(10, 64 * 1024);
  EXPECT_TRUE(failed.empty()) << failed.front();
}

TEST_F(TunnelAgentTest, GoAwayOpensTheReplacementAndInFlightStreamsFinish) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port(), {"--connections", "1"});
  ASSERT_TRUE(wait_ready(1));
  ASSERT_TRUE(wait_until([&] { return node_sessions_up() >= 1; }, 10s));
  std::string in_flight_error = "not run";
  std::thread in_flight([&] { in_flight_error = echo_exchange(http_port_, 64 << 20, 7); });
  ASSERT_TRUE(wait_until([&] { return target.accepted() >= 1; }, 10s));
  ASSERT_TRUE(node_.signal(SIGUSR1));
  ASSERT_TRUE(wait_until([&] { return node_sessions_up() >= 2; }, 10s)) << "the replacement session";
  in_flight.join();
  EXPECT_EQ(in_flight_error, "") << "the stream on the old session finished";
  EXPECT_TRUE(wait_until([&] { return count_of(agent_err(), "tunnel-session-ended") >= 1; }, 10s))
      << "the old session closes once its stream is done";
  const auto failed = exchange_many(5, 64 * 1024);
  EXPECT_TRUE(failed.empty()) << failed.front();
  EXPECT_TRUE(agent_.running());
}

TEST_F(TunnelAgentTest, WrongTokenExitsThree) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node({"--token", "s3cret"});
  start_agent(target.port(), {"--token", "wrong"});
  const auto code = agent_.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "the agent must give up on 401";
  EXPECT_EQ(*code, 3);
  EXPECT_NE(agent_err().find("401"), std::string::npos) << agent_err();
  EXPECT_NE(agent_err().find("bad or expired token"), std::string::npos) << "the node's reason line";
}

TEST_F(TunnelAgentTest, RightTokenIsAccepted) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node({"--token", "s3cret"});
  start_agent(target.port(), {"--token", "s3cret", "--label", "my-app"});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_NE(agent_out().find("tunnel-ready host=my-app.tunnel.test"), std::string::npos) << agent_out();
}

TEST_F(TunnelAgentTest, OwnershipLostCloseCodeExitsThree) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port());
  ASSERT_TRUE(wait_ready(1));
  ASSERT_TRUE(wait_until([&] { return node_sessions_up() >= 2; }, 10s));
  ASSERT_TRUE(node_.signal(SIGUSR2));  // the node closes its sessions with 4409
  const auto code = agent_.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "the agent must give up on 4409";
  EXPECT_EQ(*code, 3);
  EXPECT_NE(agent_err().find("4409"), std::string::npos) << agent_err();
}

TEST_F(TunnelAgentTest, WssWithCaFileVerifiesTheNodesName) {
  make_certificate("DNS:localhost");
  TcpTarget target(TcpTarget::Mode::echo);
  start_node({"--tls-cert", dir_.file("cert.pem"), "--tls-key", dir_.file("key.pem")});
  server_prefix_ = "wss://localhost:";
  start_agent(target.port(), {"--ca", dir_.file("cert.pem")});
  ASSERT_TRUE(wait_ready(1));
  const auto failed = exchange_many(10, 256 * 1024);
  EXPECT_TRUE(failed.empty()) << failed.front();
}

TEST_F(TunnelAgentTest, WssRefusesACertificateForAnotherName) {
  make_certificate("DNS:other.test");
  TcpTarget target(TcpTarget::Mode::echo);
  start_node({"--tls-cert", dir_.file("cert.pem"), "--tls-key", dir_.file("key.pem")});
  server_prefix_ = "wss://localhost:";
  start_agent(target.port(), {"--ca", dir_.file("cert.pem"), "--connections", "1"});
  ASSERT_TRUE(wait_until([&] { return count_of(agent_err(), "tunnel-connect-failed") >= 2; }, 10s))
      << "the handshake fails and is retried";
  EXPECT_NE(agent_err().find("certificate verify failed"), std::string::npos) << agent_err();
  EXPECT_EQ(count_of(agent_out(), "tunnel-ready"), 0u);
  EXPECT_TRUE(agent_.running());
}

TEST_F(TunnelAgentTest, UnreadableCaFileExitsTwo) {
  ProcessOptions o;
  o.argv = {bin("switchyard-tunnel"), "--server", "wss://127.0.0.1:1", "--id", "a", "--to", "127.0.0.1:1",
            "--ca", dir_.file("missing.pem")};
  EXPECT_EQ(run_process(o, 5s), 2);
}

TEST_F(TunnelAgentTest, SigtermExitsZero) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port());
  ASSERT_TRUE(wait_ready(1));
  ASSERT_TRUE(exchange_many(2, 4096).empty());
  ASSERT_TRUE(agent_.signal(SIGTERM));
  const auto code = agent_.wait_exit(5s);
  ASSERT_TRUE(code.has_value()) << "the agent must stop on SIGTERM";
  EXPECT_EQ(*code, 0);
}

TEST_F(TunnelAgentTest, BadFlagsExitTwo) {
  ProcessOptions o;
  o.argv = {bin("switchyard-tunnel"), "--server", "http://x", "--id", "a", "--to", "127.0.0.1:1"};
  EXPECT_EQ(run_process(o, 5s), 2);
}

TEST_F(TunnelAgentTest, GoAgentAgainstGoNode) {
  TcpTarget target(TcpTarget::Mode::echo);
  start_node();
  start_agent(target.port(), {}, /*go=*/true);
  ASSERT_TRUE(wait_ready(1));
  EXPECT_NE(agent_out().find("host=b7de88a94729b931.tunnel.test"), std::string::npos) << agent_out();
  const auto failed = exchange_many(20, 256 * 1024);
  EXPECT_TRUE(failed.empty()) << failed.front();
}

}  // namespace
}  // namespace sy::test
