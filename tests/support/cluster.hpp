#pragma once
// A tunnel cluster for integration tests (SPEC §5): N `switchyard` nodes with
// tunnels on, sharing one nats-server, optionally HAProxy in front of them
// (HTTP to the proxy ports, TCP to the tunnel listeners, both checking
// /health), `switchyard-tunnel` agents, and a steady-load client that counts
// what it sent, what failed and what never completed.
//
// Every port is picked free at run time on 127.0.0.1. Start processes from
// the test's main thread (see process.hpp). Objects are used from one
// thread, except SteadyLoad, which runs its own.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/haproxy.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/router_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace sy::test {

struct ClusterOptions {
  int nodes = 2;
  std::string secret = "cluster-secret";  // tunnel.secret; empty = no auth
  std::string domain = "tunnel.test";
  std::string register_interval = "1s";
  std::string ping_interval = "1s";
  std::string drain_wait;     // omitted when empty
  std::string drain_timeout;  // omitted when empty
  bool enable_proxy = false;  // the nodes expect PROXY v2 (HAProxy sends it)
  int workers = 2;
  bool tcp = false;           // tunnel.tcp_ports: a range from a random free-looking base
  bool socks = false;         // a SOCKS5 entry on every node
  std::string socks_user, socks_pass;  // its credentials (also CONNECT's); empty = none
  // Node i binds its proxy port (and TCP entry ports) on 127.0.0.<i+1>, as
  // nodes on their own machines, so they can all open one port number.
  bool distinct_hosts = false;
};

// One node: its directory, its router and its tunnel listener.
struct ClusterNode {
  ClusterNode(std::string node_id, const Binaries& binaries)
      : id(std::move(node_id)), dir("sy-node"), router(dir, binaries) {}
  std::string id;
  TempDir dir;
  Router router;
  uint16_t tunnel_port = 0;
  uint16_t socks_port = 0;  // ClusterOptions::socks
  std::string ip = "127.0.0.1";  // bind_address (ClusterOptions::distinct_hosts)

  std::string tunnel_url() const { return "ws://127.0.0.1:" + std::to_string(tunnel_port); }
  std::string access_log() const { return read_file(dir.file("access.log")); }
  // Live sessions of `tunnel_id` on this node, from GET /tunnels (-1 when it does not answer).
  int sessions(const std::string& tunnel_id) const;
  // Endpoints /routes lists for `host` (-1 when it does not answer).
  int route_endpoints(const std::string& host) const;
};

