#include "tests/support/cluster.hpp"

#include <rapidjson/document.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "tests/support/ports.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/wait.hpp"

namespace sy::test {
namespace {

std::string tail(const std::string& text, size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

std::string basic_auth(const Router& router) { return router.config().status_user + ":" + router.config().status_pass; }

// A port not among `taken` (free_port() may hand out one a process is about to bind).
uint16_t fresh_port(std::vector<uint16_t>& taken) {
  for (int i = 0; i < 50; ++i) {
    const uint16_t p = free_port();
    if (p != 0 && std::find(taken.begin(), taken.end(), p) == taken.end()) {
      taken.push_back(p);
      return p;
    }
  }
  return 0;
}

std::string haproxy_servers(const std::vector<std::unique_ptr<ClusterNode>>& nodes, bool tunnel) {
  std::string out;
  for (const auto& n : nodes) {
    const uint16_t port = tunnel ? n->tunnel_port : n->router.port();
    out += "  server " + n->id + " 127.0.0.1:" + std::to_string(port) + " port " +
           std::to_string(n->router.status_port()) + "\n";
  }
  return out;
}

}  // namespace

int ClusterNode::sessions(const std::string& tunnel_id) const {
  const HttpResponse r = router.status_get("/tunnels", basic_auth(router));
  if (r.status != 200) return -1;
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("tunnels")) return -1;
  for (const auto& t : doc["tunnels"].GetArray())
    if (t["id"].GetString() == tunnel_id) return static_cast<int>(t["sessions"].GetArray().Size());
  return 0;
}

int ClusterNode::route_endpoints(const std::string& host) const {
  const HttpResponse r = router.status_get("/routes", basic_auth(router));
  if (r.status != 200) return -1;
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) return -1;
  const auto it = doc.FindMember(host.c_str());
  return it == doc.MemberEnd() ? 0 : static_cast<int>(it->value.GetArray().Size());
}

Cluster::Cluster(const std::string& bin_dir, ClusterOptions options)
    : options_(std::move(options)), binaries_(binaries_in(bin_dir)), nats_(dir_.path()) {}

Cluster::~Cluster() {
  haproxy_.stop();
  for (auto& n : nodes_) n->router.stop(std::chrono::milliseconds(3000));
}

std::string Cluster::node_yaml(const ClusterNode& node, uint16_t proxy_port) const {
  std::ostringstream y;
  if (options_.enable_proxy) y << "enable_proxy: true\n";
  y << "tunnel:\n  host: 127.0.0.1\n  port: " << node.tunnel_port << "\n  domain: " << options_.domain
    << "\n  node_id: " << node.id << "\n  advertise: " << node.ip << ":" << proxy_port
    << "\n  register_interval: " << options_.register_interval << "\n  ping_interval: " << options_.ping_interval
    << "\n";
  if (!options_.secret.empty()) y << "  secret: " << json_quote(options_.secret) << "\n";
  if (options_.tcp) y << "  tcp_ports: \"" << tcp_base_ << "-" << tcp_base_ + 199 << "\"\n";
  if (options_.socks) {
    y << "socks:\n  host: 127.0.0.1\n  port: " << node.socks_port << "\n";
    if (!options_.socks_user.empty())
      y << "  user: " << json_quote(options_.socks_user) << "\n  pass: " << json_quote(options_.socks_pass) << "\n";
  }
  return y.str();
}

