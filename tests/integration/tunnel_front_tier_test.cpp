// Tunnels on nodes behind HAProxy (SPEC §5.3 with `enable_proxy: true`, as
// every node of deploy/ runs), two nodes on loopback sharing one nats-server,
// a real switchyard-tunnel agent on node A:
//  - node B forwards a request for the tunnel host to node A over a
//    connection that starts with a PROXY v2 header (node A takes nothing
//    else), and the client address survives (signed forwarded-node header);
//  - a node started after the agent connected learns the tunnel host from
//    the holder at once (router.start), not at the holder's next heartbeat
//    (30 s here).
// tests/integration/production_test.cpp covers the same with HAProxy and
// network namespaces (root only); this one runs anywhere.
#include <arpa/inet.h>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_socket.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kTunnelId = "front-tier-agent";
constexpr const char* kTunnelHost = "demo.tunnel.test";

// PROXY v2, PROXY command, TCP over IPv4.
std::string proxy_v2(const std::string& src_ip, uint16_t src_port) {
  std::string out("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
  in_addr src{};
  in_addr dst{};
  ::inet_pton(AF_INET, src_ip.c_str(), &src);
  ::inet_pton(AF_INET, "127.0.0.1", &dst);
  out.append(reinterpret_cast<const char*>(&src), 4);
  out.append(reinterpret_cast<const char*>(&dst), 4);
  out += static_cast<char>(src_port >> 8);
  out += static_cast<char>(src_port & 0xff);
  out += static_cast<char>(0);
  out += static_cast<char>(80);
  return out;
}

class TunnelFrontTierTest : public RouterTest {
 protected:
  TunnelFrontTierTest() : node_b_(dir_b_, test_binaries()) {}

  void TearDown() override {
    agent_.stop(milliseconds(3000));
    if (HasFailure()) {
      std::fprintf(stderr, "---- node B log ----\n%s\n", tail(node_b_.log()).c_str());
      std::fprintf(stderr, "---- agent log ----\n%s\n", tail(agent_.log()).c_str());
    }
    RouterTest::TearDown();
  }

  RouterConfig node_config(const std::string& node_id) {
    RouterConfig c;
    c.port = free_port();
    const uint16_t tunnel_port = free_port();
    if (node_id == "node-a") tunnel_port_a_ = tunnel_port;
    c.extra_yaml = "enable_proxy: true\ntunnel:\n  host: 127.0.0.1\n  port: " + std::to_string(tunnel_port) +
                   "\n  domain: tunnel.test\n  secret: front-tier-secret\n  advertise: 127.0.0.1:" +
                   std::to_string(c.port) + "\n  node_id: " + node_id + "\n  register_interval: 30s\n";
    return c;
  }

  void start_node_b() {
    ASSERT_TRUE(node_b_.start(node_config("node-b"), *nats_)) << node_b_.process().error();
    ASSERT_TRUE(node_b_.wait_healthy()) << node_b_.log();
  }

  // The agent on node A, serving the echo backend; waits until node A holds it.
  void start_agent(uint16_t target_port) {
    const std::string token =
        mint_token(test_binaries(), dir_, router_.config_path(), kTunnelId, {"--label", "demo"});
    ASSERT_FALSE(token.empty()) << read_file(dir_.file("token.err"));
    ProcessOptions o;
    o.argv = {std::string(SY_BIN_DIR) + "/switchyard-tunnel", "--server",
              "ws://127.0.0.1:" + std::to_string(tunnel_port_a_), "--id", kTunnelId, "--token", token, "--label",
              "demo", "--to", "127.0.0.1:" + std::to_string(target_port), "--connections", "1"};
    o.log_path = dir_.file("agent.log");
    ASSERT_TRUE(agent_.start(o)) << agent_.error();
    ASSERT_TRUE(wait_until([&] { return knows(router_, kTunnelHost); }, seconds(10), milliseconds(20)))
        << "node A never listed the tunnel host; agent log:\n"
        << agent_.log();
  }

  bool knows(const Router& node, const std::string& host) const {
    const std::string auth = node.config().status_user + ":" + node.config().status_pass;
    return node.status_get("/routes", auth).body.find("\"" + host + "\"") != std::string::npos;
  }

  TempDir dir_b_{"sy-test-node-b"};
  Router node_b_;
  Process agent_;
  uint16_t tunnel_port_a_ = 0;
};

TEST_F(TunnelFrontTierTest, NodeToNodeForwardingStartsWithProxyHeader) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  ASSERT_NO_FATAL_FAILURE(start_router(node_config("node-a")));
  ASSERT_NO_FATAL_FAILURE(start_node_b());
  EchoBackend& echo = start_echo("private");
  ASSERT_NO_FATAL_FAILURE(start_agent(echo.port()));
  ASSERT_TRUE(wait_until([&] { return knows(node_b_, kTunnelHost); }, seconds(10), milliseconds(20)));

  // To node B, as HAProxy would send it: B does not hold the tunnel and
  // forwards to A, whose listener takes only PROXY connections.
  for (int i = 0; i < 3; ++i) {
    RawSocket socket;
    ASSERT_TRUE(socket.connect(node_b_.port()));
    ASSERT_TRUE(socket.send(proxy_v2("10.9.8.7", 4242) + "GET /via-b/" + std::to_string(i) +
                            " HTTP/1.1\r\nHost: " + kTunnelHost + "\r\nConnection: close\r\n\r\n"));
    const RawResponse r = socket.read_response(seconds(10));
    ASSERT_TRUE(r.complete) << socket.received();
    ASSERT_EQ(r.status, 200) << r.head << "\n" << r.body << "\nnode A log:\n" << tail(router_.log());
    const EchoSeen seen = parse_echo(r.body);
    EXPECT_EQ(seen.name, "private");
    EXPECT_EQ(seen.header("x-forwarded-for"), "10.9.8.7") << r.body;
  }
}

TEST_F(TunnelFrontTierTest, NodeStartedLaterLearnsTunnelHostsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  ASSERT_NO_FATAL_FAILURE(start_router(node_config("node-a")));
  EchoBackend& echo = start_echo("private");
  ASSERT_NO_FATAL_FAILURE(start_agent(echo.port()));

  // Node B starts now; node A's next heartbeat is ~30 s away.
  ASSERT_NO_FATAL_FAILURE(start_node_b());
  const auto healthy = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return knows(node_b_, kTunnelHost); }, seconds(3), milliseconds(20)))
      << "node B did not learn the tunnel host within 3 s of starting (router.start unanswered)";
  const auto learned = std::chrono::steady_clock::now() - healthy;
  EXPECT_LT(learned, seconds(3));
}

}  // namespace
}  // namespace sy::test
