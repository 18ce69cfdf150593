#pragma once
// Watchdog: the deadline a connection must make progress by (idle, header
// read, backend response, write progress) and which side to close when it
// passes. Setting a deadline is a plain store; there is no timer per
// connection: the worker's tick (every kTick) calls check() on each of its
// sessions, which closes the stalled side so its pending operation fails and
// the session sees expired() == true. Timeouts therefore fire up to one tick
// late, which is fine for deadlines measured in seconds.
//
// Threading: the owning worker only.
#include <algorithm>
#include <chrono>

#include "router/io/socket.hpp"
#include "router/route/endpoint.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::proxy {

class Watchdog {
 public:
  enum class Target { client, upstream };
  static constexpr std::chrono::milliseconds kTick{100};

  explicit Watchdog(io::Socket& client) : client_(client) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void set(route::TimePoint deadline, Target target) {
    deadline_ = deadline;
    target_ = target;
  }
  void clear() { deadline_ = route::TimePoint::max(); }
  void set_upstream(upstream::ByteStream* stream) { upstream_ = stream; }
  bool expired() const { return expired_; }

  // Worker tick: closes the target once the deadline has passed.
  void check(route::TimePoint now);

 private:
  io::Socket& client_;
  upstream::ByteStream* upstream_ = nullptr;
  route::TimePoint deadline_ = route::TimePoint::max();
  Target target_ = Target::client;
  bool expired_ = false;
};

// How long a relay's waits may take: `idle` each (progress, the stalled side
// is closed), and never past `deadline` (a whole-phase bound such as an
// upload's endpoint_timeout; then `deadline_side` is closed, so the session
// can still answer the other one).
struct Patience {
  Patience(std::chrono::milliseconds per_wait) : idle(per_wait) {}
  Patience(std::chrono::milliseconds per_wait, route::TimePoint until, Watchdog::Target until_side)
      : idle(per_wait), deadline(until), deadline_side(until_side) {}
  void arm(Watchdog& watch, Watchdog::Target side) const {
    const route::TimePoint next = route::Clock::now() + idle;
    if (next < deadline)
      watch.set(next, side);
    else
      watch.set(deadline, deadline_side);
  }
  std::chrono::milliseconds idle;
  route::TimePoint deadline = route::TimePoint::max();
  Watchdog::Target deadline_side = Watchdog::Target::upstream;
};

}  // namespace sy::proxy
