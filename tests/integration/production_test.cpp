// The production picture of docs/OPERATIONS.md, with real processes (root
// only: it makes network namespaces):
//
//   dnsmasq: *.apps.test -> HAProxy; nodes.switchyard.test -> the 3 nodes
//   client (this test: resolves through dnsmasq, then a steady bounded load)
//     -> HAProxy (haproxy/haproxy.cfg as shipped, nodes found by DNS)
//     -> 3 switchyard nodes, each in its own network namespace (enable_proxy,
//        tunnels on, one IP each, the same ports)
//   a 3-server nats-server cluster; switchyard-registrar announcing a plain
//   backend; a switchyard-tunnel agent (--connections 2) in a namespace of its
//   own that dials tunnel.apps.test through HAProxy.
//
// Then, under load on the plain route and the tunnel host:
//   1. SIGKILL the node that holds a tunnel session: failed <= the requests in
//      flight, none after HAProxy's check window, the tunnel host served
//      again within 3 s;
//   2. restart it: it learns every route from router.start answers (the
//      registrar's and the tunnel holders' intervals are 30 s, so nothing
//      else could teach it in time) and serves;
//   3. SIGUSR1 another node: 0 failed, it exits 0;
//   4. SIGKILL one nats-server: 0 failed, and a route registered afterwards
//      reaches every node.
// The figures (sent, failed, time to heal) are printed as "PROOF" lines and
// written to <build>/production-proof.txt.
//
// Network names carry the test's pid; everything is removed by the fixture's
// destructor (last member to go), whatever happened.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/haproxy.hpp"
#include "tests/support/raw_socket.hpp"

#ifndef SY_SOURCE_DIR
#error "production_test needs SY_SOURCE_DIR"
#endif

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kPlainHost = "plain.apps.test";
constexpr const char* kTunnelHost = "demo.tunnel.apps.test";
constexpr const char* kTunnelId = "proof-agent-1";
constexpr const char* kStatusAuth = "st:pw";
constexpr uint16_t kNodePort = 8081;
constexpr uint16_t kStatusPort = 8082;
constexpr uint16_t kTunnelPort = 8443;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Runs a shell command; false (and the output in `log`) when it fails.
bool sh(const std::string& command, const std::string& log) {
  ProcessOptions o;
  o.argv = {"sh", "-c", command};
  o.log_path = log;
  return run_process(o, seconds(20)) == std::optional<int>(0);
}

// The namespaces, veth pairs and bridge of one test run; removed by the
// destructor.
class NetLab {
 public:
  explicit NetLab(std::string log) : log_(std::move(log)) {
    const int pid = static_cast<int>(::getpid());
    tag_ = std::to_string(pid % 100000);
    subnet_ = 100 + pid % 150;
    bridge_ = "syb" + tag_;
  }
  ~NetLab() {
    for (const auto& ns : namespaces_) {
      sh("ip netns del " + ns, log_);
      sh("rm -rf /etc/netns/" + ns, log_);
    }
    if (bridge_up_) sh("ip link del " + bridge_, log_);
  }
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  std::string ip(int host) const { return "10.213." + std::to_string(subnet_) + "." + std::to_string(host); }

  bool add_bridge() {
    // Leftovers of a crashed run that had our pid (SIGKILL skips destructors).
    sh("for ns in $(ip netns list | awk '{print $1}' | grep '^syn" + tag_ + "[na]'); do ip netns del $ns; done; "
       "rm -rf /etc/netns/syn" + tag_ + "a; ip link del " + bridge_ + " 2>/dev/null; true",
       log_);
    bridge_up_ = sh("ip link add " + bridge_ + " type bridge", log_);
    return bridge_up_ && sh("ip addr add " + ip(1) + "/24 dev " + bridge_ + " && ip link set " + bridge_ + " up", log_);
  }