class Cluster {
 public:
  // `bin_dir`: the build directory (switchyard, tests/switchyard-echo).
  explicit Cluster(const std::string& bin_dir, ClusterOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // nats-server, then every node, healthy. False (error() says why) otherwise.
  bool start();
  // HAProxy in front: HTTP (send-proxy-v2 when enable_proxy, else
  // X-Forwarded-For) and TCP to the tunnel listeners, round robin, /health
  // checked every 200 ms (two failures take a node out).
  bool start_haproxy();

  ClusterNode& node(size_t i) { return *nodes_.at(i); }
  size_t size() const { return nodes_.size(); }
  NatsServer& nats() { return nats_; }
  Haproxy& haproxy() { return haproxy_; }
  const ClusterOptions& options() const { return options_; }
  const TempDir& dir() const { return dir_; }
  uint16_t front_port() const { return front_port_; }
  std::string front_tunnel_url() const { return "ws://127.0.0.1:" + std::to_string(front_tunnel_port_); }
  const std::string& error() const { return error_; }

  // A token minted by `switchyard token` with node 0's config ("" on failure).
  std::string token(const std::string& id, const std::string& label, const std::string& ttl = "1h") const;
  // "<label>.<domain>".
  std::string host(const std::string& label) const { return label + "." + options_.domain; }
  // Polls until every node still running answers `status` for `host`.
  bool wait_status_everywhere(const std::string& host, int status, std::chrono::milliseconds timeout,
                              const std::string& path = "/");
  // The tails of every log, for a failed test.
  std::string logs() const;

 private:
  std::string node_yaml(const ClusterNode& node, uint16_t proxy_port) const;

  ClusterOptions options_;
  Binaries binaries_;
  TempDir dir_{"sy-cluster"};
  NatsServer nats_;
  std::vector<std::unique_ptr<ClusterNode>> nodes_;
  Haproxy haproxy_;
  uint16_t front_port_ = 0;
  uint16_t front_tunnel_port_ = 0;
  uint16_t tcp_base_ = 0;  // tunnel.tcp_ports starts here (200 ports)
  std::string error_;
};

struct AgentOptions {
  std::vector<std::string> servers;  // ws://...
  std::string id;
  std::string label;  // empty: none
  std::string token;  // empty: none
  uint16_t to_port = 0;
  int connections = 1;
  std::vector<std::string> extra;  // more flags: --tcp, --advertise-address, --basic-auth ...
};

// One `switchyard-tunnel` process (logs agent-<name>.out / .err in `dir`).
class Agent {
 public:
  // `binary`: the switchyard-tunnel to run.
  Agent(const TempDir& dir, std::string name, std::string binary)
      : dir_(dir), name_(std::move(name)), binary_(std::move(binary)) {}
  bool start(const AgentOptions& options);
  // The host of its tunnel-ready line, once printed ("" if not within `timeout`).
  std::string wait_ready(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // A TCP tunnel's entry port on the node at `server` (its tcp-entry line), 0 if none within `timeout`.
  uint16_t wait_tcp_port(const std::string& server, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  Process& process() { return process_; }
  std::string out() const { return read_file(dir_.file("agent-" + name_ + ".out")); }
  std::string err() const { return read_file(dir_.file("agent-" + name_ + ".err")); }

 private:
  const TempDir& dir_;
  std::string name_;
  std::string binary_;
  Process process_;
};

// GET <path> with Host on 127.0.0.1:port over a fresh connection
// (Connection: close), bounded by `timeout`: the status (0 when no complete
// answer), the router error header, the body. `preamble` goes first (a
// PROXY header for a node with enable_proxy).
struct QuickResponse {
  int status = 0;
  std::string router_error;
  std::string body;
  bool timed_out = false;
};
QuickResponse quick_get(uint16_t port, const std::string& host, const std::string& path,
                        std::chrono::milliseconds timeout, const std::vector<std::string>& headers = {},
                        const std::string& preamble = {});
// PROXY protocol v1 line for a client at `ip` (what HAProxy's send-proxy says).
std::string proxy_v1(const std::string& ip);

// `clients` threads, each sending one request after another (quick_get,
// `pause` between them) until stop().
class SteadyLoad {
 public:
  struct Counts {
    uint64_t sent = 0;
    uint64_t ok = 0;      // 200
    uint64_t failed = 0;  // anything else that completed, or a closed connection
    uint64_t hung = 0;    // no answer within the timeout
    std::vector<std::string> failures;  // the first few, described
  };
  SteadyLoad(uint16_t port, std::string host, std::string path, int clients,
             std::chrono::milliseconds pause = std::chrono::milliseconds(5),
             std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  ~SteadyLoad();
  void start();
  Counts stop();
  uint64_t ok() const { return ok_.load(); }

 private:
  void run();
  void record(const QuickResponse& r, std::chrono::steady_clock::duration took);

  uint16_t port_;
  std::string host_, path_;
  int clients_;
  std::chrono::milliseconds pause_, timeout_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> ok_{0};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  Counts counts_;
};

// Peak minus start of a process's RSS while `sample` is called.
class RssWatch {
 public:
  explicit RssWatch(pid_t pid);
  void sample();
  long growth_kib() const { return peak_ - start_; }

 private:
  pid_t pid_;
  long start_ = 0;
  long peak_ = 0;
};

}  // namespace sy::test
