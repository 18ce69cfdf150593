#include "tunnel/agent/backoff.hpp"

#include <algorithm>

namespace sy::agent {

Backoff::Duration Backoff::next(double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  const auto n = nominal_.count();
  const auto delay = Duration(n / 2 + static_cast<long long>(static_cast<double>(n - n / 2) * unit));
  nominal_ = std::min(nominal_ * 2, kMax);
  return std::min(delay, kMax);
}

void Backoff::session_ended(std::chrono::steady_clock::duration lived) {
  if (lived >= kResetAfter) reset();
}

}  // namespace sy::agent
