#pragma once
// A pool: the endpoints registered under one route key, and how to pick one.
// Pools are immutable once published in a snapshot (membership changes build
// a new Pool); the round-robin cursor and the endpoints' live state are
// atomics, so any worker thread may call next() concurrently.
#include <atomic>
#include <string>
#include <vector>

#include "router/route/endpoint.hpp"
#include "router/route/ref.hpp"

namespace sy::route {

// Endpoints already tried by one request: usually a handful, kept inline;
// more spill to the heap.
class Tried {
 public:
  bool contains(const Endpoint* e) const;
  void add(const Endpoint* e);
  size_t size() const { return n_ + spill_.size(); }

 private:
  static constexpr size_t kInline = 8;
  const Endpoint* items_[kInline] = {};
  size_t n_ = 0;
  std::vector<const Endpoint*> spill_;
};

class Pool : public RefCounted {
 public:
  Pool(std::string key, std::vector<EndpointPtr> endpoints, Algorithm algorithm, uint32_t start);

  const std::string& key() const { return key_; }  // "host/path"
  const std::vector<EndpointPtr>& endpoints() const { return endpoints_; }
  bool empty() const { return endpoints_.empty(); }
  Algorithm algorithm() const { return algorithm_; }

  // Picks the next endpoint not in `tried`, skipping ones marked failed (if
  // every untried endpoint is marked failed, the marks are ignored, as
  // gorouter clears them) and, when max_conns > 0, ones with that many
  // requests in flight. Returns nullptr when none is left.
  const EndpointPtr* next(const Tried& tried, TimePoint now, int max_conns = 0) const;
  // True when every untried endpoint has max_conns requests in flight.
  bool overloaded(const Tried& tried, int max_conns) const;

 private:
  const EndpointPtr* next_round_robin(const Tried& tried, TimePoint now, int max_conns) const;
  const EndpointPtr* next_least_connection(const Tried& tried, TimePoint now, int max_conns) const;

  friend class Registry;

  std::string key_;
  std::vector<EndpointPtr> endpoints_;
  mutable std::atomic<uint32_t> cursor_;
  Algorithm algorithm_;
  // Registry bookkeeping, carried by the published pool so the registry keeps no copy of the table.
  std::optional<Algorithm> requested_;  // the latest options.loadbalancing seen for this route
  TimePoint empty_since_{};             // when it lost its last endpoint (empty_pool_timeout)
};

inline void release(const Pool* p) {
  if (p->drop_ref()) delete p;
}

using PoolPtr = Ref<const Pool>;

}  // namespace sy::route
