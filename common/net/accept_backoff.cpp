#include "common/net/accept_backoff.hpp"

#include <cerrno>
#include <cstring>

#include "common/log/log.hpp"

namespace sy {

std::chrono::milliseconds AcceptBackoff::failed(int err, Clock::time_point now) {
  if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) return std::chrono::milliseconds::zero();
  ++failures_;
  ++unlogged_;
  delay_ = delay_ == std::chrono::milliseconds::zero() ? kFirst : std::min(delay_ * 2, kMax);
  if (now >= next_log_) {
    log::warn("accept-failed", log::Fields()("listener", listener_)("error", std::strerror(err))(
                                   "failures", unlogged_)("retry_ms", delay_.count()));
    unlogged_ = 0;
    next_log_ = now + kLogEvery;
  }
  return delay_;
}

}  // namespace sy
