// The front tier of docs/OPERATIONS.md: the real HAProxy with
// haproxy/haproxy.cfg, as shipped, in front of two switchyard nodes
// (enable_proxy: true) that share one nats-server. HAProxy finds the nodes
// the way it does in Kubernetes: the A records of one name (here dnsmasq
// answers nodes.front.test with 127.0.0.2 and 127.0.0.3, where the nodes
// listen on one port pair). A route registered once is served by both
// nodes; TLS is terminated with the certificate directory; the client address
// travels in PROXY protocol v2 to X-Forwarded-For and the access log; a node
// without a PROXY header is refused; a draining node (SIGUSR1) is taken out
// by HAProxy's /health checks before it stops, with no failed request. And
// `haproxy -c` accepts the file with test certificates and a test resolver.
#include <arpa/inet.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/haproxy.hpp"
#include "tests/support/raw_socket.hpp"

#ifndef SY_SOURCE_DIR
#error "front_tier_test needs SY_SOURCE_DIR (the source directory, for haproxy/haproxy.cfg)"
#endif

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kHost = "front.example.com";
constexpr const char* kNodesName = "nodes.front.test";
constexpr const char* kNode1Ip = "127.0.0.2";
constexpr const char* kNode2Ip = "127.0.0.3";

// A self-signed certificate for `name` as HAProxy's crt directories want it:
// certificate and key in one PEM file, <dir>/<name>.pem. False if openssl
// failed.
bool make_cert_dir(const TempDir& dir, const std::string& cert_dir, const std::string& name) {
  ProcessOptions mkdir;
  mkdir.argv = {"mkdir", "-p", cert_dir};
  if (run_process(mkdir, std::chrono::seconds(5)) != std::optional<int>(0)) return false;
  ProcessOptions req;
  req.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", dir.file("front-key.pem"), "-out", dir.file("front-cert.pem"), "-days", "2",
              "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name + ",DNS:*." + name};
  req.log_path = dir.file("openssl.log");
  if (run_process(req, std::chrono::seconds(20)) != std::optional<int>(0)) return false;
  return !dir.write_file(cert_dir.substr(dir.path().size() + 1) + "/" + name + ".pem",
                         read_file(dir.file("front-cert.pem")) + read_file(dir.file("front-key.pem")))
              .empty();
}

// Access-log lines whose request line contains `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

// A PROXY protocol v2 header (PROXY command, TCP over IPv4).
std::string proxy_v2_header(const std::string& src_ip, uint16_t src_port, const std::string& dst_ip,
                            uint16_t dst_port) {
  std::string out("\r\n\r\n\0\r\nQUIT\n", 12);
  out += static_cast<char>(0x21);  // version 2, PROXY
  out += static_cast<char>(0x11);  // AF_INET, STREAM
  out += static_cast<char>(0);
  out += static_cast<char>(12);
  in_addr src{};
  in_addr dst{};
  ::inet_pton(AF_INET, src_ip.c_str(), &src);
  ::inet_pton(AF_INET, dst_ip.c_str(), &dst);
  out.append(reinterpret_cast<const char*>(&src), 4);
  out.append(reinterpret_cast<const char*>(&dst), 4);
  out += static_cast<char>(src_port >> 8);
  out += static_cast<char>(src_port & 0xff);
  out += static_cast<char>(dst_port >> 8);
  out += static_cast<char>(dst_port & 0xff);
  return out;
}

class FrontTierTest : public RouterTest {
 protected:
  FrontTierTest() : node2_(dir2_, test_binaries()) {}

  void TearDown() override {
    if (!HasFailure()) return;
    dump_logs();
    std::fprintf(stderr, "---- node2 switchyard log (%s) ----\n%s\n", node2_.config_path().c_str(),
                 tail(node2_.log()).c_str());
    std::fprintf(stderr, "---- haproxy log ----\n%s\n", tail(haproxy_.log()).c_str());
    std::fprintf(stderr, "---- node1 access log ----\n%s\n", tail(node1_access_log(), 3000).c_str());
    std::fprintf(stderr, "---- node2 access log ----\n%s\n", tail(node2_access_log(), 3000).c_str());
  }

  // Both nodes on one port pair, each on its own loopback address (as pods
  // behind a headless Service).
  RouterConfig node_config() {
    if (node_port_ == 0) {
      node_port_ = distinct_port();
      status_port_ = distinct_port();
    }
    RouterConfig config;
    config.extra_yaml = "enable_proxy: true\n";
    config.port = node_port_;
    config.status_port = status_port_;
    return config;
  }

