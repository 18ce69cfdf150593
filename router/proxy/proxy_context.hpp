#pragma once
// What every worker's sessions share: the config, the metrics they bump, the
// access log, and the drain state. Created once in main(); read-only apart
// from the atomics and the (internally synchronised) access log.
#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "router/proxy/access_log.hpp"
#include "status/metrics.hpp"

namespace sy::proxy {

struct ProxyMetrics {
  metrics::Counter* total_requests;
  metrics::Counter* responses[6];  // 1xx..5xx, then "xxx" for anything else
  metrics::Counter* bad_gateways;
  metrics::Counter* rejected_requests;  // malformed or oversized heads
  metrics::Counter* backend_exhausted_conns;
  metrics::Counter* websocket_upgrades;
  metrics::Counter* websocket_failures;
  metrics::Counter* retries;
  metrics::Histogram* latency;  // milliseconds, request start to response end
  metrics::Histogram* route_lookup_time;  // nanoseconds, sampled 1 in 16 per connection
  metrics::Counter* rejected_connections;  // max_client_connections reached
  metrics::Gauge* active_connections;

  static ProxyMetrics create(metrics::Registry& registry);
  void count_response(int status) const;
};

struct ProxyContext {
  ProxyContext(const config::Config& c, metrics::Registry& registry, std::unique_ptr<AccessLog> log)
      : config(c), metrics(ProxyMetrics::create(registry)), access_log(std::move(log)) {}

  const config::Config& config;
  ProxyMetrics metrics;
  std::unique_ptr<AccessLog> access_log;  // null when off
  std::atomic<bool> draining{false};       // finish the current request, then close

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
