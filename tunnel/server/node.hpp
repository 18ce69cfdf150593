#pragma once
// TunnelNode: what this node holds of the tunnels (SPEC §5.3). The sessions
// of each tunnel id, on whichever worker accepted them; admission (409 when
// the host belongs to another id); the `router.register` of each held host
// with this node's advertise address, renewed every register_interval and
// withdrawn the moment the last session of an id ends; ownership races
// settled the same way on every node (earlier claimed_at, then smaller id);
// /tunnels and the tunnel metrics.
//
// Threading: admit()/leave()/pick()/holds() from any worker (one mutex,
// taken when a session comes or goes and when a new stream is opened, not
// per request on a pooled stream); on_routes(), the heartbeat and
// describe_json() on the control thread; NATS publishing is posted there.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "router/route/route_table.hpp"
#include "status/metrics.hpp"
#include "tunnel/identity/edge_policy.hpp"
#include "tunnel/server/core.hpp"

namespace sy::tunnel {

struct NodeIdentity {
  std::string node_id;
  std::string advertise_host;  // what other nodes dial to reach this node's proxy listener
  uint16_t advertise_port = 0;
  // The nodes' proxy listeners take PROXY protocol (`enable_proxy`, behind
  // HAProxy's send-proxy-v2): a node-to-node connection then starts with a
  // PROXY v2 LOCAL header, or the other node would drop it.
  bool peers_take_proxy = false;
  std::string entry_host = "0.0.0.0";  // where TCP tunnels' entry ports listen (bind_address)
};

// Why an entry (TCP entry port, SOCKS5, CONNECT) refuses a visitor.
struct EntryRefusal {
  int status;                // 403 or 429 (SOCKS5 maps them to reply 0x02)
  std::string router_error;  // edge_forbidden / edge_rate_limited
  std::string reason;
};

class TcpEntry;

class TunnelNode {
 public:
  // `publish(subject, payload)`: NATS, from the control thread.
  using Publish = std::function<bool(const std::string& subject, const std::string& payload)>;
  TunnelNode(const config::TunnelConfig& config, NodeIdentity identity, boost::asio::io_context& control,
             Publish publish, metrics::Registry& registry);
  ~TunnelNode();

  const config::TunnelConfig& config() const { return config_; }
  const std::string& node_id() const { return identity_.node_id; }
  bool peers_take_proxy() const { return identity_.peers_take_proxy; }

  // A session that passed the handshake joins its tunnel, unless the host
  // is held by another id here or in `routes` (then the reason for a 409).
  std::optional<std::string> admit(const std::shared_ptr<SessionHandle>& session, const route::RouteTable& routes);
  void leave(const std::shared_ptr<SessionHandle>& session);
  // A live session of `tunnel_id` for a new stream: on `prefer`'s worker
  // when there is one, else the one with the fewest open streams.
  std::shared_ptr<SessionHandle> pick(std::string_view tunnel_id, const proxy::Worker* prefer) const;
  bool holds(std::string_view tunnel_id) const;
  void count_forwarded() { forwarded_->inc(); }
  void count_stream_opened() { streams_opened_->inc(); }
  void count_handshake(std::string_view result);
  // tunnel_entry_connections_total{entry=tcp|socks|connect, result=ok|refused|unreachable}
  void count_entry(std::string_view entry, std::string_view result);
  // The edge policy (wire text, "" = none) of a tunnel this node holds.
  std::string policy_of(std::string_view tunnel_id) const;
  // An entry's visitor against the tunnel's edge policy (`policy`: its wire
  // text from the registration): the allow list, then the rate limit. A
  // visitor another node forwarded was checked there.
  std::optional<EntryRefusal> check_entry(std::string_view tunnel_id, std::string_view policy,
                                          std::string_view client_ip, bool forwarded);
  // The entry credentials (socks.user/pass), sent as Proxy-Authorization
  // when a CONNECT goes to another node; "" when none.
  void set_entry_credentials(const std::string& user, const std::string& pass);
  // One request of a rate-limited tunnel (edge policy): false when over.
  bool take_rate(std::string_view tunnel_id, double rate_per_second, uint32_t burst);
  const std::string& entry_authorization() const { return entry_authorization_; }
  // The worker mirrors' entry ports run on (main, before the workers start).
  void set_entry_worker(proxy::Worker& worker) { entry_worker_ = &worker; }

