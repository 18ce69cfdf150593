#include "router/route/registry.hpp"

#include <algorithm>

namespace sy::route {

Registry::Registry(RegistryOptions options, uint32_t seed)
    : options_(options), rng_(seed), current_(std::make_shared<RouteTable>()) {}

std::chrono::seconds Registry::effective_threshold(std::chrono::seconds requested) const {
  if (requested.count() <= 0 || requested > options_.droplet_stale_threshold) return options_.droplet_stale_threshold;
  return requested;
}

const Pool* Registry::published(const std::string& host, std::string_view path) const {
  const HostRoutes* routes = current_->hosts_.find(host);
  return routes ? routes->route(path) : nullptr;
}

Registry::HostEdit& Registry::edit(const std::string& host) {
  auto [it, inserted] = edits_.try_emplace(host);
  if (inserted) {
    if (const HostRoutes* routes = current_->hosts_.find(host)) {
      for (size_t i = 0; i < routes->size(); ++i) {
        const Pool& pool = routes->pool(i);
        it->second.routes.push_back(RouteState{std::string(routes->path(i)), pool.endpoints(), pool.requested_,
                                               pool.empty_since_, PoolPtr::share(&pool)});
      }
    }
  }
  return it->second;
}

Registry::RouteState* Registry::route(HostEdit& host, std::string_view path) {
  for (RouteState& r : host.routes)
    if (r.path == path) return &r;
  return nullptr;
}

Change Registry::apply_register(const RouteMessage& msg, TimePoint now) {
  Change c;
  const EndpointSpec& spec = msg.endpoint;
  const std::chrono::seconds threshold = effective_threshold(spec.stale_threshold);
  auto same = [&](const EndpointPtr& e) { return e->same_address(spec); };
  auto make_endpoint = [&] { return std::make_shared<Endpoint>(spec, threshold, now); };
  for (const Uri& uri : msg.uris) {
    if (!edits_.contains(uri.host)) {  // the common case: a heartbeat for a published endpoint
      if (const Pool* pool = published(uri.host, uri.path)) {
        auto it = std::find_if(pool->endpoints().begin(), pool->endpoints().end(), same);
        if (it != pool->endpoints().end() && (*it)->same_fields(spec, threshold) &&
            !(spec.algorithm && pool->requested_ != spec.algorithm)) {
          (*it)->heartbeat(now);
          ++c.heartbeats;
          continue;
        }
      }
    }
    HostEdit& host = edit(uri.host);
    RouteState* pool = route(host, uri.path);
    if (!pool) {
      pool = &host.routes.emplace_back(RouteState{uri.path, {}, {}, {}, {}});
      ++route_count_;
      ++c.routes_added;
    }
    if (spec.algorithm && pool->algorithm != spec.algorithm) {
      pool->algorithm = spec.algorithm;
      pool->built = {};
    }
    auto it = std::find_if(pool->endpoints.begin(), pool->endpoints.end(), same);
    if (it == pool->endpoints.end()) {
      pool->endpoints.push_back(make_endpoint());
      ++endpoint_count_;
      ++c.endpoints_added;
      pool->built = {};
    } else if ((*it)->same_fields(spec, threshold)) {
      (*it)->heartbeat(now);
      ++c.heartbeats;
    } else {
      *it = make_endpoint();  // new fields; live marks start afresh
      ++c.endpoints_updated;
      pool->built = {};
    }
  }
  return c;
}

bool Registry::expired(TimePoint empty_since, TimePoint now) const {
  return options_.empty_pool_timeout.count() <= 0 || now - empty_since >= options_.empty_pool_timeout;
}

// Handles a pool that just lost its last endpoint. Returns true when the
// route was erased (host.routes[index] is then another route).
bool Registry::emptied(HostEdit& host, size_t index, TimePoint now, Change* c) {
  RouteState& pool = host.routes[index];
  if (!pool.endpoints.empty()) return false;
  if (pool.empty_since == TimePoint{}) pool.empty_since = now;
  if (!expired(pool.empty_since, now)) return false;
  host.routes.erase(host.routes.begin() + static_cast<std::ptrdiff_t>(index));
  --route_count_;
  ++c->routes_removed;
  return true;
}

Change Registry::apply_unregister(const RouteMessage& msg, TimePoint now) {
  Change c;
  auto same = [&](const EndpointPtr& e) { return e->same_address(msg.endpoint); };
  for (const Uri& uri : msg.uris) {
    if (!edits_.contains(uri.host)) {  // only start an edit when there is something to remove
      const Pool* pool = published(uri.host, uri.path);
      if (!pool || std::none_of(pool->endpoints().begin(), pool->endpoints().end(), same)) continue;
    }
    HostEdit& host = edit(uri.host);
    RouteState* pool = route(host, uri.path);
    if (!pool) continue;
    auto it = std::find_if(pool->endpoints.begin(), pool->endpoints.end(), same);
    if (it == pool->endpoints.end()) continue;
    pool->endpoints.erase(it);
    pool->built = {};
    --endpoint_count_;
    ++c.endpoints_removed;
    if (pool->endpoints.empty()) pool->empty_since = TimePoint{};
    emptied(host, static_cast<size_t>(pool - host.routes.data()), now, &c);
  }
  return c;
}

bool Registry::needs_prune(const HostRoutes& routes, TimePoint now) const {
  for (size_t i = 0; i < routes.size(); ++i) {
    const Pool& pool = routes.pool(i);
    if (pool.empty() && expired(pool.empty_since_, now)) return true;
    for (const auto& e : pool.endpoints())
      if (now - e->last_heartbeat() > e->stale_threshold()) return true;
  }
  return false;
}

void Registry::prune_host(const std::string& host, HostEdit& edit, TimePoint now, Change* c) {
  for (size_t i = 0; i < edit.routes.size();) {
    RouteState& pool = edit.routes[i];
    bool was_empty = pool.endpoints.empty();
    auto stale = [&](const EndpointPtr& e) {
      if (now - e->last_heartbeat() <= e->stale_threshold()) return false;
      c->removed_addresses.push_back(host + pool.path + ' ' + e->address());
      return true;
    };
    size_t removed = std::erase_if(pool.endpoints, stale);
    if (removed > 0) {
      endpoint_count_ -= removed;
      c->endpoints_removed += static_cast<int>(removed);
      pool.built = {};
      pool.empty_since = TimePoint{};
    }
    if ((removed > 0 || was_empty) && pool.endpoints.empty() && emptied(edit, i, now, c)) continue;
    ++i;
  }
}

Change Registry::prune(TimePoint now) {
  Change c;
  std::vector<std::string> touched;
  current_->hosts_.for_each([&](const HostRoutes& routes) {
    std::string host(routes.host());
    if (!edits_.contains(host) && needs_prune(routes, now)) touched.push_back(std::move(host));
  });
  for (const std::string& host : touched) edit(host);
  for (auto& [host, edit] : edits_) prune_host(host, edit, now, &c);
  return c;
}

void Registry::freshen(TimePoint now) {
  current_->for_each_pool([&](const Pool& pool) {
    for (const auto& e : pool.endpoints()) e->heartbeat(now);
  });
  for (auto& [host, edit] : edits_)
    for (auto& pool : edit.routes)
      for (auto& e : pool.endpoints) e->heartbeat(now);
}

Ref<const HostRoutes> Registry::build_host(const std::string& host, HostEdit& edit) {
  // Longest path first, so the first match in HostRoutes::match is the deepest.
  std::sort(edit.routes.begin(), edit.routes.end(), [](const RouteState& a, const RouteState& b) {
    return a.path.size() != b.path.size() ? a.path.size() > b.path.size() : a.path < b.path;
  });
  std::vector<std::pair<std::string_view, PoolPtr>>& routes = scratch_routes_;
  routes.clear();
  for (RouteState& r : edit.routes) {
    if (!r.built) {  // the edit ends with this publish: its endpoints move into the pool
      auto* pool = new Pool(host + r.path, std::move(r.endpoints), r.algorithm.value_or(options_.default_algorithm),
                            static_cast<uint32_t>(rng_()));
      pool->requested_ = r.algorithm;
      pool->empty_since_ = r.empty_since;
      r.built = PoolPtr::adopt(pool);
    }
    routes.emplace_back(r.path, r.built);
  }
  Ref<const HostRoutes> made = HostRoutes::make(host, routes);
  routes.clear();
  return made;
}

RouteTablePtr Registry::publish() {
  if (edits_.empty()) return current_;
  auto next = std::make_shared<RouteTable>(*current_);
  for (auto& [host, edit] : edits_) {
    const bool existed = host.starts_with("*.") && next->hosts_.find(host);
    if (edit.routes.empty())
      next->hosts_.erase(host);
    else
      next->hosts_.set(build_host(host, edit));
    if (host.starts_with("*.") && existed != !edit.routes.empty()) {
      const unsigned depth = std::min(RouteTable::labels(std::string_view(host).substr(2)), 63u);
      size_t& wildcards = wildcards_by_depth_[depth];
      if (existed)
        --wildcards;
      else
        ++wildcards;
      const uint64_t bit = RouteTable::depth_bit(depth);
      next->wildcard_depths_ = wildcards > 0 ? next->wildcard_depths_ | bit : next->wildcard_depths_ & ~bit;
    }
  }
  next->route_count_ = route_count_;
  next->endpoint_count_ = endpoint_count_;
  edits_.clear();
  current_ = std::move(next);
  return current_;
}

}  // namespace sy::route
