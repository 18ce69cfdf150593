#pragma once
// Registry: the authoritative route table, owned by the control thread.
// It applies register/unregister messages, prunes stale endpoints, and
// publishes immutable RouteTable snapshots for the workers. Not thread-safe:
// every method runs on the control thread. Time is always a parameter.
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
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

  bool dirty() const { return !dirty_hosts_.empty(); }
  // Builds a new snapshot from the last one plus what changed since.
  RouteTablePtr publish();
  const RouteTablePtr& current() const { return current_; }

  size_t route_count() const { return route_count_; }
  size_t endpoint_count() const { return endpoint_count_; }

 private:
  struct PoolState {
    std::vector<EndpointPtr> endpoints;
    std::optional<Algorithm> algorithm;  // latest options.loadbalancing seen
    TimePoint empty_since{};
    PoolPtr built;  // null when membership changed since the last publish
  };
  struct HostState {
    std::map<std::string, PoolState> paths;  // path -> pool
  };

  std::chrono::seconds effective_threshold(std::chrono::seconds requested) const;
  void mark_dirty(const std::string& host, PoolState* pool);
  bool emptied(const std::string& host, const std::string& path, PoolState& pool, TimePoint now, Change* c);
  std::shared_ptr<const HostRoutes> build_host(const std::string& host, HostState& state);

  RegistryOptions options_;
  std::minstd_rand rng_;
  std::unordered_map<std::string, HostState> hosts_;
  std::unordered_set<std::string> dirty_hosts_;
  RouteTablePtr current_;
  size_t route_count_ = 0;
  size_t endpoint_count_ = 0;
};

}  // namespace sy::route
