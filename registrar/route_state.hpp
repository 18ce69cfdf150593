#pragma once
// RouteState: the per-route decisions of switchyard-registrar, pure and
// header-only so they are unit-tested with `now` as a parameter (no NATS, no
// timers, no sleeping). Owned and called by the registrar's control thread
// only; it never fails.
//
// - Heartbeat period ("effective interval"): the route's
//   registration_interval, shortened to the smallest non-zero
//   minimumRegisterIntervalInSeconds any router has asked for.
// - Each tick runs the health check (a route without one is healthy):
//   healthy publishes router.register and resets the unregister count;
//   unhealthy publishes router.unregister at most `unregister_limit`
//   consecutive times, then stays quiet until the check recovers.
// - A router (re)starting, or NATS reconnecting, re-registers at once a
//   route whose last check was healthy.
#include <algorithm>
#include <chrono>

namespace sy::registrar {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

enum class Publish { nothing, register_route, unregister_route };
enum class Health { unknown, healthy, unhealthy };

class RouteState {
 public:
  RouteState(Millis interval, int unregister_limit) : interval_(interval), unregister_limit_(unregister_limit) {}

  Millis interval() const { return interval_; }
  Millis effective_interval() const {
    return router_minimum_.count() > 0 ? std::min(interval_, router_minimum_) : interval_;
  }
  Millis router_minimum() const { return router_minimum_; }

  // A router asked for heartbeats at least every `minimum` (0 = no
  // preference, ignored). The smallest such request is kept. If it shortens
  // the period, the next tick is pulled in to last tick + new period; returns
  // true when next_due() moved earlier.
  bool set_router_minimum(Millis minimum) {
    if (minimum.count() <= 0) return false;
    if (router_minimum_.count() > 0 && router_minimum_ <= minimum) return false;
    router_minimum_ = minimum;
    if (!ticked_) return false;
    TimePoint sooner = last_tick_ + effective_interval();
    if (sooner >= next_due_) return false;
    next_due_ = sooner;
    return true;
  }

  // A tick starts at `now` (its check begins): the next one is due one
  // effective interval later.
  void start_tick(TimePoint now) {
    ticked_ = true;
    last_tick_ = now;
    next_due_ = now + effective_interval();
  }
  // The first tick is due at once.
  TimePoint next_due() const { return ticked_ ? next_due_ : TimePoint::min(); }
  bool due(TimePoint now) const { return !ticked_ || now >= next_due_; }

  // The outcome of this tick's health check.
  Publish on_check(bool healthy) {
    if (healthy) {
      health_ = Health::healthy;
      unregisters_ = 0;
      return Publish::register_route;
    }
    health_ = Health::unhealthy;
    if (unregisters_ >= unregister_limit_) return Publish::nothing;
    ++unregisters_;
    return Publish::unregister_route;
  }

  // A router announced itself (router.start, greet reply) or NATS
  // reconnected: register now if the last check was healthy.
  Publish on_announce() const {
    return health_ == Health::healthy ? Publish::register_route : Publish::nothing;
  }

  Health health() const { return health_; }
  // router.unregister messages sent since the route was last healthy.
  int consecutive_unregisters() const { return unregisters_; }

 private:
  Millis interval_;
  int unregister_limit_;
  Millis router_minimum_{0};
  bool ticked_ = false;
  TimePoint last_tick_{};
  TimePoint next_due_{};
  Health health_ = Health::unknown;
  int unregisters_ = 0;
};

}  // namespace sy::registrar