  // A free loopback port none of the others uses.
  uint16_t distinct_port() {
    uint16_t port = free_port();
    while (port != 0 && std::find(used_.begin(), used_.end(), port) != used_.end()) port = free_port();
    used_.push_back(port);
    return port;
  }

  // nats-server, node1 (router_), node2 (node2_), then dnsmasq and HAProxy.
  void start_tier(RouterConfig config) {
    ASSERT_NO_FATAL_FAILURE(start_nats());
    config.listen_host = kNode1Ip;
    ASSERT_NO_FATAL_FAILURE(start_router(config));
    config.listen_host = kNode2Ip;
    ASSERT_TRUE(node2_.start(config, *nats_)) << node2_.process().error();
    ASSERT_TRUE(node2_.wait_healthy()) << "node2 not healthy; log:\n" << node2_.log();
    ASSERT_NO_FATAL_FAILURE(start_haproxy());
  }

  // HAProxy's environment: the shipped file's variables for this tier.
  std::vector<std::pair<std::string, std::string>> haproxy_env(const std::string& dns) {
    return {
        {"SY_HTTP_BIND", "127.0.0.1:" + std::to_string(front_port_)},
        {"SY_HTTPS_BIND", "127.0.0.1:" + std::to_string(tls_port_)},
        {"SY_STATS_BIND", "127.0.0.1:" + std::to_string(stats_port_)},
        {"SY_CERT_DIR", cert_dir_ + "/"},
        {"SY_DNS", dns},
        {"SY_NODES", kNodesName},
        {"SY_MAX_NODES", "4"},
        {"SY_NODE_PORT", std::to_string(node_port_)},
        {"SY_NODE_STATUS_PORT", std::to_string(status_port_)},
        {"SY_NODE_TUNNEL_PORT", std::to_string(node_port_)},
        {"SY_TUNNEL_HOST", "tunnel.front.test"},
    };
  }

  void prepare_haproxy() {
    front_port_ = distinct_port();
    tls_port_ = distinct_port();
    stats_port_ = distinct_port();
    ASSERT_NE(front_port_, 0);
    ASSERT_TRUE(make_cert_dir(dir_, cert_dir_, "front.example.com")) << read_file(dir_.file("openssl.log"));
  }

  void start_haproxy() {
    ASSERT_NO_FATAL_FAILURE(prepare_haproxy());
    DnsmasqOptions dns;
    dns.port = distinct_port();
    dns.records = {{kNodesName, kNode1Ip}, {kNodesName, kNode2Ip}};
    ASSERT_TRUE(dnsmasq_.start(dns, dir_.file("dnsmasq.log"))) << dnsmasq_.error();
    ASSERT_TRUE(haproxy_.start(std::string(SY_SOURCE_DIR) + "/haproxy/haproxy.cfg", dir_.file("haproxy.log"),
                               front_port_, haproxy_env(dnsmasq_.address())))
        << haproxy_.error();
  }

  // Registers the echo backend once over NATS and waits until both nodes
  // list the route and HAProxy serves it.
  void register_front_route(uint16_t backend_port) {
    ASSERT_TRUE(register_route(client_, backend_port, {kHost}, R"("app":"front-app","private_instance_id":"f-1")"))
        << client_.error();
    const std::string auth = router_.config().status_user + ":" + router_.config().status_pass;
    for (Router* node : {&router_, &node2_}) {
      EXPECT_TRUE(wait_until(
          [&] {
            const std::string quoted = std::string("\"") + kHost + "\"";
            return node->status_get("/routes", auth).body.find(quoted) != std::string::npos;
          },
          seconds(10), milliseconds(50)))
          << "node on port " << node->port() << " never listed the route: " << node->status_get("/routes", auth).body;
    }
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return front_get("/ready").status == 200; }, seconds(10), milliseconds(50)))
        << "not served through haproxy: " << front_get("/ready").describe();
  }

  HttpResponse front_get(const std::string& path, milliseconds timeout = milliseconds(5000)) const {
    return http_get(front_port_, kHost, path, timeout);
  }

  std::string node1_access_log() const { return read_file(dir_.file("access.log")); }
  std::string node2_access_log() const { return read_file(dir2_.file("access.log")); }

  TempDir dir2_{"sy-test-node2"};
  Router node2_;
  Dnsmasq dnsmasq_;
  Haproxy haproxy_;
  std::vector<uint16_t> used_;
  uint16_t node_port_ = 0;
  uint16_t status_port_ = 0;
  uint16_t front_port_ = 0;
  uint16_t tls_port_ = 0;
  uint16_t stats_port_ = 0;
  std::string cert_dir_ = dir_.file("certs");
};

