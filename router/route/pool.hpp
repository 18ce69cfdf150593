#pragma once
// A pool: the endpoints registered under one route key, and how to pick one.
// Pools are immutable once published in a snapshot (membership changes build
// a new Pool); the round-robin cursor and the endpoints' live state are
// atomics, so any worker thread may call next() concurrently.
#include <atomic>
#include <string>
#include <vector>

#include "router/route/endpoint.hpp"

namespace sy::route {

// Endpoints already tried by one request (at most a handful).
class Tried {
 public:
  bool contains(const Endpoint* e) const;
  void add(const Endpoint* e);
  size_t size() const { return n_; }

 private:
  static constexpr size_t kMax = 16;
  const Endpoint* items_[kMax] = {};
  size_t n_ = 0;
};

class Pool {
 public:
  Pool(std::string key, std::vector<EndpointPtr> endpoints, Algorithm algorithm, uint32_t start);

  const std::string& key() const { return key_; }  // "host/path"
  const std::vector<EndpointPtr>& endpoints() const { return endpoints_; }
  bool empty() const { return endpoints_.empty(); }
  Algorithm algorithm() const { return algorithm_; }

  // Picks the next endpoint not in `tried`, skipping ones marked failed (if
  // every untried endpoint is marked failed, the marks are ignored, as
  // gorouter clears them). Returns nullptr when every endpoint was tried.
  const EndpointPtr* next(const Tried& tried, TimePoint now) const;

 private:
  const EndpointPtr* next_round_robin(const Tried& tried, TimePoint now) const;
  const EndpointPtr* next_least_connection(const Tried& tried, TimePoint now) const;

  std::string key_;
  std::vector<EndpointPtr> endpoints_;
  Algorithm algorithm_;
  mutable std::atomic<uint32_t> cursor_;
};

using PoolPtr = std::shared_ptr<const Pool>;

}  // namespace sy::route
