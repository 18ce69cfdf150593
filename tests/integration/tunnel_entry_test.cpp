// Beyond HTTP (SPEC §7) with real processes: two `switchyard` nodes on one
// nats-server, `switchyard-tunnel` agents, a TCP echo target and
// switchyard-echo. A TCP tunnel is reached on its entry port, and through
// SOCKS5 and CONNECT on the other node; an HTTP tunnel through
// `curl --socks5-hostname` and `curl -p -x`, a declared address through
// `nc -X 5` and `curl --socks5`; everything that is not a tunnel is refused
// and never dialled; edge policies hold on both nodes.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/prom_text.hpp"
#include "tests/support/tcp_target.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;

class TunnelEntryTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure() || !cluster_) return;
    std::fprintf(stderr, "%s\n", cluster_->logs().c_str());
    for (auto& a : agents_) std::fprintf(stderr, "---- agent ----\n%s\n%s\n", a->out().c_str(), a->err().c_str());
  }

  void start(bool with_credentials, bool distinct_hosts = false) {
    ClusterOptions o;
    o.distinct_hosts = distinct_hosts;
    o.tcp = true;
    o.socks = true;
    if (with_credentials) {
      o.socks_user = "ops";
      o.socks_pass = "s0cks-pass";
    }
    o.workers = 1;
    cluster_ = std::make_unique<Cluster>(SY_BIN_DIR, o);
    ASSERT_TRUE(cluster_->start()) << cluster_->error();
  }

  Agent& start_agent(AgentOptions o) {
    agents_.push_back(std::make_unique<Agent>(cluster_->dir(), std::to_string(agents_.size()),
                                              std::string(SY_BIN_DIR) + "/switchyard-tunnel"));
    o.token = cluster_->token(o.id, o.label);
    EXPECT_TRUE(agents_.back()->start(o)) << agents_.back()->process().error();
    return *agents_.back();
  }

  EchoBackend& start_echo() {
    echo_ = std::make_unique<EchoBackend>(cluster_->dir(), test_binaries());
    EXPECT_TRUE(echo_->start("app"));
    return *echo_;
  }

  // Until node A's route table has `host` (the holder is B).
  void wait_routed_on_a(const std::string& host) {
    ASSERT_TRUE(wait_until([&] { return a().route_endpoints(host) >= 1; }, milliseconds(10000), milliseconds(50)))
        << host << " never reached node A's route table";
  }

  ClusterNode& a() { return cluster_->node(0); }
  ClusterNode& b() { return cluster_->node(1); }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<EchoBackend> echo_;
  std::vector<std::unique_ptr<Agent>> agents_;
};

// SOCKS5 CONNECT by hand on a connected socket: greeting (user/pass when
// given), then CONNECT to a domain name or an IPv4 address. The reply code,
// or -1 when the entry closed or refused the method/credentials.
int socks_connect(int fd, const std::string& user, const std::string& pass, const std::string& host, uint16_t port,
                  bool ipv4 = false) {
  std::string hello = user.empty() ? std::string("\x05\x01\x00", 3) : std::string("\x05\x01\x02", 3);
  if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size())) return -1;
  char got[10];
  if (::recv(fd, got, 2, MSG_WAITALL) != 2 || got[1] == static_cast<char>(0xff)) return -1;
  if (!user.empty()) {
    std::string auth = "\x01" + std::string(1, static_cast<char>(user.size())) + user +
                       std::string(1, static_cast<char>(pass.size())) + pass;
    ::send(fd, auth.data(), auth.size(), MSG_NOSIGNAL);
    if (::recv(fd, got, 2, MSG_WAITALL) != 2 || got[1] != 0) return -1;
  }
  std::string req("\x05\x01\x00", 3);
  if (ipv4) {
    unsigned a, b, c, d;
    std::sscanf(host.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
    req += std::string{'\x01', static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
  } else {
    req += '\x03' + std::string(1, static_cast<char>(host.size())) + host;
  }
  req += std::string{static_cast<char>(port >> 8), static_cast<char>(port & 0xff)};
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  if (::recv(fd, got, 10, MSG_WAITALL) != 10) return -1;
  return static_cast<unsigned char>(got[1]);
}

// A connected socket to ip:port (a node's own address), or -1.
int connect_to(const std::string& ip, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `bytes` of a pattern through an established relay to an echo target:
// empty on success.
std::string echo_over(int fd, size_t bytes, uint32_t seed) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>(pattern_byte(seed, i));
  if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return "short send";
  ::shutdown(fd, SHUT_WR);
  std::string back;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    back.append(buf, static_cast<size_t>(n));
  }
  if (back != out) return "echoed " + std::to_string(back.size()) + " bytes, not the " + std::to_string(bytes) + " sent";
  return {};
}

