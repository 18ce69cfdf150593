#pragma once
// RouteTable: an immutable snapshot of host -> path -> pool, read by every
// worker without locks. Registry (registry.hpp) builds new snapshots on the
// control thread; unchanged hosts and shards are shared between snapshots, so
// publishing costs only what changed.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "router/route/pool.hpp"

namespace sy::route {

// All pools registered under one host, longest path first.
struct HostRoutes {
  std::vector<PoolPtr> pools;
  std::vector<std::string> paths;  // parallel to pools: "" or "/a/b"
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class RouteTable {
 public:
  static constexpr size_t kShards = 1024;
  using Shard = std::unordered_map<std::string, std::shared_ptr<const HostRoutes>, StringHash, std::equal_to<>>;

  // host: lower-cased, without port (normalize_host). path: the request
  // path without query, as received (matched case-insensitively on whole
  // segments). Longest path match among pools that have endpoints; then the
  // wildcard parents of the host (x.y.a.com -> *.y.a.com -> *.a.com -> *.com).
  // Returns the deepest empty pool when only empty pools match (-> 503), or
  // nullptr when nothing matches (-> 404).
  const Pool* find(std::string_view host, std::string_view path) const;

  size_t route_count() const { return route_count_; }
  size_t endpoint_count() const { return endpoint_count_; }
  void for_each_pool(const std::function<void(const Pool&)>& fn) const;

  static size_t shard_of(std::string_view host) { return StringHash{}(host) % kShards; }

 private:
  friend class Registry;
  const Pool* find_exact(std::string_view host, std::string_view path) const;

  std::array<std::shared_ptr<const Shard>, kShards> shards_;
  size_t route_count_ = 0;
  size_t endpoint_count_ = 0;
};

using RouteTablePtr = std::shared_ptr<const RouteTable>;

}  // namespace sy::route
