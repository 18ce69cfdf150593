#include "router/route/pool.hpp"

#include <algorithm>
#include <limits>

namespace sy::route {

bool Tried::contains(const Endpoint* e) const {
  for (size_t i = 0; i < n_; ++i)
    if (items_[i] == e) return true;
  return std::find(spill_.begin(), spill_.end(), e) != spill_.end();
}

void Tried::add(const Endpoint* e) {
  if (n_ < kInline)
    items_[n_++] = e;
  else
    spill_.push_back(e);
}

Pool::Pool(std::string key, std::vector<EndpointPtr> endpoints, Algorithm algorithm, uint32_t start)
    : key_(std::move(key)), endpoints_(std::move(endpoints)), cursor_(start), algorithm_(algorithm) {}

namespace {
bool full(const Endpoint& e, int max_conns) { return max_conns > 0 && e.in_flight() >= max_conns; }
}  // namespace

const EndpointPtr* Pool::next(const Tried& tried, TimePoint now, int max_conns) const {
  if (endpoints_.empty()) return nullptr;
  return algorithm_ == Algorithm::least_connection ? next_least_connection(tried, now, max_conns)
                                                   : next_round_robin(tried, now, max_conns);
}

bool Pool::overloaded(const Tried& tried, int max_conns) const {
  if (max_conns <= 0) return false;
  bool any = false;
  for (const auto& e : endpoints_) {
    if (tried.contains(e.get())) continue;
    if (!full(*e, max_conns)) return false;
    any = true;
  }
  return any;
}

// One scan from a rotating start: the first untried endpoint that is not
// marked failed, else (every untried one failed) the first untried one. The
// cursor then moves past the pick, so a skipped endpoint's successor does
// not get its share too.
const EndpointPtr* Pool::next_round_robin(const Tried& tried, TimePoint now, int max_conns) const {
  const size_t n = endpoints_.size();
  const size_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  const EndpointPtr* fallback = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const EndpointPtr& e = endpoints_[(start + i) % n];
    if (tried.contains(e.get()) || full(*e, max_conns)) continue;
    if (!e->failed(now)) {
      if (i > 0) cursor_.fetch_add(static_cast<uint32_t>(i), std::memory_order_relaxed);
      return &e;
    }
    if (!fallback) fallback = &e;
  }
  return fallback;
}

// Fewest in-flight requests among endpoints not marked failed (else among
// all untried ones); ties go to the first from a rotating start.
const EndpointPtr* Pool::next_least_connection(const Tried& tried, TimePoint now, int max_conns) const {
  const size_t n = endpoints_.size();
  const size_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  const EndpointPtr* best = nullptr;
  const EndpointPtr* best_failed = nullptr;
  int best_load = std::numeric_limits<int>::max(), best_failed_load = best_load;
  for (size_t i = 0; i < n; ++i) {
    const EndpointPtr& e = endpoints_[(start + i) % n];
    if (tried.contains(e.get()) || full(*e, max_conns)) continue;
    int load = e->in_flight();
    if (!e->failed(now)) {
      if (load < best_load) best = &e, best_load = load;
    } else if (load < best_failed_load) {
      best_failed = &e, best_failed_load = load;
    }
  }
  return best ? best : best_failed;
}

}  // namespace sy::route