bool Cluster::start() {
  if (!nats_.start()) return error_ = "nats-server: " + nats_.error(), false;
  std::vector<uint16_t> taken{nats_.port()};
  // Below the ephemeral range (32768-60999), where no client socket and no
  // free_port() of another test can hold a port a node wants (a mirror needs
  // the very port its holder took); the nodes skip a busy one all the same.
  tcp_base_ = static_cast<uint16_t>(20000 + (::getpid() % 60) * 200);  // above free_port()'s ports
  for (int i = 0; i < options_.nodes; ++i) {
    auto node = std::make_unique<ClusterNode>("node-" + std::string(1, static_cast<char>('a' + i)), binaries_);
    RouterConfig c;
    c.port = fresh_port(taken);
    c.status_port = fresh_port(taken);
    node->tunnel_port = fresh_port(taken);
    if (options_.socks) node->socks_port = fresh_port(taken);
    c.workers = options_.workers;
    if (options_.distinct_hosts) node->ip = c.listen_host = "127.0.0." + std::to_string(i + 1);
    c.prune_stale_droplets_interval = "1s";
    c.drain_wait = options_.drain_wait;
    c.drain_timeout = options_.drain_timeout;
    c.endpoint_timeout = "20s";
    c.extra_yaml = node_yaml(*node, c.port);
    if (!node->router.start(c, nats_)) return error_ = node->id + " did not start", false;
    nodes_.push_back(std::move(node));
  }
  for (auto& n : nodes_)
    if (!n->router.wait_healthy()) return error_ = n->id + " not healthy:\n" + tail(n->router.log()), false;
  for (auto& n : nodes_)
    if (!wait_port_open(n->tunnel_port, std::chrono::milliseconds(5000)))
      return error_ = n->id + " has no tunnel listener", false;
  return true;
}

bool Cluster::start_haproxy() {
  std::vector<uint16_t> taken{nats_.port()};
  for (auto& n : nodes_) taken.insert(taken.end(), {n->router.port(), n->router.status_port(), n->tunnel_port});
  front_port_ = fresh_port(taken);
  front_tunnel_port_ = fresh_port(taken);
  const std::string check = "  option httpchk GET /health\n  http-check expect status 200\n";
  std::string cfg = "global\n  maxconn 512\ndefaults\n  timeout connect 2s\n  timeout client 120s\n"
                    "  timeout server 120s\n  timeout tunnel 3600s\n  retries 3\n  option redispatch 1\n";
  cfg += "frontend http_in\n  mode http\n  bind 127.0.0.1:" + std::to_string(front_port_) + "\n";
  if (!options_.enable_proxy) cfg += "  option forwardfor\n";
  cfg += "  default_backend nodes\nbackend nodes\n  mode http\n  balance roundrobin\n" + check;
  cfg += "  default-server inter 200ms fall 2 rise 2 check";
  cfg += options_.enable_proxy ? " send-proxy-v2\n" : "\n";
  cfg += haproxy_servers(nodes_, false);
  cfg += "frontend tunnel_in\n  mode tcp\n  bind 127.0.0.1:" + std::to_string(front_tunnel_port_) + "\n";
  cfg += "  default_backend tunnels\nbackend tunnels\n  mode tcp\n  balance roundrobin\n" + check;
  cfg += "  default-server inter 200ms fall 2 rise 2 check\n" + haproxy_servers(nodes_, true);
  const std::string path = dir_.write_file("haproxy.cfg", cfg);
  if (!haproxy_.start(path, dir_.file("haproxy.log"), front_port_))
    return error_ = "haproxy: " + haproxy_.error(), false;
  return wait_port_open(front_tunnel_port_, std::chrono::milliseconds(5000)) || (error_ = "no tunnel frontend", false);
}

std::string Cluster::token(const std::string& id, const std::string& label, const std::string& ttl) const {
  std::vector<std::string> args = {"--ttl", ttl};
  if (!label.empty()) args.insert(args.end(), {"--label", label});
  return mint_token(binaries_, dir_, nodes_.at(0)->router.config_path(), id, args);
}

bool Cluster::wait_status_everywhere(const std::string& host, int status, std::chrono::milliseconds timeout,
                                     const std::string& path) {
  return wait_until(
      [&] {
        for (auto& n : nodes_) {
          if (!n->router.process().running()) continue;
          if (quick_get(n->router.port(), host, path, std::chrono::milliseconds(2000)).status != status) return false;
        }
        return true;
      },
      timeout, std::chrono::milliseconds(20));
}

std::string Cluster::logs() const {
  std::string out;
  for (const auto& n : nodes_) out += "---- " + n->id + " log ----\n" + tail(n->router.log(), 6000) + "\n";
  out += "---- haproxy ----\n" + tail(haproxy_.log(), 2000) + "\n";
  return out;
}