  void start();                                // control thread: heartbeats
  void on_router_start() { heartbeat(); }      // control thread: a router (re)started: announce now
  // Drain (SIGUSR1), when the agents get their GoAway: every held host is
  // withdrawn at once and no heartbeat renews it; the sessions stay until
  // their streams are done.
  void drain();
  void on_routes(const route::RouteTable& t);  // control thread: ownership races, TCP mirrors
  // At exit, before the workers stop: every TCP entry port closes (their
  // accept loops would keep a stopping worker's io_context busy).
  void close_entries();
  std::string describe_json() const;           // /tunnels
  void refresh_metrics();                      // before /metrics is written

 private:
  struct Tunnel {
    std::string host;
    int64_t claimed_at_ns = 0;
    bool lost = false;  // lost an ownership race: its sessions are being closed
    bool tcp = false;            // a TCP tunnel: `entry` is its port here
    std::string address;         // declared IP:PORT ("" when none)
    std::string policy;          // edge policy wire text ("" when none)
    std::shared_ptr<TcpEntry> entry;
    std::vector<std::shared_ptr<SessionHandle>> sessions;
  };
  std::optional<std::string> join(Tunnel& t, const std::shared_ptr<SessionHandle>& s, bool fresh,
                                  uint16_t preferred_port);
  // TCP tunnels other nodes hold get the same port here (mirrors.cpp).
  struct Mirror {
    std::string host;
    uint16_t port = 0;
    std::shared_ptr<TcpEntry> entry;  // null until the entry worker bound it
  };
  void update_mirrors(const route::RouteTable& routes);
  void open_mirror(const std::string& id, const std::string& host, uint16_t port);
  std::shared_ptr<TcpEntry> take_mirror(const std::string& id);
  static uint16_t held_port(const route::RouteTable& routes, const std::string& host);
  std::string advertise_address() const;
  std::string registration(const std::string& id, const Tunnel& t) const;
  void publish_later(std::string subject, std::string payload);
  void schedule_heartbeat();
  void heartbeat();
  void evict(const std::string& id, Tunnel& t);
  static bool other_holder(const route::RouteTable& routes, const std::string& host, const std::string& id,
                           std::string_view node, int64_t* claimed_at, std::string* other_id);
  // The earliest claim of `host` by `id` in the route table (INT64_MAX: none).
  static int64_t own_claim(const route::RouteTable& routes, const std::string& host, const std::string& id);

  config::TunnelConfig config_;
  NodeIdentity identity_;
  boost::asio::io_context& control_;
  Publish publish_;
  boost::asio::steady_timer heartbeat_timer_;
  mutable std::mutex mutex_;
  bool draining_ = false;
  uint16_t port_cursor_ = 0;  // where the next TCP entry port search starts
  std::map<std::string, Mirror, std::less<>> mirrors_;  // by tunnel id
  proxy::Worker* entry_worker_ = nullptr;               // where mirrors listen
  std::string entry_authorization_;
  EdgeRateLimiter limiter_;  // edge policy rates, per tunnel id, this node's share
  std::map<std::string, Tunnel, std::less<>> tunnels_;  // by tunnel id
  uint64_t ended_bytes_in_ = 0, ended_bytes_out_ = 0;    // of sessions that are gone
  metrics::Gauge* ids_;
  metrics::Gauge* sessions_;
  metrics::Gauge* streams_;
  metrics::Counter* bytes_in_;
  metrics::Counter* bytes_out_;
  metrics::Counter* forwarded_;
  metrics::Counter* streams_opened_;
  metrics::Family<metrics::Counter>* handshakes_;
  metrics::Family<metrics::Counter>* entries_;
  double reported_in_ = 0, reported_out_ = 0;
};

}  // namespace sy::tunnel
