#pragma once
// Control: the control thread. It owns the authoritative route Registry,
// applies registry messages handed over from nats.c's thread (in batches:
// a burst of heartbeats costs one snapshot publish), prunes stale endpoints,
// publishes `router.start` (at start and on every NATS reconnect), answers
// `router.greet`, and samples the route gauges.
//
// Threading: construct, start() and run() on the control thread; the NATS
// callbacks only parse (a pure function) and enqueue; stop() from anywhere.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "common/log/log.hpp"
#include "common/nats/nats_client.hpp"
#include "router/route/components.hpp"
#include "router/route/pruner.hpp"
#include "router/route/registry.hpp"
#include "router/route/snapshot.hpp"
#include "status/metrics.hpp"
#include "status/status_server.hpp"

namespace sy::control {

class Control {
 public:
  Control(const config::Config& config, metrics::Registry& registry, route::SnapshotHolder& snapshots,
          std::atomic<status::Health>& health);
  ~Control();

  boost::asio::io_context& io() { return io_; }
  // Connects to NATS (in the background), subscribes, arms the timers.
  // `ready` runs on the control thread once start_response_delay_interval
  // has passed (routes preloaded): health turns 200 and listeners open.
  void start(std::function<void()> ready);
  void run() { io_.run(); }
  void stop() { io_.stop(); }

  // Publishes on NATS (any thread). For other components (tunnels). A
  // router.register / router.unregister is also applied to this router's own
  // table at once (uncounted: its echo from NATS is counted as usual), so a
  // request forwarded here for a tunnel this node just took is not a 404
  // while the echo is on its way.
  bool publish(const std::string& subject, std::string_view payload);
  // The `router.start` / greet payload.
  std::string start_message() const;
  // Samples gauges (total_routes, ms_since_last_registry_update); control thread.
  void refresh_gauges();
  // Runs on the control thread after each route snapshot is published (the
  // tunnels' ownership check). Set before start().
  void on_published(std::function<void(const route::RouteTable&)> f) { on_published_ = std::move(f); }
  // Called on the control thread for every router.start seen on NATS (a
  // router started or reconnected, this one included): the tunnels announce
  // the hosts they hold at once instead of at their next heartbeat.
  void on_router_start(std::function<void()> f) { on_router_start_ = std::move(f); }
  // The component tags seen, as metrics slots (control thread).
  const route::ComponentSlots& components() const { return components_; }
  // For the dashboard (control thread): NATS as last seen.
  bool nats_connected() const { return nats_ && nats_->connected(); }
  std::string nats_url() const { return nats_ ? nats_->connected_url() : std::string(); }
  uint64_t nats_reconnects() const { return reconnects_; }
  uint64_t nats_buffered() const { return nats_ ? nats_->pending() : 0; }
  uint64_t nats_dropped() const { return nats_ ? nats_->dropped() : 0; }
  // Milliseconds since the last registry message (-1: none yet).
  double ms_since_last_update() const;

 private:
  enum class Kind { reg, unreg, greet, start };
  struct Inbound {
    Kind kind;
    route::RouteMessage msg;
    std::string reply;
    bool local = false;  // our own announcement, applied before NATS echoes it
  };

  void on_batch(const std::vector<nats::NatsClient::Message>& batch);  // NATS reader thread
  bool parse(const nats::NatsClient::Message& m, Inbound* in);           // NATS reader thread
  void enqueue(std::vector<Inbound> parsed);                             // any thread
  void drain();  // control thread
  void apply(Inbound& in, route::TimePoint now);
  void observe_registration_latency(const route::RouteMessage& msg);
  void on_connected();
  void on_disconnected();
  void schedule_prune();
  void publish_snapshot();
  void prune();
  metrics::Counter& registry_counter(uint8_t component_slot, const char* action);

  const config::Config& config_;
  metrics::Registry& metrics_;
  route::SnapshotHolder& snapshots_;
  std::atomic<status::Health>& health_;
  boost::asio::io_context io_{1};
  boost::asio::steady_timer prune_timer_;
  boost::asio::steady_timer start_timer_;
  route::Registry registry_;
  route::Pruner pruner_;
  std::unique_ptr<nats::NatsClient> nats_;
  std::function<void(const route::RouteTable&)> on_published_;
  std::function<void()> on_router_start_;
  std::string id_;
  std::string host_ip_;

  std::mutex queue_mutex_;
  std::vector<Inbound> queue_;
  bool drain_posted_ = false;

  std::chrono::system_clock::time_point last_update_{};

  // Metrics.
  metrics::Family<metrics::Counter>* registry_message_;
  metrics::Family<metrics::Counter>* unregistry_message_;
  std::map<std::pair<uint8_t, std::string>, metrics::Counter*> registry_counters_;
  route::ComponentSlots components_;  // component tags seen (bounded)
  uint64_t reconnects_ = 0;
  std::vector<metrics::Counter*> invalid_by_cause_;
  std::vector<std::unique_ptr<log::RateLimit>> invalid_log_limit_;
  metrics::Counter* routes_pruned_;
  metrics::Counter* nats_reconnects_;
  metrics::Gauge* total_routes_;
  metrics::Gauge* total_endpoints_;
  metrics::Gauge* ms_since_update_;
  metrics::Gauge* nats_up_;
  metrics::Counter* nats_dropped_;
  metrics::Gauge* nats_buffered_;
  metrics::Histogram* registration_latency_;
  uint64_t nats_dropped_seen_ = 0;
};

// The first non-loopback IPv4 address of this host, or 127.0.0.1.
std::string local_ip();

}  // namespace sy::control