// A TCP tunnel, its agent on node B (127.0.0.2): B's entry port relays
// 1 MiB each way byte for byte, and so does the same port on node A
// (127.0.0.1), which A opened for the tunnel it does not hold; node A also
// reaches it by SOCKS5 (by host name) and by CONNECT; nothing else is
// reachable through either entry, and the refused destinations (a real
// listening port, an ordinary backend's route) never see a connection.
TEST_F(TunnelEntryTest, TcpTunnelThroughEntryPortsOfBothNodesSocksAndConnect) {
  ASSERT_NO_FATAL_FAILURE(start(true, true));
  TcpTarget target(TcpTarget::Mode::echo);
  TcpTarget bystander(TcpTarget::Mode::echo);
  AgentOptions o;
  o.servers = {b().tunnel_url()};
  o.id = "pg-1";
  o.label = "pg";
  o.to_port = target.port();
  o.extra = {"--tcp"};
  Agent& agent = start_agent(o);
  ASSERT_EQ(agent.wait_ready(), cluster_->host("pg"));
  const uint16_t entry = agent.wait_tcp_port(b().tunnel_url());
  ASSERT_NE(entry, 0) << agent.out();
  int direct = connect_to(b().ip, entry);
  ASSERT_GE(direct, 0) << "node B's entry port";
  EXPECT_EQ(echo_over(direct, 256 * 1024, 5), "");
  ::close(direct);
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a(cluster_->host("pg")));
  ASSERT_TRUE(wait_port_open(entry, milliseconds(10000))) << "node A never opened the tunnel's port";
  EXPECT_EQ(echo_exchange(entry, 1 << 20, 7), "") << "node A's port for the tunnel node B holds";

  int fd = connect_tcp(a().socks_port, 10000);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(socks_connect(fd, "ops", "s0cks-pass", cluster_->host("pg"), 5432), 0);
  EXPECT_EQ(echo_over(fd, 256 * 1024, 11), "");
  ::close(fd);

  fd = connect_tcp(a().router.port(), 10000);
  ASSERT_GE(fd, 0);
  const std::string authority = cluster_->host("pg") + ":5432";
  const std::string connect = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                              "\r\nProxy-Authorization: Basic b3BzOnMwY2tzLXBhc3M=\r\n\r\n";
  ::send(fd, connect.data(), connect.size(), MSG_NOSIGNAL);
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 200") << head;
  EXPECT_EQ(echo_over(fd, 64 * 1024, 13), "");
  ::close(fd);

  // Not a tunnel: refused by SOCKS (0x02) and CONNECT (403), never dialled.
  fd = connect_tcp(a().socks_port, 10000);
  EXPECT_EQ(socks_connect(fd, "ops", "s0cks-pass", "127.0.0.1", bystander.port(), true), 2);
  ::close(fd);
  fd = connect_tcp(a().socks_port, 10000);
  EXPECT_EQ(socks_connect(fd, "ops", "wrong", cluster_->host("pg"), 5432), -1) << "wrong credentials";
  ::close(fd);
  // Nor an ordinary backend's route, though the route table has it.
  NatsClient nats;
  ASSERT_TRUE(nats.connect(cluster_->nats().url()));
  ASSERT_TRUE(register_route(nats, "127.0.0.1", bystander.port(), {"plain.example"}, ""));
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a("plain.example"));
  fd = connect_tcp(a().socks_port, 10000);
  EXPECT_EQ(socks_connect(fd, "ops", "s0cks-pass", "plain.example", 80), 2);
  ::close(fd);
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(bystander.port()) + "/";
  r.extra_args = {"-p", "-x", "http://127.0.0.1:" + std::to_string(a().router.port()), "--proxy-user",
                  "ops:s0cks-pass"};
  HttpResponse refused = http(r);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.error.find("403"), std::string::npos) << refused.describe();
  r.url = "http://plain.example/";
  HttpResponse routed = http(r);
  EXPECT_NE(routed.error.find("403"), std::string::npos) << routed.describe();
  EXPECT_EQ(bystander.accepted(), 0) << "an entry dialled a destination that is not a tunnel";
  const std::string m = a().router.metrics();
  auto entries = [&](const char* entry, const char* result) {
    return metric_value(m, "tunnel_entry_connections_total", {{"entry", entry}, {"result", result}}).value_or(-1);
  };
  EXPECT_EQ(entries("socks", "ok"), 1.0) << m;
  EXPECT_EQ(entries("socks", "refused"), 2.0) << "the bystander and the backend route";
  EXPECT_EQ(entries("connect", "ok"), 1.0);
  EXPECT_EQ(entries("connect", "refused"), 2.0);
  EXPECT_EQ(entries("tcp", "ok"), 2.0) << "the visitor on A's port, and wait_port_open's probe";
  EXPECT_EQ(http_get(a().router.port(), "tcp.entries." + cluster_->options().domain, "/").status, 404)
      << "the TCP directory is no host to reach a tunnel by";
  const std::string mb = b().router.metrics();
  EXPECT_EQ(metric_value(mb, "tunnel_entry_connections_total", {{"entry", "tcp"}, {"result", "ok"}}), 1.0) << mb;
  EXPECT_EQ(metric_value(mb, "tunnel_entry_connections_total", {{"entry", "connect"}, {"result", "ok"}}), 4.0)
      << "A's port (the probe and the visitor), SOCKS and CONNECT visitors each came to B as a signed CONNECT";
}

