#pragma once
// Registry: the authoritative route table, owned by the control thread.
// It applies register/unregister messages, prunes stale endpoints, and
// publishes immutable RouteTable snapshots for the workers. Not thread-safe:
// every method runs on the control thread. Time is always a parameter.
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "router/route/route_message.hpp"
#include "router/route/route_table.hpp"

namespace sy::route {

struct RegistryOptions {
  std::chrono::seconds droplet_stale_threshold{120};  // default and upper bound of an endpoint's TTL
  std::chrono::seconds empty_pool_timeout{0};         // keep an emptied pool (503) this long; 0 = drop at once
  Algorithm default_algorithm = Algorithm::round_robin;
};

// What one message or prune changed, for logs and metrics.
struct Change {
  int endpoints_added = 0;
  int endpoints_updated = 0;   // fields changed
  int heartbeats = 0;          // same fields, heartbeat refreshed
  int endpoints_removed = 0;
  int routes_added = 0;        // new route keys
  int routes_removed = 0;
  std::vector<std::string> removed_addresses;  // prune only: "uri address" pairs for the log
};

class Registry {
 public:
  explicit Registry(RegistryOptions options, uint32_t seed = std::random_device{}());

  Change apply_register(const RouteMessage& msg, TimePoint now);
  Change apply_unregister(const RouteMessage& msg, TimePoint now);
  // Removes endpoints whose last heartbeat is older than their threshold, and
  // emptied pools older than empty_pool_timeout.
  Change prune(TimePoint now);
  // Stamps every endpoint's heartbeat with `now` (after a NATS outage).
  void freshen(TimePoint now);

  bool dirty() const { return !edits_.empty(); }
  // Builds a new snapshot from the last one plus what changed since.
  RouteTablePtr publish();
  const RouteTablePtr& current() const { return current_; }

  size_t route_count() const { return route_count_; }
  size_t endpoint_count() const { return endpoint_count_; }

 private:
  // The model is the last published snapshot plus the hosts changed since
  // (edits_): the registry keeps no second copy of the table. Registration
  // state that outlives a publish (latest loadbalancing option, when a pool
  // emptied) travels in the published Pool.
  struct RouteState {  // one route of a host being changed
    std::string path;
    std::vector<EndpointPtr> endpoints;
    std::optional<Algorithm> algorithm;  // latest options.loadbalancing seen
    TimePoint empty_since{};
    PoolPtr built;  // the published pool, while neither membership nor algorithm changed
  };
  struct HostEdit {
    std::vector<RouteState> routes;  // in no particular order
  };

  std::chrono::seconds effective_threshold(std::chrono::seconds requested) const;
  // The pool the last snapshot holds for host+path, if any.
  const Pool* published(const std::string& host, std::string_view path) const;
  // The host's edit, started from its published routes on first use.
  HostEdit& edit(const std::string& host);
  static RouteState* route(HostEdit& host, std::string_view path);
  // An emptied pool is dropped once it has been empty for empty_pool_timeout.
  bool expired(TimePoint empty_since, TimePoint now) const;
  bool emptied(HostEdit& host, size_t index, TimePoint now, Change* c);
  bool needs_prune(const HostRoutes& routes, TimePoint now) const;
  void prune_host(const std::string& host, HostEdit& edit, TimePoint now, Change* c);
  Ref<const HostRoutes> build_host(const std::string& host, HostEdit& edit);

  RegistryOptions options_;
  std::minstd_rand rng_;
  RouteTablePtr current_;
  struct HostHash {
    size_t operator()(const std::string& host) const { return HostMap::default_hash(host); }
  };
  std::unordered_map<std::string, HostEdit, HostHash> edits_;
  std::array<size_t, 64> wildcards_by_depth_{};
  std::vector<std::pair<std::string_view, PoolPtr>> scratch_routes_;  // build_host's, kept for its capacity  // RouteTable::wildcard_depths_, counted
  size_t route_count_ = 0;
  size_t endpoint_count_ = 0;
};

}  // namespace sy::route
