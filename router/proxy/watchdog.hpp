#pragma once
// Watchdog: one timer per connection that enforces whichever deadline the
// session set last (idle, header read, backend response, write progress).
// Moving a deadline later is a plain store; only moving it earlier re-arms
// the timer. When it fires past the deadline it closes the target (the
// client socket, or the upstream stream), so the pending operation fails and
// the session sees expired() == true. Asio 1.81 has no cancel_after.
//
// Threading: the owning worker only.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "router/route/endpoint.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::proxy {

class Watchdog {
 public:
  enum class Target { client, upstream };

  Watchdog(boost::asio::ip::tcp::socket& client);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void set(route::TimePoint deadline, Target target);
  void clear();  // no deadline
  void set_upstream(upstream::ByteStream* stream) { state_->upstream = stream; }
  bool expired() const { return state_->expired; }
  void reset_expired() { state_->expired = false; }

 private:
  struct State {
    explicit State(boost::asio::ip::tcp::socket& c) : timer(c.get_executor()), client(&c) {}
    boost::asio::steady_timer timer;
    boost::asio::ip::tcp::socket* client;
    upstream::ByteStream* upstream = nullptr;
    route::TimePoint deadline = route::TimePoint::max();
    route::TimePoint armed = route::TimePoint::max();
    Target target = Target::client;
    bool expired = false;
    bool stopped = false;
  };
  static void arm(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace sy::proxy
