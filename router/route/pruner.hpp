#pragma once
// Pruner: when stale endpoints are removed, and when that is suspended.
// With suspend_if_nats_down, nothing is pruned while NATS is unreachable
// (registrars cannot heartbeat through it, so missing heartbeats mean
// nothing), and when NATS comes back every heartbeat is stamped "now" so the
// outage does not count against anyone. Control thread only; time is a
// parameter.
#include "router/route/registry.hpp"

namespace sy::route {

class Pruner {
 public:
  Pruner(Registry& registry, bool suspend_if_nats_down) : registry_(registry), suspend_(suspend_if_nats_down) {}

  void nats_down() { nats_up_ = false; }
  // Returns true when heartbeats were freshened (NATS came back after an outage).
  bool nats_up(TimePoint now) {
    bool was_down = !nats_up_ && seen_up_;
    nats_up_ = seen_up_ = true;
    if (was_down) registry_.freshen(now);
    return was_down;
  }

  enum class Result { pruned, suspended };
  // One prune_stale_droplets_interval tick.
  Result tick(TimePoint now, Change* change) {
    if (suspend_ && !nats_up_) return Result::suspended;
    *change = registry_.prune(now);
    return Result::pruned;
  }

 private:
  Registry& registry_;
  bool suspend_;
  bool nats_up_ = false;
  bool seen_up_ = false;
};

}  // namespace sy::route
