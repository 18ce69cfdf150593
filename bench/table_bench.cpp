// Route table at scale: memory per endpoint, lookup time, and how fast
// register/unregister messages are applied and published.
//
// Workload (deterministic): apps with 1-5 instances (1 in 20 has 10, ~3.3 on
// average); 70% own an exact host (app-123456.apps.example.com, one in ten also
// under a second domain in the same message), 25% sit on shared hosts in groups
// of four routes ("", "/svc1", "/svc2/v2", "/svc3/api/v1"), 5% are wildcards
// (*.t-123.apps.example.com). Backends are IPv4 cell addresses with ports.
// Messages are shuffled, one register message per instance, as registrars send.
//
//   table_bench --benchmark_filter='Memory/plain/1000000/'  # one size per process: RSS is per process
//   table_bench --benchmark_filter='Lookup' --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   table_bench --benchmark_filter='Apply|Heartbeat'        # time per iteration in us = ns per message
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "router/route/registry.hpp"
#include "router/route/snapshot.hpp"
#if __has_include("router/route/slab.hpp")
#include "router/route/slab.hpp"
size_t slab_bytes() { return sy::route::slab::reserved_bytes(); }
#else
size_t slab_bytes() { return 0; }
#endif

namespace {

using namespace sy::route;

constexpr size_t kBatch = 1000;  // messages per publish, as the control thread drains them
const TimePoint kT0{std::chrono::seconds(100000)};

struct Query {
  std::string host, path;
};

// Queries laid out one after another, as request heads sit in a read buffer:
// reading them streams through memory instead of chasing a heap string each.
struct PackedQueries {
  std::string bytes;
  std::vector<std::pair<std::string_view, std::string_view>> items;
  explicit PackedQueries(const std::vector<Query>& queries) {
    size_t total = 0;
    for (const Query& q : queries) total += q.host.size() + q.path.size();
    bytes.reserve(total);
    std::vector<std::pair<size_t, size_t>> offsets;
    for (const Query& q : queries) {
      offsets.emplace_back(bytes.size(), bytes.size() + q.host.size());
      bytes += q.host;
      bytes += q.path;
    }
    for (size_t i = 0; i < queries.size(); ++i)
      items.emplace_back(std::string_view(bytes).substr(offsets[i].first, queries[i].host.size()),
                         std::string_view(bytes).substr(offsets[i].second, queries[i].path.size()));
  }
};

enum Kind { kExact, kPath, kWildcard, kMiss, kMix };

struct Workload {
  std::vector<RouteMessage> registers;  // one per instance, shuffled
  std::vector<RouteMessage> moved;      // same uris, instance on another address (for churn)
  std::vector<std::vector<Uri>> apps[3];  // uris of each app, by kind (exact, path host, wildcard)
  size_t endpoints = 0;                   // (route, address) pairs
};

std::string num(const char* prefix, size_t n, const char* suffix) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%06zu%s", prefix, n, suffix);
  return buf;
}

std::string guid(std::minstd_rand& rng) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%04x%08x", static_cast<unsigned>(rng()),
                static_cast<unsigned>(rng() & 0xffff), static_cast<unsigned>(rng() & 0xffff),
                static_cast<unsigned>(rng() & 0xffff), static_cast<unsigned>(rng() & 0xffff),
                static_cast<unsigned>(rng()));
  return buf;
}

Uri uri(std::string host, std::string path = "") {
  Uri u;
  u.host = std::move(host);
  u.path = std::move(path);
  return u;
}