// An HTTP tunnel held by node B, reached from node A as a user would:
// curl --socks5-hostname and curl -p -x (CONNECT); wrong or missing proxy
// credentials are 407 / refused.
TEST_F(TunnelEntryTest, HttpTunnelThroughSocksAndConnectWithCurl) {
  ASSERT_NO_FATAL_FAILURE(start(true));
  EchoBackend& app = start_echo();
  AgentOptions o;
  o.servers = {b().tunnel_url()};
  o.id = "web-1";
  o.label = "web";
  o.to_port = app.port();
  ASSERT_EQ(start_agent(o).wait_ready(), cluster_->host("web"));
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a(cluster_->host("web")));
  const std::string url = "http://" + cluster_->host("web") + "/hello";

  HttpRequest r;
  r.url = url;
  r.extra_args = {"--socks5-hostname", "ops:s0cks-pass@127.0.0.1:" + std::to_string(a().socks_port)};
  HttpResponse socks = http(r);
  EXPECT_EQ(socks.status, 200) << socks.describe();
  EXPECT_EQ(parse_echo(socks.body).name, "app");

  r.extra_args = {"-p", "-x", "http://127.0.0.1:" + std::to_string(a().router.port()), "--proxy-user",
                  "ops:s0cks-pass"};
  HttpResponse connect = http(r);
  EXPECT_EQ(connect.status, 200) << connect.describe();
  EXPECT_EQ(parse_echo(connect.body).name, "app");

  r.extra_args = {"-p", "-x", "http://127.0.0.1:" + std::to_string(a().router.port()), "--proxy-user", "ops:nope"};
  HttpResponse wrong = http(r);
  EXPECT_NE(wrong.error.find("407"), std::string::npos) << wrong.describe();
  r.extra_args = {"--socks5-hostname", "ops:nope@127.0.0.1:" + std::to_string(a().socks_port)};
  EXPECT_NE(http(r).exit_code, 0);
}

