#pragma once
// What a worker counts about the requests it serves, in its own memory: a
// request bumps only counters of the worker it runs on, each a relaxed load
// and store (one writer, so no locked instruction and no cache line shared
// with another worker). The control thread sums every worker's block when
// /metrics or the dashboard is read (ProxyMetrics::publish).
//
// Per-component counters are arrays indexed by the endpoint's component
// slot (route/components.hpp); router errors by outcome::Failure.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "router/outcome/outcome.hpp"
#include "router/route/components.hpp"

namespace sy::proxy {

// A counter with one writer (its worker) and any number of readers.
class LocalCounter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  void merge(const LocalCounter& o) { add(o.get()); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Bucket upper bounds (+Inf implied), chosen for a router: a request through
// it takes from tens of microseconds to tens of seconds.
inline constexpr std::array<double, 18> kLatencyMsBuckets = {0.1, 0.25, 0.5, 1,    2.5,  5,    10,    25,    50,
                                                             100, 250,  500, 1000, 2500, 5000, 10000, 30000, 60000};
inline constexpr std::array<double, 12> kLookupNsBuckets = {50,   100,   200,   500,   1000,  2000,
                                                            5000, 10000, 20000, 50000, 100000, 1000000};
inline constexpr std::array<double, 14> kRouterSecondsBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                                                 0.0005,  0.001,    0.0025,  0.005,  0.01,
                                                                 0.025,   0.1,      1,       10};

// A histogram with one writer: a count per bucket (not cumulative) and the sum.
template <const auto& Bounds>
class LocalHistogram {
 public:
  static constexpr size_t kBuckets = Bounds.size() + 1;  // the last is +Inf
  void observe(double v) {
    size_t i = 0;
    while (i < Bounds.size() && !(v <= Bounds[i])) ++i;
    counts_[i].store(counts_[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  uint64_t count(size_t bucket) const { return counts_[bucket].load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t total() const {
    uint64_t n = 0;
    for (size_t i = 0; i < kBuckets; ++i) n += count(i);
    return n;
  }
  void merge(const LocalHistogram& o) {
    for (size_t i = 0; i < kBuckets; ++i)
      counts_[i].store(count(i) + o.count(i), std::memory_order_relaxed);
    sum_.store(sum() + o.sum(), std::memory_order_relaxed);
  }
  // Counts per bucket, for metrics::Histogram::sync.
  std::array<uint64_t, kBuckets> counts() const {
    std::array<uint64_t, kBuckets> out{};
    for (size_t i = 0; i < kBuckets; ++i) out[i] = count(i);
    return out;
  }
  // The value under which fraction `q` of the observations fall, linearly
  // interpolated within its bucket (Prometheus' histogram_quantile); 0 when
  // empty, the highest bound when it falls in +Inf.
  double quantile(double q) const {
    const uint64_t n = total();
    if (n == 0) return 0;
    const double rank = q * static_cast<double>(n);
    uint64_t below = 0;
    for (size_t i = 0; i < Bounds.size(); ++i) {
      const uint64_t here = count(i);
      if (static_cast<double>(below + here) >= rank && here > 0) {
        const double lo = i == 0 ? 0 : Bounds[i - 1];
        return lo + (Bounds[i] - lo) * (rank - static_cast<double>(below)) / static_cast<double>(here);
      }
      below += here;
    }
    return Bounds.back();
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<double> sum_{0};
};

using LatencyHistogram = LocalHistogram<kLatencyMsBuckets>;
using LookupHistogram = LocalHistogram<kLookupNsBuckets>;
using RouterTimeHistogram = LocalHistogram<kRouterSecondsBuckets>;

inline constexpr size_t kFailureCount = static_cast<size_t>(outcome::Failure::client_gone) + 1;
inline constexpr size_t kStatusGroups = 5;  // 2xx, 3xx, 4xx, 5xx, xxx (gorouter's: 1xx and 101 are xxx)

inline size_t status_group(int status) {
  const int g = status / 100;
  return g >= 2 && g <= 5 ? static_cast<size_t>(g - 2) : 4;
}

struct alignas(64) WorkerStats {
  static constexpr size_t kSlots = route::ComponentSlots::kCount;

  std::array<LocalCounter, kSlots> requests;       // total_requests, by the serving endpoint's component
  std::array<LatencyHistogram, kSlots> latency;    // ms, requests that reached an endpoint
  std::array<LocalCounter, kStatusGroups> responses;
  std::array<LocalCounter, kFailureCount> failures;  // answers from the outcome table, by row
  RouterTimeHistogram router_time;                 // gorouter_time: seconds spent in the router itself
  LookupHistogram route_lookup;                    // ns, 1 request in 16
  LocalCounter bad_gateways, rejected_requests, retries;
  LocalCounter backend_exhausted_conns, backend_invalid_id, backend_invalid_tls_cert, backend_tls_handshake_failed;
  LocalCounter websocket_upgrades, websocket_failures;
  LocalCounter accepted_connections, rejected_connections;
  std::atomic<int64_t> upstream_idle{0};  // idle keep-alive streams in the worker's pool (its connector writes)

  // Adds `o` into this block (a local sum on the control thread).
  void merge(const WorkerStats& o);
  uint64_t total_requests() const;
};

}  // namespace sy::proxy
