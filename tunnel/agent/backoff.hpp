#pragma once
// Backoff: when a session slot reconnects (SPEC §5.4). The nominal delay
// starts at 0.5 s and doubles per failed attempt up to 30 s; the delay used
// is drawn uniformly from [nominal/2, nominal] ("equal jitter"), so agents
// that lost one node together do not come back in lock-step, and the cap is
// never exceeded. A session that lived at least 30 s resets the schedule:
// the next reconnect starts again at 0.5 s nominal.
//
// Pure: the random draw and the session's lifetime are parameters (unit
// tests never sleep). One owner; no locking.
#include <chrono>

namespace sy::agent {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kInitial{500};
  static constexpr Duration kMax{30'000};
  static constexpr std::chrono::steady_clock::duration kResetAfter = std::chrono::seconds(30);

  // The delay before the next attempt; `unit` is uniform in [0, 1). Each
  // call doubles the nominal delay for the call after it (up to kMax).
  Duration next(double unit);
  // A session ended after living `lived`: long enough resets the schedule.
  void session_ended(std::chrono::steady_clock::duration lived);
  void reset() { nominal_ = kInitial; }
  Duration nominal() const { return nominal_; }

 private:
  Duration nominal_ = kInitial;
};

}  // namespace sy::agent