// An agent's declared address (seed 002: reach an agent by its original
// address): `nc -X 5` and `curl --socks5` name 10.1.2.3:port on node A and
// reach the target behind the agent on node B; another port of that
// address is refused.
TEST_F(TunnelEntryTest, DeclaredAddressReachedThroughSocksByIp) {
  ASSERT_NO_FATAL_FAILURE(start(false));
  EchoBackend& app = start_echo();
  AgentOptions o;
  o.servers = {b().tunnel_url()};
  o.id = "host-10-1-2-3";
  o.to_port = app.port();
  o.extra = {"--advertise-address", "10.1.2.3:8080"};
  ASSERT_FALSE(start_agent(o).wait_ready().empty());
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a("10-1-2-3-8080.addr." + cluster_->options().domain));

  HttpRequest r;
  r.url = "http://10.1.2.3:8080/declared";
  r.extra_args = {"--socks5", "127.0.0.1:" + std::to_string(a().socks_port)};
  HttpResponse viacurl = http(r);
  EXPECT_EQ(viacurl.status, 200) << viacurl.describe();
  EXPECT_EQ(parse_echo(viacurl.body).name, "app");
  r.url = "http://10.1.2.3:8081/declared";
  EXPECT_NE(http(r).exit_code, 0) << "another port of the declared address was reachable";
  r.url = "http://10.1.2.3:8080/declared";

  // Hostile bytes on the SOCKS port: closed at once, and the entry keeps serving.
  for (const std::string& junk : {std::string("GET / HTTP/1.1\r\n\r\n"), std::string("\x05\x00", 2),
                                  std::string("\x05\x01\x00\x05\x09\x00\x01\x0a\x01\x02\x03\x00\x16", 13), std::string(5000, '\x05')}) {
    const int fd = connect_tcp(a().socks_port, 10000);
    ASSERT_GE(fd, 0);
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    char buf[64];
    ssize_t n;
    size_t total = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) total += static_cast<size_t>(n);
    const int err = errno;
    EXPECT_LE(total, 12u) << "at most a method choice and a refusal";
    EXPECT_TRUE(n == 0 || err == ECONNRESET) << "the entry closes (unread junk makes it a reset), not a timeout";
    ::close(fd);
  }
  EXPECT_EQ(http(r).exit_code, 0) << "the entry still serves";

  // nc as a user would: the request on stdin, the answer on stdout.
  const std::string in = cluster_->dir().write_file("nc.in", "GET /nc HTTP/1.0\r\nHost: x\r\n\r\n");
  ProcessOptions p;
  p.argv = {"nc", "-N", "-w", "10", "-X", "5", "-x", "127.0.0.1:" + std::to_string(a().socks_port), "10.1.2.3",
            "8080"};
  p.stdin_path = in;
  p.log_path = cluster_->dir().file("nc.out");
  EXPECT_EQ(run_process(p, milliseconds(15000)), 0);
  const std::string answer = read_file(p.log_path);
  EXPECT_EQ(answer.substr(0, 5), "HTTP/") << answer;
  EXPECT_EQ(answer.substr(8, 4), " 200") << answer;
  EXPECT_NE(answer.find("/nc"), std::string::npos) << "the echo names the path it saw: " << answer;
}

