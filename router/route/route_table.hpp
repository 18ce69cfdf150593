#pragma once
// RouteTable: an immutable snapshot of host -> path -> pool, read by every
// worker without locks. Registry (registry.hpp) builds new snapshots on the
// control thread; a new snapshot shares every unchanged host entry, pool and
// trie node with the last one (host_map.hpp), so publishing costs only what
// changed.
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "router/route/host_map.hpp"
#include "router/route/pool.hpp"

namespace sy::route {

class RouteTable {
 public:
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

 private:
  friend class Registry;

  // Bit d set: some wildcard host has d labels after its "*." ("*.apps.a.com": 3).
  // A lookup only tries the wildcard parents that could exist.
  static unsigned labels(std::string_view host_suffix);
  static uint64_t depth_bit(unsigned labels) { return uint64_t{1} << (labels < 63 ? labels : 63); }  // 63: 63 or more

  HostMap hosts_;
  uint64_t wildcard_depths_ = 0;
  size_t route_count_ = 0;
  size_t endpoint_count_ = 0;
};

using RouteTablePtr = std::shared_ptr<const RouteTable>;

}  // namespace sy::route
