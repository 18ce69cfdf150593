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
  boost::system::error_code ignored;
  client_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  client_.close(ignored);
}

}  // namespace sy::proxy
