#pragma once
// The two building blocks of a RouteTable snapshot:
//
// HostRoutes: the routes of one host, longest path first, in one immutable
// allocation that holds the host and path bytes next to the pool pointers, so
// matching a request reads one object.
//
// HostMap: host -> HostRoutes as a persistent hash trie (a HAMT: 32-way nodes
// indexed by 5 bits of the host's hash, holding only the slots in use). A copy
// of a map shares all its nodes; changing a copy copies only the nodes on the
// path to the change (a node nobody else holds is changed in place), so a
// snapshot built from the last one plus a batch of changes costs what changed,
// not the size of the table. Readers never write anything: a published map is
// read by any number of threads without locks.
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "router/route/pool.hpp"
#include "router/route/ref.hpp"

namespace sy::route {

class HostRoutes : public RefCounted {
 public:
  // `routes`: (path, pool), longest path first ("" for the host's root route).
  static Ref<const HostRoutes> make(std::string_view host, const std::vector<std::pair<std::string_view, PoolPtr>>& routes);

  std::string_view host() const { return {chars(), host_len_}; }
  size_t size() const { return count_; }
  const Pool& pool(size_t i) const { return *entries()[i].pool; }
  std::string_view path(size_t i) const;  // "" or "/a/b"
  // The route registered with exactly `path`, if any.
  const Pool* route(std::string_view path) const;
  // The longest route whose path covers `path` on whole segments
  // (case-insensitively) and that has endpoints; else the deepest covering
  // route without endpoints; else nullptr.
  const Pool* match(std::string_view path) const;

 private:
  struct Entry {
    const Pool* pool;  // one reference
    uint32_t path_len;
    bool has_endpoints;
  };
  HostRoutes(uint32_t count, uint32_t host_len) : count_(count), host_len_(host_len) {}
  ~HostRoutes() = default;
  Entry* entries() { return reinterpret_cast<Entry*>(this + 1); }
  const Entry* entries() const { return reinterpret_cast<const Entry*>(this + 1); }
  // The host's bytes, then each route's path bytes in order.
  const char* chars() const { return reinterpret_cast<const char*>(entries() + count_); }
  size_t bytes() const;  // the allocation's size
  friend void release(const HostRoutes* p);

  uint32_t count_;
  uint32_t host_len_;
  uint32_t unused_ = 0;
};
static_assert(sizeof(HostRoutes) == 16, "entries start right after the header");

class HostMap {
 public:
  using HashFn = uint64_t (*)(std::string_view);
  static uint64_t default_hash(std::string_view host);

  // `hash` is replaceable for tests (to force collisions).
  explicit HostMap(HashFn hash = &default_hash);
  HostMap(const HostMap&);  // shares every node
  HostMap& operator=(const HostMap&);
  ~HostMap();

  const HostRoutes* find(std::string_view host) const;
  size_t size() const { return size_; }
  void for_each(const std::function<void(const HostRoutes&)>& fn) const;

  // Adds or replaces the entry for routes->host().
  void set(Ref<const HostRoutes> routes);
  // Removes host's entry, if any.
  void erase(std::string_view host);

  struct Node;  // defined in host_map.cpp

 private:

  HashFn hash_;
  Ref<Node> root_;
  size_t size_ = 0;
};

void release(const HostMap::Node* n);

}  // namespace sy::route