// with_meta adds what Diego's route-emitter sends: app guid, instance guid and index, a component tag.
Workload make_workload(size_t target_endpoints, bool with_meta = false) {
  Workload w;
  std::minstd_rand rng(20240601);
  static const char* kPaths[4] = {"", "/svc1", "/svc2/v2", "/svc3/api/v1"};
  size_t path_routes = 0, wildcards = 0, instance = 0;
  for (size_t app = 0; w.endpoints < target_endpoints; ++app) {
    std::vector<Uri> uris;
    Kind kind;
    unsigned u = rng() % 100;
    if (u < 5) {
      kind = kWildcard;
      uris.push_back(uri(num("*.t-", wildcards++, ".apps.example.com")));
    } else if (u < 30) {
      kind = kPath;
      uris.push_back(uri(num("api-", path_routes / 4, ".apps.example.com"), kPaths[path_routes % 4]));
      ++path_routes;
    } else {
      kind = kExact;
      uris.push_back(uri(num("app-", app, ".apps.example.com")));
      if (rng() % 10 == 0) uris.push_back(uri(num("app-", app, ".example.org")));
    }
    int instances = rng() % 20 == 0 ? 10 : 1 + static_cast<int>(rng() % 5);
    std::string app_guid = with_meta ? guid(rng) : "";
    for (int i = 0; i < instances; ++i, ++instance) {
      RouteMessage m;
      size_t cell = instance / 250;  // 250 containers per Diego cell
      m.endpoint.host = "10." + std::to_string((cell >> 16) & 255) + '.' + std::to_string((cell >> 8) & 255) + '.' +
                        std::to_string(cell & 255);
      m.endpoint.port = static_cast<uint16_t>(61000 + instance % 250);
      if (with_meta) {
        m.endpoint.meta.app_id = app_guid;
        m.endpoint.meta.private_instance_id = guid(rng);
        m.endpoint.meta.private_instance_index = std::to_string(i);
        m.endpoint.meta.tags = {{"component", "route-emitter"}};
      }
      m.uris = uris;
      w.endpoints += uris.size();
      RouteMessage moved = m;
      moved.endpoint.port = static_cast<uint16_t>(moved.endpoint.port + 2000);
      w.registers.push_back(std::move(m));
      w.moved.push_back(std::move(moved));
    }
    w.apps[kind].push_back(std::move(uris));
  }
  // Shuffle messages (and their moved twins alike).
  std::vector<size_t> order(w.registers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<RouteMessage> regs, moved;
  regs.reserve(order.size());
  moved.reserve(order.size());
  for (size_t i : order) {
    regs.push_back(std::move(w.registers[i]));
    moved.push_back(std::move(w.moved[i]));
  }
  w.registers = std::move(regs);
  w.moved = std::move(moved);

  return w;
}

// Lookup queries. kMix: 40% exact hosts (some with a deep request path), 25%
// path hosts with a deeper request path (half of them in mixed case), 15%
// wildcard fallbacks, 20% misses (unknown hosts, and path hosts with no route
// for the path). Apps are picked uniformly (every lookup lands somewhere
// random in the table: the worst case for caches) or, with zipf, by a Zipf
// popularity (s = 1), as real traffic concentrates on a few hosts.
std::vector<Query> make_queries(const Workload& w, Kind only, bool zipf) {
  static const char* kReqPaths[4] = {"/", "/index.html", "/v2/apps/123/items", "/static/css/app.css"};
  static const char* kDeep[4] = {"/", "/svc1/users/42", "/svc2/v2/orders/7/lines", "/svc3/api/v1/x"};
  static const char* kDeepMixed[4] = {"/Home", "/SVC1/Users/42", "/Svc2/V2/Orders", "/svc3/API/v1/X"};
  std::minstd_rand rng(4242);
  std::vector<std::discrete_distribution<size_t>> popularity;
  std::vector<std::vector<size_t>> rank_to_app;
  for (const auto& apps : w.apps) {
    std::vector<double> weights(apps.size());
    for (size_t r = 0; r < weights.size(); ++r) weights[r] = zipf ? 1.0 / static_cast<double>(r + 1) : 1.0;
    popularity.emplace_back(weights.begin(), weights.end());
    rank_to_app.emplace_back(apps.size());
    for (size_t i = 0; i < apps.size(); ++i) rank_to_app.back()[i] = i;
    std::shuffle(rank_to_app.back().begin(), rank_to_app.back().end(), rng);
  }
  auto pick = [&](Kind k) -> const std::vector<Uri>& {
    return w.apps[k][rank_to_app[k][popularity[k](rng)]];
  };
  const size_t kQueries = 1 << 18;
  std::vector<Query> queries;
  queries.reserve(kQueries);
  while (queries.size() < kQueries) {
    unsigned u = rng() % 100;
    Kind kind = only != kMix ? only : u < 40 ? kExact : u < 65 ? kPath : u < 80 ? kWildcard : kMiss;
    Query q;
    if (kind == kExact) {
      const auto& uris = pick(kExact);
      q.host = uris[rng() % uris.size()].host;
      q.path = kReqPaths[rng() % 4];
    } else if (kind == kPath) {
      size_t k = rng() % 4;
      q.host = pick(kPath)[0].host;
      q.path = (rng() & 1) ? kDeepMixed[k] : kDeep[k];
    } else if (kind == kWildcard) {
      q.host = "web-" + std::to_string(rng() % 100) + pick(kWildcard)[0].host.substr(1);
      q.path = "/";
    } else if (rng() & 1) {
      q.host = num("gone-", rng() % 1000000, ".apps.example.com");
      q.path = "/";
    } else {
      q.host = pick(kPath)[0].host;
      q.path = "/unrouted/path";
    }
    queries.push_back(std::move(q));
  }
  return queries;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// malloc's heap plus the route table's own chunks (router/route/slab.hpp), when it has them.
size_t heap_bytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd + slab_bytes();
}

const Workload& workload(size_t n, bool meta = false) {
  static std::map<std::pair<size_t, bool>, std::unique_ptr<Workload>> cache;
  auto& w = cache[{n, meta}];
  if (!w) w = std::make_unique<Workload>(make_workload(n, meta));
  return *w;
}

// A registry built from the workload, as the control thread builds it.
struct Built {
  Registry registry{RegistryOptions{}, 1};
  SnapshotHolder holder;
  std::vector<bool> moved;  // BM_ApplyChurn: registers[k] currently replaced by moved[k]
};

void build(Built& b, const Workload& w) {
  for (size_t i = 0; i < w.registers.size(); ++i) {
    b.registry.apply_register(w.registers[i], kT0);
    if ((i + 1) % kBatch == 0) b.holder.publish(b.registry.publish());
  }
  b.holder.publish(b.registry.publish());
}

Built& built(size_t n) {
  static std::map<size_t, std::unique_ptr<Built>> cache;
  auto& b = cache[n];
  if (!b) {
    b = std::make_unique<Built>();
    build(*b, workload(n));
  }
  return *b;
}

// RSS growth of building the table (Registry model + published snapshot), per endpoint.
// Run one size per process: freed memory of an earlier run would hide growth.
void BM_Memory(benchmark::State& state, bool meta) {
  const Workload& w = workload(static_cast<size_t>(state.range(0)), meta);
  for (auto _ : state) {
    malloc_trim(0);
    long rss_before = rss_kb();
    size_t heap_before = heap_bytes(), slab_before = slab_bytes();
    auto b = std::make_unique<Built>();
    build(*b, w);
    malloc_trim(0);
    long rss_after = rss_kb();
    size_t heap_after = heap_bytes();
    double n = static_cast<double>(b->registry.endpoint_count());
    state.counters["endpoints"] = n;
    state.counters["routes"] = static_cast<double>(b->registry.route_count());
    state.counters["rss_bytes_per_endpoint"] = static_cast<double>(rss_after - rss_before) * 1024.0 / n;
    state.counters["heap_bytes_per_endpoint"] = static_cast<double>(heap_after - heap_before) / n;
    state.counters["of_which_slab"] = static_cast<double>(slab_bytes() - slab_before) / n;
    state.counters["build_msgs_per_s"] =
        benchmark::Counter(static_cast<double>(w.registers.size()), benchmark::Counter::kIsRate);
    state.PauseTiming();
    b.reset();
    state.ResumeTiming();
  }
}
BENCHMARK_CAPTURE(BM_Memory, plain, false)
    ->Arg(10000)->Arg(100000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Memory, with_meta, true)
    ->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void lookups(benchmark::State& state, Kind kind, bool zipf) {
  const size_t n = static_cast<size_t>(state.range(0));
  Built& b = built(n);
  SnapshotCache cache(b.holder);
  const RouteTable& table = *cache.get();
  const PackedQueries queries(make_queries(workload(n), kind, zipf));
  size_t i = 0, found = 0;
  const size_t mask = queries.items.size() - 1;
  for (auto _ : state) {
    const auto& [host, path] = queries.items[i++ & mask];
    const Pool* p = table.find(host, path);
    found += p != nullptr;
    benchmark::DoNotOptimize(p);
  }
  state.counters["hit_ratio"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}

void BM_Lookup(benchmark::State& state) { lookups(state, kMix, false); }
BENCHMARK(BM_Lookup)->Arg(10000)->Arg(100000)->Arg(1000000);
void BM_LookupZipf(benchmark::State& state) { lookups(state, kMix, true); }
BENCHMARK(BM_LookupZipf)->Arg(1000000);
// One lookup at a time, each timed on its own (rdtsc, fenced, less the cost
// of timing nothing): the latency a request sees, as percentiles over the mix.
void BM_LookupLatency(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Built& b = built(n);
  SnapshotCache cache(b.holder);
  const RouteTable& table = *cache.get();
  const PackedQueries queries(make_queries(workload(n), kMix, false));
  auto ticks = [] {
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
  };
  uint64_t overhead = UINT64_MAX;  // the fastest empty measurement
  for (int k = 0; k < 10000; ++k) {
    uint64_t a = ticks();
    uint64_t b = ticks();
    overhead = std::min(overhead, b - a);
  }
  std::vector<uint64_t> samples;
  samples.reserve(1 << 22);
  size_t i = 0;
  const size_t mask = queries.items.size() - 1;
  const auto wall_start = Clock::now();
  const uint64_t tsc_start = __rdtsc();
  for (auto _ : state) {
    const auto& [host, path] = queries.items[i++ & mask];
    uint64_t t0 = ticks();
    const Pool* p = table.find(host, path);
    benchmark::DoNotOptimize(p);
    uint64_t t1 = ticks();
    if (samples.size() < samples.capacity()) samples.push_back(t1 - t0 > overhead ? t1 - t0 - overhead : 0);
  }
  const double ns_per_tick = static_cast<double>(std::chrono::nanoseconds(Clock::now() - wall_start).count()) /
                             static_cast<double>(__rdtsc() - tsc_start);
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double q) { return static_cast<double>(samples[static_cast<size_t>(q * (samples.size() - 1))]) * ns_per_tick; };
  state.counters["p50_ns"] = pct(0.5);
  state.counters["p90_ns"] = pct(0.9);
  state.counters["p99_ns"] = pct(0.99);
}
BENCHMARK(BM_LookupLatency)->Arg(10000)->Arg(1000000);

void BM_LookupKind(benchmark::State& state, Kind kind) { lookups(state, kind, false); }
BENCHMARK_CAPTURE(BM_LookupKind, exact, kExact)->Arg(1000000);
BENCHMARK_CAPTURE(BM_LookupKind, path, kPath)->Arg(1000000);
BENCHMARK_CAPTURE(BM_LookupKind, wildcard, kWildcard)->Arg(1000000);
BENCHMARK_CAPTURE(BM_LookupKind, miss, kMiss)->Arg(1000000);

// Churn: each message pair moves one instance (unregister the old address,
// register the new one); kBatch messages per publish.
void BM_ApplyChurn(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n);
  Built& b = built(n);
  std::vector<bool>& moved = b.moved;
  moved.resize(w.registers.size());
  std::minstd_rand rng(7);
  TimePoint now = kT0;
  size_t messages = 0;
  Clock::duration publishing{};
  for (auto _ : state) {
    for (size_t m = 0; m < kBatch; m += 2) {
      size_t k = rng() % w.registers.size();
      const RouteMessage& from = moved[k] ? w.moved[k] : w.registers[k];
      const RouteMessage& to = moved[k] ? w.registers[k] : w.moved[k];
      b.registry.apply_unregister(from, now);
      b.registry.apply_register(to, now);
      moved[k] = !moved[k];
    }
    auto start = Clock::now();
    b.holder.publish(b.registry.publish());  // the old snapshot is released here too
    publishing += Clock::now() - start;
    messages += kBatch;
  }
  state.counters["msgs_per_s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["publish_ns_per_msg"] =
      static_cast<double>(std::chrono::nanoseconds(publishing).count()) / static_cast<double>(messages);
}
BENCHMARK(BM_ApplyChurn)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

// Steady state: registrars re-register every endpoint periodically; same
// fields, so only heartbeats are stamped and nothing is published.
void BM_Heartbeat(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Workload& w = workload(n);
  Built& b = built(n);
  std::minstd_rand rng(9);
  TimePoint now = kT0;
  size_t messages = 0;
  for (auto _ : state) {
    now += std::chrono::milliseconds(5);
    for (size_t i = 0; i < kBatch; ++i) {
      size_t k = rng() % w.registers.size();
      bool m = k < b.moved.size() && b.moved[k];
      b.registry.apply_register(m ? w.moved[k] : w.registers[k], now);
    }
    if (b.registry.dirty()) b.holder.publish(b.registry.publish());
    messages += kBatch;
  }
  state.counters["msgs_per_s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Heartbeat)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
