#include "router/route/registry.hpp"

#include <algorithm>

namespace sy::route {

Registry::Registry(RegistryOptions options, uint32_t seed)
    : options_(options), rng_(seed), current_(std::make_shared<RouteTable>()) {}

std::chrono::seconds Registry::effective_threshold(std::chrono::seconds requested) const {
  if (requested.count() <= 0 || requested > options_.droplet_stale_threshold) return options_.droplet_stale_threshold;
  return requested;
}

void Registry::mark_dirty(const std::string& host, PoolState* pool) {
  if (pool) pool->built.reset();
  dirty_hosts_.insert(host);
}

Change Registry::apply_register(const RouteMessage& msg, TimePoint now) {
  Change c;
  EndpointSpec spec = msg.endpoint;
  spec.stale_threshold = effective_threshold(spec.stale_threshold);
  const std::string address = spec.address();
  for (const Uri& uri : msg.uris) {
    HostState& host = hosts_[uri.host];
    auto [it, inserted] = host.paths.try_emplace(uri.path);
    PoolState& pool = it->second;
    if (inserted) {
      ++route_count_;
      ++c.routes_added;
    }
    if (spec.algorithm && pool.algorithm != spec.algorithm) {
      pool.algorithm = spec.algorithm;
      mark_dirty(uri.host, &pool);
    }
    auto same = std::find_if(pool.endpoints.begin(), pool.endpoints.end(),
                             [&](const EndpointPtr& e) { return e->address() == address; });
    if (same == pool.endpoints.end()) {
      pool.endpoints.push_back(std::make_shared<Endpoint>(spec, now));
      ++endpoint_count_;
      ++c.endpoints_added;
      mark_dirty(uri.host, &pool);
    } else if ((*same)->spec().same_fields(spec)) {
      (*same)->heartbeat(now);
      ++c.heartbeats;
    } else {
      *same = std::make_shared<Endpoint>(spec, now);  // new fields; live marks start afresh
      ++c.endpoints_updated;
      mark_dirty(uri.host, &pool);
    }
  }
  return c;
}

// Handles a pool that just lost its last endpoint. Returns true when the
// pool was erased (the caller must not touch it again).
bool Registry::emptied(const std::string& host, const std::string& path, PoolState& pool, TimePoint now, Change* c) {
  if (!pool.endpoints.empty()) return false;
  if (pool.empty_since == TimePoint{}) pool.empty_since = now;
  if (options_.empty_pool_timeout.count() > 0 && now - pool.empty_since < options_.empty_pool_timeout) return false;
  HostState& hs = hosts_[host];
  hs.paths.erase(path);
  --route_count_;
  ++c->routes_removed;
  dirty_hosts_.insert(host);
  return true;
}

Change Registry::apply_unregister(const RouteMessage& msg, TimePoint now) {
  Change c;
  const std::string address = msg.endpoint.address();
  for (const Uri& uri : msg.uris) {
    auto host = hosts_.find(uri.host);
    if (host == hosts_.end()) continue;
    auto path = host->second.paths.find(uri.path);
    if (path == host->second.paths.end()) continue;
    PoolState& pool = path->second;
    auto it = std::find_if(pool.endpoints.begin(), pool.endpoints.end(),
                           [&](const EndpointPtr& e) { return e->address() == address; });
    if (it == pool.endpoints.end()) continue;
    pool.endpoints.erase(it);
    --endpoint_count_;
    ++c.endpoints_removed;
    mark_dirty(uri.host, &pool);
    if (pool.endpoints.empty()) pool.empty_since = TimePoint{};
    emptied(uri.host, uri.path, pool, now, &c);
    if (host->second.paths.empty()) hosts_.erase(host);
  }
  return c;
}

Change Registry::prune(TimePoint now) {
  Change c;
  for (auto host = hosts_.begin(); host != hosts_.end();) {
    for (auto path = host->second.paths.begin(); path != host->second.paths.end();) {
      PoolState& pool = path->second;
      bool was_empty = pool.endpoints.empty();
      auto stale = [&](const EndpointPtr& e) {
        if (now - e->last_heartbeat() <= e->stale_threshold()) return false;
        c.removed_addresses.push_back(host->first + path->first + ' ' + e->address());
        return true;
      };
      size_t before = pool.endpoints.size();
      std::erase_if(pool.endpoints, stale);
      size_t removed = before - pool.endpoints.size();
      if (removed > 0) {
        endpoint_count_ -= removed;
        c.endpoints_removed += static_cast<int>(removed);
        mark_dirty(host->first, &pool);
        pool.empty_since = TimePoint{};
      }
      auto next = std::next(path);
      if ((removed > 0 || was_empty) && pool.endpoints.empty()) {
        const std::string host_key = host->first, path_key = path->first;
        emptied(host_key, path_key, pool, now, &c);
      }
      path = next;
    }
    host = host->second.paths.empty() ? hosts_.erase(host) : std::next(host);
  }
  return c;
}

void Registry::freshen(TimePoint now) {
  for (auto& [host, hs] : hosts_)
    for (auto& [path, pool] : hs.paths)
      for (auto& e : pool.endpoints) e->heartbeat(now);
}

std::shared_ptr<const HostRoutes> Registry::build_host(const std::string& host, HostState& state) {
  auto routes = std::make_shared<HostRoutes>();
  // Longest path first, so the first match in RouteTable::find_exact is the deepest.
  std::vector<std::pair<const std::string*, PoolState*>> order;
  for (auto& [path, pool] : state.paths) order.emplace_back(&path, &pool);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first->size() > b.first->size(); });
  for (auto& [path, pool] : order) {
    if (!pool->built)
      pool->built = std::make_shared<const Pool>(host + *path, pool->endpoints,
                                                 pool->algorithm.value_or(options_.default_algorithm),
                                                 static_cast<uint32_t>(rng_()));
    routes->pools.push_back(pool->built);
    routes->paths.push_back(*path);
  }
  return routes;
}

RouteTablePtr Registry::publish() {
  if (dirty_hosts_.empty()) return current_;
  auto next = std::make_shared<RouteTable>(*current_);
  std::unordered_map<size_t, std::shared_ptr<RouteTable::Shard>> copies;
  for (const std::string& host : dirty_hosts_) {
    size_t index = RouteTable::shard_of(host);
    auto& shard = copies[index];
    if (!shard)
      shard = next->shards_[index] ? std::make_shared<RouteTable::Shard>(*next->shards_[index])
                                   : std::make_shared<RouteTable::Shard>();
    auto it = hosts_.find(host);
    if (it == hosts_.end())
      shard->erase(host);
    else
      (*shard)[host] = build_host(host, it->second);
  }
  for (auto& [index, shard] : copies) next->shards_[index] = std::move(shard);
  next->route_count_ = route_count_;
  next->endpoint_count_ = endpoint_count_;
  dirty_hosts_.clear();
  current_ = std::move(next);
  return current_;
}

}  // namespace sy::route
