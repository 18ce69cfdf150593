#include "router/proxy/watchdog.hpp"

namespace sy::proxy {

void Watchdog::check(route::TimePoint now) {
  if (now < deadline_) return;
  deadline_ = route::TimePoint::max();
  expired_ = true;
  if (target_ == Target::upstream && upstream_) {
    upstream_->close();
    return;
  }
  client_.shutdown(SHUT_RDWR);
  client_.close();
}

}  // namespace sy::proxy
