#pragma once
// What every worker's sessions share: the config, the metric families the
// workers' counts are published into, the access log, and the drain state.
// Created once in main(); read-only apart from the atomics and the
// (internally synchronised) access log.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "router/io/poller.hpp"
#include "router/proxy/access_log.hpp"
#include "router/proxy/worker_stats.hpp"
#include "router/route/components.hpp"
#include "status/metrics.hpp"

namespace sy::http {
struct RequestHead;
}
namespace sy::upstream {
class ByteStream;
}

namespace sy::proxy {

class Worker;

// CONNECT host:port on the proxy listener (SPEC §7), when something takes it
// (main wires the tunnel entry in): a raw stream to relay the client to, or
// the status that refuses it.
struct ConnectAnswer {
  std::unique_ptr<upstream::ByteStream> stream;
  std::string prefix;  // bytes for the client after the 200, before the relay
  int status = 403;    // no stream: 400, 403, 407 or 502
  std::string router_error;  // X-Cf-Routererror
  std::string reason;  // one line for the body and the log
  ConnectAnswer();
  ConnectAnswer(ConnectAnswer&&) noexcept;
  ConnectAnswer& operator=(ConnectAnswer&&) noexcept;
  ~ConnectAnswer();
};
using ConnectHandler = std::function<boost::asio::awaitable<ConnectAnswer>(
    Worker& worker, const http::RequestHead& head, std::string_view client_ip)>;

// The proxy's metric families. Requests are counted per worker
// (worker_stats.hpp); publish() writes the sum of every worker's block into
// the registry when /metrics is read.
class ProxyMetrics {
 public:
  explicit ProxyMetrics(metrics::Registry& registry);
  // Control thread: `total` is the workers' blocks merged.
  void publish(const WorkerStats& total, const route::ComponentSlots& components, int client_connections,
               size_t workers);

 private:
  void publish_components(const WorkerStats& total, const route::ComponentSlots& components);

  metrics::Family<metrics::Counter>* total_requests_;
  metrics::Family<metrics::Histogram>* latency_;
  std::array<metrics::Counter*, kStatusGroups> responses_{};
  std::array<metrics::Counter*, kFailureCount> failures_{};
  metrics::Histogram* router_time_;
  metrics::Histogram* route_lookup_;
  metrics::Counter *bad_gateways_, *rejected_requests_, *retries_;
  metrics::Counter *exhausted_, *invalid_id_, *invalid_tls_cert_, *tls_handshake_failed_;
  metrics::Counter *websocket_upgrades_, *websocket_failures_;
  metrics::Counter *accepted_connections_, *rejected_connections_;
  metrics::Gauge *active_connections_, *upstream_idle_, *workers_;
};

struct ProxyContext {
  ProxyContext(const config::Config& c, metrics::Registry& registry, std::unique_ptr<AccessLog> log)
      : config(c), metrics(registry), access_log(std::move(log)) {}

  const config::Config& config;
  ProxyMetrics metrics;
  std::unique_ptr<AccessLog> access_log;  // null when off
  std::atomic<bool> draining{false};       // finish the current request, then close
  ConnectHandler connect;                  // null: CONNECT is a 400, as without tunnels
  io::Engine io_engine = io::Engine::epoll;  // the workers' socket engine (set once by main)

  // max_client_connections across all workers (0 = unlimited; set once by
  // main before the workers start), and the client connections open now.
  // A worker takes a slot as it accepts a connection and gives it back when
  // the session ends, so the cap holds whichever worker the kernel hands
  // connections to.
  int max_client_connections = 0;
  std::atomic<int> client_connections{0};

  bool take_client_slot() {
    const int before = client_connections.fetch_add(1, std::memory_order_relaxed);
    if (max_client_connections == 0 || before < max_client_connections) return true;
    client_connections.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void release_client_slot() { client_connections.fetch_sub(1, std::memory_order_relaxed); }
};

}  // namespace sy::proxy