// `haproxy -c` on the file as shipped, with test certificates and a resolver
// at a test address; and the check means something: without a certificate in
// the directory the same file is refused.
TEST_F(FrontTierTest, HaproxyConfigChecks) {
  ASSERT_NO_FATAL_FAILURE(prepare_haproxy());
  node_config();
  ProcessOptions check;
  check.argv = {haproxy_binary(), "-c", "-f", std::string(SY_SOURCE_DIR) + "/haproxy/haproxy.cfg"};
  check.env = haproxy_env("127.0.0.1:" + std::to_string(distinct_port()));
  check.log_path = dir_.file("haproxy-check.log");
  EXPECT_EQ(run_process(check, seconds(30)), std::optional<int>(0)) << read_file(check.log_path);
  EXPECT_NE(read_file(check.log_path).find("Configuration file is valid"), std::string::npos)
      << read_file(check.log_path);

  const std::string empty_dir = dir_.file("no-certs");
  ProcessOptions mkdir;
  mkdir.argv = {"mkdir", "-p", empty_dir};
  ASSERT_EQ(run_process(mkdir, seconds(5)), std::optional<int>(0));
  for (auto& [name, value] : check.env) {
    if (name == "SY_CERT_DIR") value = empty_dir + "/";
  }
  check.log_path = dir_.file("haproxy-check-nocert.log");
  EXPECT_NE(run_process(check, seconds(30)), std::optional<int>(0))
      << "haproxy -c accepted a TLS listener without certificates: " << read_file(check.log_path);
}

// TLS terminated by HAProxy with the directory's certificate (SNI), the node
// told so in X-Forwarded-Proto; both DNS-discovered nodes UP on the stats
// page; HAProxy's Prometheus endpoint answers.
TEST_F(FrontTierTest, TlsStatsAndDnsDiscovery) {
  ASSERT_NO_FATAL_FAILURE(start_tier(node_config()));
  EchoBackend& echo = start_echo("front");
  ASSERT_NO_FATAL_FAILURE(register_front_route(echo.port()));

  HttpRequest tls;
  tls.url = std::string("https://") + kHost + ":" + std::to_string(tls_port_) + "/over-tls";
  tls.resolve = std::string(kHost) + ":" + std::to_string(tls_port_) + ":127.0.0.1";
  tls.extra_args = {"--cacert", dir_.file("front-cert.pem")};
  const HttpResponse response = http(tls);
  ASSERT_EQ(response.status, 200) << response.describe();
  const EchoSeen seen = parse_echo(response.body);
  EXPECT_EQ(seen.target, "/over-tls");
  EXPECT_EQ(seen.header("x-forwarded-proto"), "https") << response.body;
  EXPECT_EQ(seen.header("x-forwarded-for"), "127.0.0.1") << response.body;

  // A client's own X-Forwarded-Proto does not pass on plain HTTP.
  HttpRequest spoof;
  spoof.url = "http://127.0.0.1:" + std::to_string(front_port_) + "/spoof";
  spoof.host = kHost;
  spoof.headers = {"X-Forwarded-Proto: https"};
  const HttpResponse spoofed = http(spoof);
  ASSERT_EQ(spoofed.status, 200) << spoofed.describe();
  EXPECT_EQ(parse_echo(spoofed.body).header("x-forwarded-proto"), "http") << spoofed.body;

  // The stats page lists both nodes found through DNS, UP.
  std::string csv;
  EXPECT_TRUE(wait_until(
      [&] {
        csv = http_get(stats_port_, "stats", "/stats;csv").body;
        int up = 0;
        std::istringstream in(csv);
        std::string line;
        while (std::getline(in, line)) {
          if (line.rfind("switchyard,node", 0) == 0 && line.find(",UP,") != std::string::npos) ++up;
        }
        return up == 2;
      },
      seconds(10), milliseconds(100)))
      << "stats page does not show two nodes UP:\n"
      << csv;
  EXPECT_NE(csv.find(std::string(kNode1Ip) + ":" + std::to_string(node_port_)), std::string::npos) << csv;
  EXPECT_NE(csv.find(std::string(kNode2Ip) + ":" + std::to_string(node_port_)), std::string::npos) << csv;
  const HttpResponse prom = http_get(stats_port_, "stats", "/metrics");
  EXPECT_EQ(prom.status, 200) << prom.describe();
  EXPECT_NE(prom.body.find("haproxy_backend_active_servers{proxy=\"switchyard\"} 2"), std::string::npos)
      << prom.body.substr(0, 2000);
}