  // A namespace with one veth on the bridge at ip(host); `nameserver`: its
  // /etc/resolv.conf (ip netns exec mounts /etc/netns/NS/resolv.conf).
  std::string add_namespace(const std::string& role, int host, const std::string& nameserver = {}) {
    const std::string ns = "syn" + tag_ + role;
    namespaces_.push_back(ns);
    const std::string h = "syv" + tag_ + role + "h";
    const std::string n = "syv" + tag_ + role + "n";
    std::ostringstream c;
    c << "set -e; ip netns add " << ns << "; ip link add " << h << " type veth peer name " << n << "; ip link set " << n
      << " netns " << ns << "; ip link set " << h << " master " << bridge_ << "; ip link set " << h << " up; ip -n "
      << ns << " addr add " << ip(host) << "/24 dev " << n << "; ip -n " << ns << " link set " << n << " up; ip -n "
      << ns << " link set lo up; ip -n " << ns << " route add default via " << ip(1);
    if (!nameserver.empty())
      c << "; mkdir -p /etc/netns/" << ns << "; echo 'nameserver " << nameserver << "' > /etc/netns/" << ns
        << "/resolv.conf";
    return sh(c.str(), log_) ? ns : std::string();
  }

 private:
  std::string log_;
  std::string tag_;
  int subnet_ = 0;
  std::string bridge_;
  bool bridge_up_ = false;
  std::vector<std::string> namespaces_;
};

// One DNS A query over UDP: the first address of the answer, "" if none.
std::string dns_a(const std::string& server, uint16_t port, const std::string& name) {
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q += static_cast<char>(dot - start);
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q += std::string("\x00\x00\x01\x00\x01", 5);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, server.c_str(), &addr.sin_addr);
  char buf[512];
  ssize_t n = -1;
  if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(q.size()))
    n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n < static_cast<ssize_t>(q.size()) + 16) return {};
  // Answers follow the question; the first A record's last 4 bytes.
  const auto* p = reinterpret_cast<const unsigned char*>(buf);
  const int answers = (p[6] << 8) | p[7];
  size_t off = q.size();
  for (int i = 0; i < answers && off + 12 <= static_cast<size_t>(n); ++i) {
    off += (p[off] & 0xc0) == 0xc0 ? 2 : 0;  // compressed name (dnsmasq always compresses)
    const int type = (p[off] << 8) | p[off + 1];
    const int len = (p[off + 8] << 8) | p[off + 9];
    off += 10;
    if (type == 1 && len == 4 && off + 4 <= static_cast<size_t>(n)) {
      char text[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, p + off, text, sizeof text);
      return text;
    }
    off += len;
  }
  return {};
}

std::string proxy_v2_local() { return std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16); }

// A steady bounded load: `per_host` threads per host, each one request
// (a fresh connection, Connection: close) every `period` or right after the
// previous one, 5 s timeout. Each request is /slow?ms=100 on the echo
// backend, so requests are in flight at any moment (a kill hits some).
class Load {
 public:
  struct Rec {
    Clock::time_point start;
    Clock::time_point end;
    int host;
    int status;
  };
  struct Window {
    int sent = 0;
    int failed = 0;
    std::optional<Clock::time_point> last_failure;
    std::vector<std::string> failures;
  };

  ~Load() { stop(); }

