#include "router/proxy/watchdog.hpp"

namespace sy::proxy {

Watchdog::Watchdog(boost::asio::ip::tcp::socket& client) : state_(std::make_shared<State>(client)) {}

Watchdog::~Watchdog() {
  state_->stopped = true;
  state_->client = nullptr;
  state_->upstream = nullptr;
  state_->timer.cancel();
}

void Watchdog::set(route::TimePoint deadline, Target target) {
  state_->deadline = deadline;
  state_->target = target;
  if (deadline < state_->armed) arm(state_);
}

void Watchdog::clear() { state_->deadline = route::TimePoint::max(); }

void Watchdog::arm(const std::shared_ptr<State>& state) {
  state->armed = state->deadline;
  state->timer.expires_at(state->deadline);
  state->timer.async_wait([state](const boost::system::error_code& ec) {
    if (ec || state->stopped) return;  // re-armed or stopped: a newer wait owns the timer
    state->armed = route::TimePoint::max();
    if (route::Clock::now() < state->deadline) {
      if (state->deadline != route::TimePoint::max()) arm(state);
      return;
    }
    state->expired = true;
    boost::system::error_code ignored;
    if (state->target == Target::upstream && state->upstream) {
      state->upstream->close();
    } else if (state->client) {
      state->client->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      state->client->close(ignored);
    }
  });
}

}  // namespace sy::proxy