TEST_F(FrontTierTest, RouteRegisteredOnceIsServedByBothNodes) {
  ASSERT_NO_FATAL_FAILURE(start_tier(node_config()));
  EchoBackend& echo = start_echo("front");
  ASSERT_NO_FATAL_FAILURE(register_front_route(echo.port()));

  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    const HttpResponse response = front_get("/spread/" + std::to_string(i));
    ASSERT_EQ(response.status, 200) << "request " << i << ": " << response.describe();
    const EchoSeen seen = parse_echo(response.body);
    EXPECT_EQ(seen.name, "front");
    EXPECT_EQ(seen.target, "/spread/" + std::to_string(i));
  }
  size_t on_node1 = 0;
  size_t on_node2 = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        on_node1 = lines_with(node1_access_log(), "\"GET /spread/").size();
        on_node2 = lines_with(node2_access_log(), "\"GET /spread/").size();
        return on_node1 + on_node2 >= static_cast<size_t>(kRequests);
      },
      seconds(5), milliseconds(20)));
  EXPECT_EQ(on_node1 + on_node2, static_cast<size_t>(kRequests));
  EXPECT_GE(on_node1, 1u) << "node1 served none of " << kRequests << " requests";
  EXPECT_GE(on_node2, 1u) << "node2 served none of " << kRequests << " requests";
}

