#pragma once
// Hands the current RouteTable from the control thread to the workers.
// publish() (control thread) swaps the pointer under a mutex and bumps a
// generation counter; a worker's SnapshotCache reads the counter on every
// request (one relaxed-acquire load) and takes the mutex only when it moved.
// (GCC 12's std::atomic<std::shared_ptr> spins on a lock for every load.)
#include <atomic>
#include <cstdint>
#include <mutex>

#include "router/route/route_table.hpp"

namespace sy::route {

class SnapshotHolder {
 public:
  SnapshotHolder() : table_(std::make_shared<RouteTable>()) {}
  void publish(RouteTablePtr table) {
    std::lock_guard lock(mutex_);
    table_ = std::move(table);
    generation_.fetch_add(1, std::memory_order_release);
  }
  RouteTablePtr load(uint64_t* generation) const {
    std::lock_guard lock(mutex_);
    *generation = generation_.load(std::memory_order_relaxed);
    return table_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  RouteTablePtr table_;
  std::atomic<uint64_t> generation_{1};
};

// One per worker thread; not shared.
class SnapshotCache {
 public:
  explicit SnapshotCache(const SnapshotHolder& holder) : holder_(holder) {}
  const RouteTablePtr& get() {
    if (holder_.generation() != generation_) table_ = holder_.load(&generation_);
    return table_;
  }

 private:
  const SnapshotHolder& holder_;
  RouteTablePtr table_;
  uint64_t generation_ = 0;
};

}  // namespace sy::route