bool Agent::start(const AgentOptions& o) {
  ProcessOptions p;
  p.argv = {binary_, "--id", o.id, "--to",
            "127.0.0.1:" + std::to_string(o.to_port), "--connections", std::to_string(o.connections)};
  for (const std::string& s : o.servers) p.argv.insert(p.argv.end(), {"--server", s});
  if (!o.label.empty()) p.argv.insert(p.argv.end(), {"--label", o.label});
  if (!o.token.empty()) p.argv.insert(p.argv.end(), {"--token", o.token});
  p.argv.insert(p.argv.end(), o.extra.begin(), o.extra.end());
  p.log_path = dir_.file("agent-" + name_ + ".out");
  p.stderr_path = dir_.file("agent-" + name_ + ".err");
  return process_.start(p);
}

std::string Agent::wait_ready(std::chrono::milliseconds timeout) {
  std::string host;
  wait_until(
      [&] {
        const std::string text = out();
        const size_t at = text.find("tunnel-ready host=");
        if (at == std::string::npos) return !process_.running();
        const size_t end = text.find(' ', at + 18);
        host = text.substr(at + 18, end == std::string::npos ? std::string::npos : end - at - 18);
        return true;
      },
      timeout, std::chrono::milliseconds(20));
  return host;
}

uint16_t Agent::wait_tcp_port(const std::string& server, std::chrono::milliseconds timeout) {
  const std::string key = "server=" + server + " port=";
  uint16_t port = 0;
  wait_until(
      [&] {
        const std::string text = out();
        const size_t at = text.find(key);
        if (at == std::string::npos) return !process_.running();
        port = static_cast<uint16_t>(std::atoi(text.c_str() + at + key.size()));
        return true;
      },
      timeout, std::chrono::milliseconds(20));
  return port;
}

QuickResponse quick_get(uint16_t port, const std::string& host, const std::string& path,
                        std::chrono::milliseconds timeout, const std::vector<std::string>& headers,
                        const std::string& preamble) {
  QuickResponse out;
  RawSocket s;
  if (!s.connect(port)) return out;
  std::string req = preamble + "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
  for (const std::string& h : headers) req += h + "\r\n";
  if (!s.send(req + "\r\n")) return out;
  const auto started = std::chrono::steady_clock::now();
  const RawResponse r = s.read_response(timeout);
  if (!r.complete) {
    out.timed_out = std::chrono::steady_clock::now() - started >= timeout - std::chrono::milliseconds(50);
    return out;
  }
  out.status = r.status;
  out.router_error = r.header("X-Cf-Routererror");
  out.body = r.body;
  return out;
}

std::string proxy_v1(const std::string& ip) { return "PROXY TCP4 " + ip + " 127.0.0.1 40000 80\r\n"; }

SteadyLoad::SteadyLoad(uint16_t port, std::string host, std::string path, int clients,
                       std::chrono::milliseconds pause, std::chrono::milliseconds timeout)
    : port_(port),
      host_(std::move(host)),
      path_(std::move(path)),
      clients_(clients),
      pause_(pause),
      timeout_(timeout) {}

SteadyLoad::~SteadyLoad() { stop(); }

void SteadyLoad::start() {
  for (int i = 0; i < clients_; ++i) threads_.emplace_back([this] { run(); });
}

void SteadyLoad::run() {
  while (!stopping_.load()) {
    const auto started = std::chrono::steady_clock::now();
    const QuickResponse r = quick_get(port_, host_, path_, timeout_);
    record(r, std::chrono::steady_clock::now() - started);
    std::this_thread::sleep_for(pause_);
  }
}

void SteadyLoad::record(const QuickResponse& r, std::chrono::steady_clock::duration took) {
  std::lock_guard lock(mu_);
  ++counts_.sent;
  if (r.status == 200) {
    ++counts_.ok;
    ok_.fetch_add(1);
    return;
  }
  ++(r.timed_out ? counts_.hung : counts_.failed);
  if (counts_.failures.size() < 20) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    counts_.failures.push_back("status=" + std::to_string(r.status) + " error=" + r.router_error +
                               (r.timed_out ? " (timed out)" : "") + " after " + std::to_string(ms) + " ms");
  }
}

SteadyLoad::Counts SteadyLoad::stop() {
  stopping_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  return counts_;
}

RssWatch::RssWatch(pid_t pid) : pid_(pid) {
  start_ = rss_kib(pid).value_or(0);
  peak_ = start_;
}

void RssWatch::sample() { peak_ = std::max(peak_, rss_kib(pid_).value_or(0)); }

}  // namespace sy::test