TEST_F(FrontTierTest, ClientAddressTravelsInProxyV2) {
  ASSERT_NO_FATAL_FAILURE(start_tier(node_config()));
  EchoBackend& echo = start_echo("front");
  ASSERT_NO_FATAL_FAILURE(register_front_route(echo.port()));

  // Through HAProxy from a socket whose local port we know: the node must
  // log that port (the PROXY source), not HAProxy's own connection.
  RawSocket socket;
  ASSERT_TRUE(socket.connect(front_port_));
  const uint16_t client_port = socket.local_port();
  ASSERT_NE(client_port, 0);
  ASSERT_TRUE(socket.send(std::string("GET /xff-through-haproxy HTTP/1.1\r\nHost: ") + kHost +
                          "\r\nConnection: close\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(10));
  ASSERT_TRUE(response.complete) << socket.received();
  ASSERT_EQ(response.status, 200) << response.head;
  const EchoSeen seen = parse_echo(response.body);
  EXPECT_EQ(seen.header("x-forwarded-for"), "127.0.0.1") << response.body;
  EXPECT_EQ(seen.header("x-forwarded-proto"), "http") << response.body;

  const std::string client = "\"127.0.0.1:" + std::to_string(client_port) + "\"";
  std::vector<std::string> logged;
  EXPECT_TRUE(wait_until(
      [&] {
        logged = lines_with(node1_access_log() + node2_access_log(), "\"GET /xff-through-haproxy HTTP/1.1\" 200");
        return !logged.empty();
      },
      seconds(5), milliseconds(20)))
      << "request not in either node's access log";
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find(" \"-\" \"-\" " + client + " "), std::string::npos)
      << "access log does not name the client " << client << " (the PROXY v2 source):\n"
      << logged[0];

  // Straight to node1 with a PROXY v2 header naming another source: that
  // address is the client for X-Forwarded-For and the access log.
  RawSocket direct;
  ASSERT_TRUE(direct.connect(kNode1Ip, router_.port()));
  ASSERT_TRUE(direct.send(proxy_v2_header("10.9.8.7", 4242, kNode1Ip, router_.port()) +
                          "GET /xff-direct HTTP/1.1\r\nHost: " + kHost + "\r\nConnection: close\r\n\r\n"));
  const RawResponse direct_response = direct.read_response(seconds(10));
  ASSERT_TRUE(direct_response.complete) << direct.received();
  ASSERT_EQ(direct_response.status, 200) << direct_response.head;
  EXPECT_EQ(parse_echo(direct_response.body).header("x-forwarded-for"), "10.9.8.7") << direct_response.body;
  EXPECT_TRUE(wait_until(
      [&] {
        const auto lines = lines_with(node1_access_log(), "\"GET /xff-direct HTTP/1.1\" 200");
        return lines.size() == 1 && lines[0].find("\"10.9.8.7:4242\"") != std::string::npos;
      },
      seconds(5), milliseconds(20)))
      << "node1 did not log 10.9.8.7:4242 for /xff-direct:\n"
      << node1_access_log();

  // Without a PROXY header a node with enable_proxy refuses the connection:
  // curl gets no response at all.
  HttpRequest plain;
  plain.url = router_.url("/no-proxy-header");
  plain.host = kHost;
  plain.timeout = seconds(5);
  const HttpResponse refused = http(plain);
  EXPECT_EQ(refused.status, 0) << refused.describe();
  EXPECT_NE(refused.exit_code, 0) << refused.describe();
  // The same with a raw socket: closed without a single byte.
  RawSocket raw;
  ASSERT_TRUE(raw.connect(kNode2Ip, node2_.port()));
  ASSERT_TRUE(raw.send(std::string("GET /no-proxy-header HTTP/1.1\r\nHost: ") + kHost + "\r\n\r\n"));
  EXPECT_TRUE(raw.wait_closed(seconds(5))) << "node kept a connection without a PROXY header open";
  EXPECT_TRUE(raw.received().empty()) << raw.received();
  EXPECT_TRUE(lines_with(node1_access_log() + node2_access_log(), "/no-proxy-header").empty())
      << "a request without a PROXY header was served";
  EXPECT_EQ(echo.process().running(), true);
}

TEST_F(FrontTierTest, DrainingNodeIsTakenOutWithoutFailedRequests) {
  RouterConfig config = node_config();
  config.drain_wait = "3s";
  config.drain_timeout = "5s";
  ASSERT_NO_FATAL_FAILURE(start_tier(config));
  EchoBackend& echo = start_echo("front");
  ASSERT_NO_FATAL_FAILURE(register_front_route(echo.port()));

  // Both nodes take traffic before the drain.
  int warm = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const HttpResponse response = front_get("/warm/" + std::to_string(warm++));
        EXPECT_EQ(response.status, 200) << response.describe();
        return !lines_with(node1_access_log(), "\"GET /warm/").empty() &&
               !lines_with(node2_access_log(), "\"GET /warm/").empty();
      },
      seconds(10), milliseconds(20)))
      << "both nodes never served";

  const auto signalled = Clock::now();
  ASSERT_TRUE(router_.process().signal(SIGUSR1));
  EXPECT_TRUE(wait_until([&] { return router_.health_status() == 503; }, milliseconds(1000), milliseconds(20)))
      << "node1 /health did not turn 503 at once";

  // Requests through HAProxy, one after another, throughout the drain and
  // for 2 s after node1 has exited.
  int total = 0;
  std::vector<std::string> failures;
  std::optional<size_t> node1_lines_before_stop;  // node1's line count 2.8 s into the drain
  std::optional<Clock::time_point> exited_at;
  std::optional<int> exit_code;
  int after_exit = 0;
  const auto hard_deadline = signalled + seconds(20);
  while (Clock::now() < hard_deadline) {
    const auto elapsed = Clock::now() - signalled;
    if (!node1_lines_before_stop && elapsed >= milliseconds(2800)) {
      node1_lines_before_stop = lines_with(node1_access_log(), "\"GET /drain/").size();
    }
    if (!exited_at && !router_.process().running()) {
      exited_at = Clock::now();
      exit_code = router_.process().exit_code();
    }
    if (exited_at && Clock::now() - *exited_at >= seconds(2)) break;
    const std::string path = "/drain/" + std::to_string(total);
    const HttpResponse response = front_get(path);
    ++total;
    if (exited_at) ++after_exit;
    if (response.status != 200) {
      failures.push_back(path + " at " +
                         std::to_string(std::chrono::duration_cast<milliseconds>(elapsed).count()) +
                         " ms: " + response.describe());
    }
  }
  ASSERT_TRUE(exited_at.has_value()) << "node1 still running 20 s after SIGUSR1";
  EXPECT_EQ(exit_code, std::optional<int>(0)) << "node1 did not exit 0 after draining";
  EXPECT_GE(*exited_at - signalled, milliseconds(2900)) << "node1 stopped before drain_wait (3s)";

  std::string failure_list;
  for (const auto& failure : failures) failure_list += "  " + failure + "\n";
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << total << " requests through haproxy failed:\n"
                                << failure_list;
  EXPECT_GE(after_exit, 5) << "too few requests after node1 exited to mean anything";
  EXPECT_GE(total, 30) << "too few requests during the drain to mean anything";

  // HAProxy had stopped sending to node1 before its drain_wait ran out.
  ASSERT_TRUE(node1_lines_before_stop.has_value());
  const size_t node1_final = lines_with(node1_access_log(), "\"GET /drain/").size();
  EXPECT_EQ(node1_final, *node1_lines_before_stop)
      << "haproxy still sent requests to node1 later than 2.8 s into its drain";
  const size_t node2_final = lines_with(node2_access_log(), "\"GET /drain/").size();
  EXPECT_EQ(node1_final + node2_final, static_cast<size_t>(total - static_cast<int>(failures.size())))
      << "node1 " << node1_final << " + node2 " << node2_final << " lines for " << total << " requests";
}

}  // namespace
}  // namespace sy::test