// Edge policy, declared by the agent on node B and enforced by node A,
// which never saw it: credentials (401 with WWW-Authenticate, then 200),
// an allow list the client is outside of (403), a rate (429), each with
// its X-Cf-Routererror; a tunnel that wants credentials is not reachable
// raw through the entries.
TEST_F(TunnelEntryTest, EdgePolicyHoldsOnEveryNode) {
  ASSERT_NO_FATAL_FAILURE(start(false));
  EchoBackend& app = start_echo();
  auto agent = [&](const std::string& id, const std::string& label, std::vector<std::string> extra) {
    AgentOptions o;
    o.servers = {b().tunnel_url()};
    o.id = id;
    o.label = label;
    o.to_port = app.port();
    o.extra = std::move(extra);
    ASSERT_EQ(start_agent(o).wait_ready(), cluster_->host(label));
    ASSERT_NO_FATAL_FAILURE(wait_routed_on_a(cluster_->host(label)));
  };
  ASSERT_NO_FATAL_FAILURE(agent("auth-1", "locked", {"--basic-auth", "alice:wonder"}));
  ASSERT_NO_FATAL_FAILURE(agent("allow-1", "fenced", {"--allow", "10.0.0.0/8"}));
  ASSERT_NO_FATAL_FAILURE(agent("rate-1", "slow", {"--rate", "1/m"}));
  for (ClusterNode* n : {&a(), &b()}) {
    HttpResponse r = http_get(n->router.port(), cluster_->host("locked"), "/");
    EXPECT_EQ(r.status, 401) << n->id << " " << r.describe();
    EXPECT_EQ(r.header("x-cf-routererror").value_or(""), "edge_unauthorized") << n->id;
    EXPECT_NE(r.header("www-authenticate").value_or("").find("Basic"), std::string::npos) << n->id;
    HttpRequest with;
    with.url = "http://127.0.0.1:" + std::to_string(n->router.port()) + "/";
    with.host = cluster_->host("locked");
    with.user = "alice:wonder";
    EXPECT_EQ(http(with).status, 200) << n->id;
    with.user = "alice:nope";
    EXPECT_EQ(http(with).status, 401) << n->id;

    r = http_get(n->router.port(), cluster_->host("fenced"), "/");
    EXPECT_EQ(r.status, 403) << n->id << " " << r.describe();
    EXPECT_EQ(r.header("x-cf-routererror").value_or(""), "edge_forbidden") << n->id;

    // 1/m: the first request on a node passes, the next within the minute is 429.
    EXPECT_EQ(http_get(n->router.port(), cluster_->host("slow"), "/").status, 200) << n->id;
    r = http_get(n->router.port(), cluster_->host("slow"), "/");
    EXPECT_EQ(r.status, 429) << n->id << " " << r.describe();
    EXPECT_EQ(r.header("x-cf-routererror").value_or(""), "edge_rate_limited") << n->id;
  }
  HttpRequest raw;
  raw.url = "http://" + cluster_->host("locked") + "/";
  raw.user = "alice:wonder";
  raw.extra_args = {"--socks5-hostname", "127.0.0.1:" + std::to_string(a().socks_port)};
  EXPECT_NE(http(raw).exit_code, 0) << "a tunnel with credentials was reachable raw through SOCKS";
}

// CONNECT's node-to-node rules: a request that says another node sent it is
// never forwarded again (502 from a node that does not hold the tunnel, the
// holder's connection never opened); one that names this node is refused as
// a loop; and an unsigned claim does not skip the tunnel's edge policy.
TEST_F(TunnelEntryTest, ConnectFromANodeIsNeverForwardedAndForgedClaimsSkipNothing) {
  ASSERT_NO_FATAL_FAILURE(start(false));
  TcpTarget target(TcpTarget::Mode::echo);
  AgentOptions o;
  o.servers = {b().tunnel_url()};
  o.id = "db-1";
  o.label = "db";
  o.to_port = target.port();
  o.extra = {"--tcp", "--allow", "10.0.0.0/8"};
  ASSERT_EQ(start_agent(o).wait_ready(), cluster_->host("db"));
  o.id = "open-1";
  o.label = "open";
  o.extra = {"--tcp"};
  ASSERT_EQ(start_agent(o).wait_ready(), cluster_->host("open"));
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a(cluster_->host("db")));
  ASSERT_NO_FATAL_FAILURE(wait_routed_on_a(cluster_->host("open")));
  auto connect_status = [&](ClusterNode& n, const std::string& extra, const std::string& label = "db") {
    const int fd = connect_tcp(n.router.port(), 10000);
    const std::string authority = cluster_->host(label) + ":5432";
    const std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n" + extra + "\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
    ::close(fd);
    return head;
  };
  const std::string forged = "Switchyard-Forwarded-Node: node-x; ts=1; sig=00\r\n";
  std::string head = connect_status(a(), forged);
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 403") << "the allow list still applies: " << head;
  EXPECT_NE(head.find("edge_forbidden"), std::string::npos) << head;
  head = connect_status(a(), "Switchyard-Forwarded-Node: node-a\r\n");
  EXPECT_NE(head.find("forwarding_loop"), std::string::npos) << head;
  head = connect_status(a(), forged, "open");
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 502") << "A does not hold it and must not pass it on: " << head;
  EXPECT_EQ(target.accepted(), 0) << "a refused CONNECT reached the target";
  EXPECT_EQ(connect_status(a(), "", "open").substr(0, 12), "HTTP/1.1 200") << "without the claim A forwards";
  EXPECT_EQ(metric_value(b().router.metrics(), "tunnel_entry_connections_total", {{"entry", "connect"}, {"result", "ok"}})
                .value_or(-1),
            1.0)
      << "only the CONNECT without a node's claim reached B";
}

}  // namespace
}  // namespace sy::test