  void start(const std::string& ip, uint16_t port, const std::vector<std::string>& hosts, int per_host,
             milliseconds period) {
    hosts_ = hosts;
    for (size_t h = 0; h < hosts.size(); ++h)
      for (int t = 0; t < per_host; ++t)
        threads_.emplace_back([this, ip, port, h, period, t] { run(ip, port, static_cast<int>(h), period, t); });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  int in_flight(int host) const { return in_flight_[host].load(); }

  // Requests of `host` that started in [from, to).
  Window window(int host, Clock::time_point from, Clock::time_point to, Clock::time_point origin) {
    Window w;
    std::lock_guard lock(mutex_);
    for (const Rec& r : recs_) {
      if (r.host != host || r.start < from || r.start >= to) continue;
      ++w.sent;
      if (r.status != 200) {
        ++w.failed;
        if (!w.last_failure || r.end > *w.last_failure) w.last_failure = r.end;
        if (w.failures.size() < 20)
          w.failures.push_back(std::to_string(static_cast<int>(ms_between(origin, r.start))) + " ms: status " +
                               std::to_string(r.status));
      }
    }
    return w;
  }
  size_t total() {
    std::lock_guard lock(mutex_);
    return recs_.size();
  }

 private:
  void run(const std::string& ip, uint16_t port, int host, milliseconds period, int thread) {
    int n = 0;
    auto next = Clock::now() + period * thread / 2;
    while (!stop_) {
      std::this_thread::sleep_until(next);
      next += period;
      Rec rec{Clock::now(), {}, host, 0};
      ++in_flight_[host];
      RawSocket socket;
      if (socket.connect(ip, port) &&
          socket.send("GET /slow?ms=" + std::to_string(hold_ms_) + "&load=" + std::to_string(thread) + "-" +
                      std::to_string(n++) + " HTTP/1.1\r\nHost: " + hosts_[host] + "\r\nConnection: close\r\n\r\n")) {
        const RawResponse r = socket.read_response(seconds(5));
        if (r.complete) rec.status = r.status;
      }
      --in_flight_[host];
      rec.end = Clock::now();
      std::lock_guard lock(mutex_);
      recs_.push_back(rec);
    }
  }

  std::vector<std::string> hosts_;
  int hold_ms_ = 100;  // each request waits this long in the backend: some are always in flight
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_[2] = {0, 0};
  std::mutex mutex_;
  std::vector<Rec> recs_;
  std::vector<std::thread> threads_;
};

class ProductionTest : public ::testing::Test {
 protected:
  struct Node {
    std::string ns;
    std::string ip;
    std::string id;
    std::string config;
    Process process;
    std::string log() const { return read_file(dir_log); }
    std::string dir_log;
    std::string access_log;
  };

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns)";
    for (const std::string& tool : {std::string("/usr/sbin/ip"), std::string("/usr/bin/ip")})
      if (is_executable(tool)) ip_ok_ = true;
    if (!ip_ok_) GTEST_SKIP() << "no ip(8) (iproute2)";
    if (!is_executable(dnsmasq_binary())) GTEST_SKIP() << "no dnsmasq (scripts/install-deps.sh --with-tests)";
    if (!is_executable(haproxy_binary())) GTEST_SKIP() << "no haproxy";
  }

  void TearDown() override {
    load_.stop();
    if (HasFailure()) {
      for (auto& n : nodes_)
        std::fprintf(stderr, "---- %s log ----\n%s\n", n.id.c_str(), tail(n.log()).c_str());
      std::fprintf(stderr, "---- haproxy log ----\n%s\n", tail(haproxy_.log()).c_str());
      std::fprintf(stderr, "---- agent log ----\n%s\n", tail(agent_.log()).c_str());
      std::fprintf(stderr, "---- registrar log ----\n%s\n", tail(registrar_.log()).c_str());
      std::fprintf(stderr, "---- net log ----\n%s\n", tail(read_file(dir_.file("net.log"))).c_str());
    }
  }

  static std::string tail(const std::string& text, size_t max = 5000) {
    return text.size() <= max ? text : "..." + text.substr(text.size() - max);
  }

  void report(const std::string& line) {
    std::printf("PROOF %s\n", line.c_str());
    std::fflush(stdout);
    report_ += line + "\n";
  }

  std::string bin(const std::string& name) const { return std::string(SY_BIN_DIR) + "/" + name; }

  std::string node_yaml(int i) const {
    std::ostringstream y;
    y << "bind_address: 0.0.0.0\nport: " << kNodePort << "\nenable_proxy: true\n"
      << "status:\n  host: 0.0.0.0\n  port: " << kStatusPort << "\n  user: st\n  pass: pw\n"
      << "nats:\n  reconnect_wait: 200ms\n  hosts:\n";
    for (uint16_t p : nats_ports_) y << "    - {hostname: " << lab_.ip(1) << ", port: " << p << "}\n";
    y << "logging:\n  level: info\n"
      << "access_log:\n  file: " << nodes_[i].access_log << "\n"
      << "start_response_delay_interval: 0s\ndroplet_stale_threshold: 120s\nprune_stale_droplets_interval: 30s\n"
      << "drain_wait: 2s\ndrain_timeout: 5s\nworkers: 1\n"
      << "tunnel:\n  host: 0.0.0.0\n  port: " << kTunnelPort << "\n  domain: tunnel.apps.test\n"
      << "  secret: proof-secret\n  advertise: " << nodes_[i].ip << ":" << kNodePort << "\n  node_id: "
      << nodes_[i].id << "\n  register_interval: 30s\n  ping_interval: 2s\n";
    return y.str();
  }

  bool start_node(int i) {
    Node& n = nodes_[i];
    ProcessOptions o;
    o.argv = {"ip", "netns", "exec", n.ns, test_binaries().switchyard, "-c", n.config};
    o.log_path = n.dir_log;
    return n.process.start(o);
  }

  HttpResponse status_get(int i, const std::string& path) const {
    HttpRequest r;
    r.url = "http://" + nodes_[i].ip + ":" + std::to_string(kStatusPort) + path;
    r.user = kStatusAuth;
    r.timeout = seconds(2);
    return http(r);
  }

  bool healthy(int i) const { return status_get(i, "/health").status == 200; }
  bool holds_tunnel(int i) const {
    return status_get(i, "/tunnels").body.find(kTunnelId) != std::string::npos;
  }
  bool knows(int i, const std::string& host) const {
    return status_get(i, "/routes").body.find("\"" + host + "\"") != std::string::npos;
  }

  // GET straight to node i's proxy listener (PROXY v2 LOCAL header first, as
  // it takes only PROXY connections).
  RawResponse node_get(int i, const std::string& host, const std::string& path) {
    RawSocket s;
    if (!s.connect(nodes_[i].ip, kNodePort)) return {};
    if (!s.send(proxy_v2_local() + "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
      return {};
    return s.read_response(seconds(5));
  }

  int front_status(const std::string& host, const std::string& path) {
    RawSocket s;
    if (!s.connect(front_ip_, front_port_)) return 0;
    if (!s.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")) return 0;
    const RawResponse r = s.read_response(seconds(5));
    return r.complete ? r.status : 0;
  }

  TempDir dir_{"sy-prod"};
  NetLab lab_{dir_.file("net.log")};  // destroyed after every process below
  std::vector<uint16_t> nats_ports_;
  std::vector<Process> nats_;
  std::vector<Node> nodes_ = std::vector<Node>(3);
  Process echo_plain_;
  Process echo_tunnel_;
  Dnsmasq dnsmasq_;
  Process haproxy_;
  Process registrar_;
  Process agent_;
  Load load_;
  std::string front_ip_;
  uint16_t front_port_ = 0;
  bool ip_ok_ = false;
  std::string report_;
};

TEST_F(ProductionTest, FailuresHealUnderLoad) {
  const auto t_setup = Clock::now();
  const std::string gw = lab_.ip(1);
  ASSERT_TRUE(lab_.add_bridge()) << read_file(dir_.file("net.log"));
  for (int i = 0; i < 3; ++i) {
    Node& n = nodes_[i];
    n.ip = lab_.ip(11 + i);
    n.id = "node-" + std::to_string(i + 1);
    n.ns = lab_.add_namespace("n" + std::to_string(i + 1), 11 + i);
    ASSERT_FALSE(n.ns.empty()) << read_file(dir_.file("net.log"));
    n.dir_log = dir_.file(n.id + ".log");
    n.access_log = dir_.file(n.id + "-access.log");
  }
  const std::string agent_ns = lab_.add_namespace("a", 20, gw);
  ASSERT_FALSE(agent_ns.empty()) << read_file(dir_.file("net.log"));

  // NATS: three servers in one cluster on the bridge address.
  std::vector<uint16_t> cluster_ports;
  std::vector<uint16_t> monitor_ports;
  std::vector<uint16_t> used;
  auto fresh_port = [&] {
    uint16_t p = free_port();
    while (p == 0 || std::find(used.begin(), used.end(), p) != used.end() || p == kNodePort || p == kStatusPort ||
           p == kTunnelPort)
      p = free_port();
    used.push_back(p);
    return p;
  };
  for (int i = 0; i < 3; ++i) {
    nats_ports_.push_back(fresh_port());
    cluster_ports.push_back(fresh_port());
    monitor_ports.push_back(fresh_port());
  }
  nats_.resize(3);
  for (int i = 0; i < 3; ++i) {
    std::string routes;
    for (int j = 0; j < 3; ++j)
      if (j != i) routes += (routes.empty() ? "" : ",") + std::string("nats://") + gw + ":" + std::to_string(cluster_ports[j]);
    ProcessOptions o;
    o.argv = {"nats-server", "-a", gw, "-p", std::to_string(nats_ports_[i]), "-m", std::to_string(monitor_ports[i]),
              "--name", "nats-" + std::to_string(i + 1), "--cluster_name", "proof", "--cluster",
              "nats://" + gw + ":" + std::to_string(cluster_ports[i]), "--routes", routes};
    o.log_path = dir_.file("nats-" + std::to_string(i + 1) + ".log");
    ASSERT_TRUE(nats_[i].start(o)) << nats_[i].error();
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until(
        [&] {
          HttpRequest r;
          r.url = "http://" + gw + ":" + std::to_string(monitor_ports[i]) + "/routez";
          r.timeout = seconds(2);
          return http(r).body.find("\"num_routes\": 2") != std::string::npos;
        },
        seconds(15), milliseconds(100)))
        << "nats-" << i + 1 << " not clustered: " << read_file(dir_.file("nats-" + std::to_string(i + 1) + ".log"));
  }
  ASSERT_FALSE(HasFailure());

  // Backends on the bridge address: the registrar's, and the tunnel agent's target.
  const uint16_t plain_port = fresh_port();
  const uint16_t tunnel_target_port = fresh_port();
  for (auto [process, port, name] : {std::tuple{&echo_plain_, plain_port, "plain"},
                                     std::tuple{&echo_tunnel_, tunnel_target_port, "tunnel"}}) {
    ProcessOptions o;
    o.argv = {test_binaries().echo, "--host", gw, "--port", std::to_string(port), "--name", name};
    o.log_path = dir_.file(std::string("echo-") + name + ".log");
    ASSERT_TRUE(process->start(o)) << process->error();
    ASSERT_TRUE(wait_until([&] { return port_open(gw, port); }, seconds(10))) << name << " echo did not listen";
  }

  // The nodes.
  for (int i = 0; i < 3; ++i) {
    nodes_[i].config = dir_.write_file(nodes_[i].id + ".yml", node_yaml(i));
    ASSERT_TRUE(start_node(i)) << nodes_[i].process.error();
  }
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(wait_until([&] { return healthy(i); }, seconds(20), milliseconds(50)))
        << nodes_[i].id << " not healthy:\n"
        << nodes_[i].log();

  // DNS: the nodes' name (HAProxy), the wildcard for clients and agents.
  DnsmasqOptions dns;
  dns.listen_address = gw;
  dns.port = 53;
  for (const Node& n : nodes_) dns.records.emplace_back("nodes.switchyard.test", n.ip);
  dns.wildcards = {{"apps.test", gw}};
  ASSERT_TRUE(dnsmasq_.start(dns, dir_.file("dnsmasq.log"))) << dnsmasq_.error();

  // HAProxy with the shipped file.
  front_port_ = fresh_port();
  const uint16_t tls_port = fresh_port();
  const uint16_t stats_port = fresh_port();
  const std::string certs = dir_.file("certs");
  ASSERT_TRUE(sh("mkdir -p " + certs + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes " +
                     "-keyout " + dir_.file("key.pem") + " -out " + dir_.file("cert.pem") +
                     " -days 2 -subj /CN=apps.test -addext subjectAltName=DNS:*.apps.test && cat " +
                     dir_.file("cert.pem") + " " + dir_.file("key.pem") + " > " + certs + "/apps.test.pem",
                 dir_.file("openssl.log")))
      << read_file(dir_.file("openssl.log"));
  {
    ProcessOptions o;
    o.argv = {haproxy_binary(), "-db", "-n", "4000", "-f", std::string(SY_SOURCE_DIR) + "/haproxy/haproxy.cfg"};
    o.env = {{"SY_HTTP_BIND", gw + ":" + std::to_string(front_port_)},
             {"SY_HTTPS_BIND", gw + ":" + std::to_string(tls_port)},
             {"SY_STATS_BIND", gw + ":" + std::to_string(stats_port)},
             {"SY_CERT_DIR", certs + "/"},
             {"SY_DNS", gw + ":53"},
             {"SY_NODES", "nodes.switchyard.test"},
             {"SY_MAX_NODES", "8"},
             {"SY_TUNNEL_HOST", "tunnel.apps.test"}};
    o.log_path = dir_.file("haproxy.log");
    ASSERT_TRUE(haproxy_.start(o)) << haproxy_.error();
    ASSERT_TRUE(wait_until([&] { return port_open(gw, front_port_); }, seconds(10))) << read_file(o.log_path);
  }

  // The client finds HAProxy through the wildcard record.
  front_ip_ = dns_a(gw, 53, kPlainHost);
  ASSERT_EQ(front_ip_, gw) << "dnsmasq did not answer " << kPlainHost << " with HAProxy's address";
  EXPECT_EQ(dns_a(gw, 53, kTunnelHost), gw);

  // The registrar announces the plain backend (every 30 s: the restarted
  // node below can only learn it from router.start).
  {
    std::ostringstream y;
    y << "message_bus_servers:\n";
    for (uint16_t p : nats_ports_) y << "  - host: " << gw << ":" << p << "\n";
    y << "host: " << gw << "\nlogging: {level: info}\nroutes:\n  - name: plain\n    port: " << plain_port
      << "\n    uris: [" << kPlainHost << "]\n    registration_interval: 30s\n"
      << "    health_check: {type: tcp, timeout: 1s}\n";
    ProcessOptions o;
    o.argv = {bin("switchyard-registrar"), "-c", dir_.write_file("registrar.yml", y.str())};
    o.log_path = dir_.file("registrar.log");
    ASSERT_TRUE(registrar_.start(o)) << registrar_.error();
  }

  // The agent, in its own namespace, resolves tunnel.apps.test through
  // dnsmasq and dials HAProxy; two sessions.
  {
    const std::string token =
        mint_token(test_binaries(), dir_, nodes_[0].config, kTunnelId, {"--label", "demo", "--ttl", "1d"});
    ASSERT_FALSE(token.empty()) << read_file(dir_.file("token.err"));
    ProcessOptions o;
    o.argv = {"ip", "netns", "exec", agent_ns, bin("switchyard-tunnel"), "--server",
              "ws://tunnel.apps.test:" + std::to_string(front_port_), "--id", kTunnelId, "--token", token,
              "--label", "demo", "--to", gw + ":" + std::to_string(tunnel_target_port), "--connections", "2"};
    o.log_path = dir_.file("agent.log");
    ASSERT_TRUE(agent_.start(o)) << agent_.error();
  }

  // Ready: both hosts served through HAProxy, the tunnel held by two
  // sessions, and every node serves the tunnel host (the non-holders forward
  // to the holders, node to node, with the PROXY header the holder wants).
  ASSERT_TRUE(wait_until([&] { return front_status(kPlainHost, "/ready") == 200; }, seconds(20), milliseconds(100)))
      << "plain route not served through haproxy: " << front_status(kPlainHost, "/ready");
  ASSERT_TRUE(wait_until([&] { return front_status(kTunnelHost, "/ready") == 200; }, seconds(20), milliseconds(100)))
      << "tunnel host not served through haproxy: " << front_status(kTunnelHost, "/ready");
  int holders = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        holders = 0;
        for (int i = 0; i < 3; ++i) holders += holds_tunnel(i) ? 1 : 0;
        return holders >= 1;
      },
      seconds(10), milliseconds(100)));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until([&] { return knows(i, kTunnelHost) && knows(i, kPlainHost); }, seconds(10),
                           milliseconds(100)))
        << nodes_[i].id << " routes: " << status_get(i, "/routes").body;
    const RawResponse r = node_get(i, kTunnelHost, "/direct");
    EXPECT_EQ(r.status, 200) << nodes_[i].id << " (holds: " << holds_tunnel(i) << "): " << r.head << "\n" << r.body;
    EXPECT_NE(r.body.find("name=tunnel"), std::string::npos) << r.body;
  }
  ASSERT_FALSE(HasFailure());
  report("setup: 3 nodes, 3 nats-servers, dnsmasq, haproxy, registrar, agent (--connections 2) ready in " +
         std::to_string(static_cast<int>(ms_between(t_setup, Clock::now()))) + " ms; tunnel held by " +
         std::to_string(holders) + " node(s)");

  // Load: four threads per host, each a 100 ms request every 125 ms (~64 req/s,
  // ~6 in flight at any moment).
  const auto origin = Clock::now();
  load_.start(front_ip_, front_port_, {kPlainHost, kTunnelHost}, 4, milliseconds(125));
  sleep_for(seconds(3));
  {
    auto p = load_.window(0, origin, Clock::now(), origin);
    auto t = load_.window(1, origin, Clock::now(), origin);
    report("baseline 3 s: plain sent " + std::to_string(p.sent) + " failed " + std::to_string(p.failed) +
           "; tunnel sent " + std::to_string(t.sent) + " failed " + std::to_string(t.failed));
    EXPECT_EQ(p.failed + t.failed, 0);
  }

  // 1. SIGKILL a node that holds a tunnel session.
  int victim = 0;
  for (int i = 0; i < 3; ++i)
    if (holds_tunnel(i)) victim = i;
  const int in_flight_plain = load_.in_flight(0);
  const int in_flight = in_flight_plain + load_.in_flight(1);
  const auto t_kill = Clock::now();
  nodes_[victim].process.kill();
  sleep_for(seconds(6));
  {
    const auto end = Clock::now();
    auto p = load_.window(0, t_kill, end, t_kill);
    auto t = load_.window(1, t_kill, end, t_kill);
    auto p_late = load_.window(0, t_kill + seconds(3), end, t_kill);
    auto t_late = load_.window(1, t_kill + seconds(3), end, t_kill);
    const double p_heal = p.last_failure ? ms_between(t_kill, *p.last_failure) : 0;
    const double t_heal = t.last_failure ? ms_between(t_kill, *t.last_failure) : 0;
    // HAProxy's log: requests it redispatched to another node (retries
    // field "+N" in actconn/feconn/beconn/srv_conn/retries).
    const std::string hlog = read_file(dir_.file("haproxy.log"));
    const std::regex redispatched(R"( [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+[0-9]+ )");
    const auto redispatches = std::distance(std::sregex_iterator(hlog.begin(), hlog.end(), redispatched),
                                            std::sregex_iterator());
    report("SIGKILL: HAProxy redispatched " + std::to_string(redispatches) +
           " requests to another node (its log, whole run so far)");
    report("SIGKILL " + nodes_[victim].id + " (a tunnel holder), " + std::to_string(in_flight) +
           " requests in flight (" + std::to_string(in_flight_plain) + " plain), over all nodes: plain sent " + std::to_string(p.sent) + " failed " + std::to_string(p.failed) +
           " (last failure at +" + std::to_string(static_cast<int>(p_heal)) + " ms); tunnel sent " +
           std::to_string(t.sent) + " failed " + std::to_string(t.failed) + " (served again from +" +
           std::to_string(static_cast<int>(t_heal)) + " ms)");
    auto list = [](const Load::Window& w) {
      std::string s;
      for (const auto& f : w.failures) s += "  " + f + "\n";
      return s;
    };
    EXPECT_LE(p.failed, in_flight_plain) << list(p);
    EXPECT_EQ(p_late.failed, 0) << "plain failures after HAProxy's check window:\n" << list(p_late);
    EXPECT_EQ(t_late.failed, 0) << "tunnel failures 3 s after the kill:\n" << list(t_late);
    EXPECT_LE(t_heal, 3000) << list(t);
  }

  // 2. Restart it: it learns every route from the router.start answers.
  const auto t_restart = Clock::now();
  ASSERT_TRUE(start_node(victim));
  ASSERT_TRUE(wait_until([&] { return healthy(victim); }, seconds(20), milliseconds(50))) << nodes_[victim].log();
  const auto t_healthy = Clock::now();
  bool learned = wait_until([&] { return knows(victim, kPlainHost) && knows(victim, kTunnelHost); }, seconds(10),
                            milliseconds(50));
  const auto t_learned = Clock::now();
  EXPECT_TRUE(learned) << nodes_[victim].id << " after restart: " << status_get(victim, "/routes").body;
  EXPECT_LE(ms_between(t_healthy, t_learned), 3000) << "routes learned too late for router.start to be the teacher";
  // Its access log after the restart: load requests for both hosts.
  const size_t log_offset = read_file(nodes_[victim].access_log).size();
  bool serving = wait_until(
      [&] {
        const std::string text = read_file(nodes_[victim].access_log).substr(log_offset);
        return text.find(std::string(kPlainHost) + " - ") != std::string::npos &&
               text.find(std::string(kTunnelHost) + " - ") != std::string::npos;
      },
      seconds(10), milliseconds(100));
  const auto t_serving = Clock::now();
  EXPECT_TRUE(serving) << nodes_[victim].id << " not serving after restart";
  {
    auto p = load_.window(0, t_restart, t_serving, t_restart);
    auto t = load_.window(1, t_restart, t_serving, t_restart);
    report("restart " + nodes_[victim].id + ": healthy after " +
           std::to_string(static_cast<int>(ms_between(t_restart, t_healthy))) + " ms, every route learned " +
           std::to_string(static_cast<int>(ms_between(t_healthy, t_learned))) +
           " ms later (registrar and tunnel intervals 30 s: router.start), serving through HAProxy " +
           std::to_string(static_cast<int>(ms_between(t_healthy, t_serving))) + " ms after healthy; meanwhile plain " +
           std::to_string(p.sent) + "/" + std::to_string(p.failed) + " tunnel " + std::to_string(t.sent) + "/" +
           std::to_string(t.failed) + " (sent/failed)");
    EXPECT_EQ(p.failed + t.failed, 0);
  }

  // 3. Drain another node, a tunnel holder if there is one.
  int drained = victim == 0 ? 1 : 0;
  for (int i = 0; i < 3; ++i)
    if (i != victim && holds_tunnel(i)) drained = i;
  const bool drained_held = holds_tunnel(drained);
  const auto t_drain = Clock::now();
  ASSERT_TRUE(nodes_[drained].process.signal(SIGUSR1));
  const auto code = nodes_[drained].process.wait_exit(seconds(15));
  const auto t_exit = Clock::now();
  EXPECT_EQ(code, std::optional<int>(0)) << nodes_[drained].id << " did not exit 0 after draining";
  sleep_for(seconds(2));
  {
    auto p = load_.window(0, t_drain, Clock::now(), t_drain);
    auto t = load_.window(1, t_drain, Clock::now(), t_drain);
    report("SIGUSR1 " + nodes_[drained].id + (drained_held ? " (a tunnel holder)" : "") + ": exited " +
           std::to_string(code.value_or(-1)) + " after " + std::to_string(static_cast<int>(ms_between(t_drain, t_exit))) +
           " ms; plain sent " + std::to_string(p.sent) + " failed " + std::to_string(p.failed) + "; tunnel sent " +
           std::to_string(t.sent) + " failed " + std::to_string(t.failed));
    EXPECT_EQ(p.failed, 0);
    EXPECT_EQ(t.failed, 0);
  }

  // 4. SIGKILL one nats-server; then a new route must reach every live node.
  const auto t_nats = Clock::now();
  nats_[0].kill();
  sleep_for(seconds(3));
  NatsClient late_client;
  ASSERT_TRUE(late_client.connect("nats://" + gw + ":" + std::to_string(nats_ports_[1]))) << late_client.error();
  const auto t_register = Clock::now();
  ASSERT_TRUE(register_route(late_client, gw, plain_port, {"late.apps.test"}));
  bool everywhere = wait_until(
      [&] {
        for (int i = 0; i < 3; ++i)
          if (i != drained && !knows(i, "late.apps.test")) return false;
        return front_status("late.apps.test", "/late") == 200;
      },
      seconds(10), milliseconds(50));
  const auto t_everywhere = Clock::now();
  EXPECT_TRUE(everywhere) << "a route registered after the NATS server loss did not reach every node";
  {
    auto p = load_.window(0, t_nats, Clock::now(), t_nats);
    auto t = load_.window(1, t_nats, Clock::now(), t_nats);
    report("SIGKILL nats-1: plain sent " + std::to_string(p.sent) + " failed " + std::to_string(p.failed) +
           "; tunnel sent " + std::to_string(t.sent) + " failed " + std::to_string(t.failed) +
           "; a route registered 3 s later on every live node and served in " +
           std::to_string(static_cast<int>(ms_between(t_register, t_everywhere))) + " ms");
    EXPECT_EQ(p.failed + t.failed, 0);
  }

  load_.stop();
  {
    auto p = load_.window(0, origin, Clock::now(), origin);
    auto t = load_.window(1, origin, Clock::now(), origin);
    report("total under load (" + std::to_string(static_cast<int>(ms_between(origin, Clock::now()))) +
           " ms): plain sent " + std::to_string(p.sent) + " failed " + std::to_string(p.failed) + "; tunnel sent " +
           std::to_string(t.sent) + " failed " + std::to_string(t.failed) + "; whole test " +
           std::to_string(static_cast<int>(ms_between(t_setup, Clock::now()))) + " ms");
  }
  std::ofstream(std::string(SY_BIN_DIR) + "/production-proof.txt") << report_;
}

}  // namespace
}  // namespace sy::test
