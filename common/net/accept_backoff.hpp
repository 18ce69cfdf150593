#pragma once
// AcceptBackoff: what an accept loop does after accept(2) fails. Running out
// of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves the
// listening socket readable, so retrying at once spins a core and floods the
// log; the loop waits instead, 10 ms doubling to 1 s, and logs at most once
// per 10 s with how many accepts failed meanwhile. Any other error (a peer
// that reset before we took it) is retried at once.
//
// Time is a parameter; the owner's thread only.
#include <chrono>
#include <cstdint>
#include <string>

namespace sy {

class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};
  static constexpr std::chrono::seconds kLogEvery{10};

  explicit AcceptBackoff(std::string listener) : listener_(std::move(listener)) {}

  // The wait before the next accept (zero: retry now). Logs, rate-limited.
  std::chrono::milliseconds failed(int err, Clock::time_point now);
  void succeeded() { delay_ = std::chrono::milliseconds::zero(); }
  uint64_t failures() const { return failures_; }

 private:
  std::string listener_;
  std::chrono::milliseconds delay_{0};
  Clock::time_point next_log_{};
  uint64_t failures_ = 0;         // resource failures since start
  uint64_t unlogged_ = 0;         // since the last log line
};

}  // namespace sy
