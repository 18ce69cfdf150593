// TunnelSession's stream relays: one yamux stream <-> one TCP connection to
// the target. Both directions make their own non-blocking syscalls on the
// target socket and wait for readiness only after EAGAIN, so the spans they
// get from the yamux session (peek / prepare_write) are used and released
// before any suspension: the session's buffers may move while we wait.
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "common/log/log.hpp"
#include "tunnel/agent/session.hpp"

namespace sy::agent {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

// Close with a TCP reset: the target must not take a truncated upload for a
// complete one.
void abort_target(io::Socket& socket) {
  if (!socket.is_open()) return;
  ::linger lg{1, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  socket.close();
}

}  // namespace

void TunnelSession::on_accepted(uint32_t id) {
  if (dead_ || close_queued_) {
    yamux_.reset(id);
    wake_writer();
    return;
  }
  auto relay_state = std::make_unique<Relay>(poller_, id);
  relays_[id] = relay_state.get();
  ++children_;
  asio::co_spawn(poller_.context().get_executor(), relay(std::move(relay_state)), asio::detached);
}

asio::awaitable<void> TunnelSession::relay(std::unique_ptr<Relay> owned) {
  ChildGuard guard{this};
  Relay& r = *owned;
  const bool connected = co_await connect_target(r);
  if (!connected) {
    if (!r.reset && !dead_) log::debug("tunnel-target-unreachable", log::Fields()("stream", r.id));
    abort_stream(r, true);
  } else {
    asio::co_spawn(poller_.context().get_executor(), from_target(r), asio::detached);
    co_await to_target(r);
    while (!r.from_target_done) co_await r.done.async_wait(asio::use_awaitable);
    if (!r.reset) r.target.close();  // both directions ended cleanly
  }
  if (log::enabled(log::Level::debug))
    log::debug("tunnel-stream-done", log::Fields()("stream", r.id)("to_target", r.to_target_bytes)(
                                         "from_target", r.from_target_bytes)("reset", r.reset));
  relays_.erase(r.id);
  owned.reset();
  check_drained(Clock::now());
}

asio::awaitable<bool> TunnelSession::connect_target(Relay& r) {
  for (const auto& endpoint : config_.targets) {
    if (r.reset || dead_) co_return false;
    if (!r.target.open(endpoint.protocol().family())) continue;
    auto connected = co_await r.target.async_connect(endpoint, use_tuple);
    if (r.reset || dead_) co_return false;
    if (!std::get<0>(connected)) {
      r.target.set_nodelay();
      co_return true;
    }
  }
  co_return false;
}

// Node -> target: send from the stream's buffer; the stream's FIN becomes
// shutdown(SHUT_WR).
asio::awaitable<void> TunnelSession::to_target(Relay& r) {
  for (;;) {
    if (r.reset || dead_) co_return;
    const std::span<const uint8_t> data = yamux_.peek(r.id);
    if (!data.empty()) {
      const ssize_t n = ::send(r.target.native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        r.to_target_bytes += static_cast<uint64_t>(n);
        yamux_.consume(r.id, static_cast<size_t>(n));
        wake_writer();  // a window update may be queued
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && would_block(errno)) {
        r.target.note_write_eagain();
        auto waited = co_await r.target.async_wait(io::Socket::wait_write, use_tuple);
        if (std::get<0>(waited)) abort_stream(r, true);
        continue;
      }
      abort_stream(r, true);  // EPIPE / ECONNRESET: the target is gone
      co_return;
    }
    const yamux::IoResult got = yamux_.consume(r.id, 0);
    if (got.status == yamux::Status::would_block) {
      co_await r.readable.async_wait(asio::use_awaitable);
    } else if (got.status == yamux::Status::eof) {
      r.target.shutdown(SHUT_WR);
      co_return;
    } else {
      abort_stream(r, false);  // reset by the node, or the session failed
      co_return;
    }
  }
}

// Target -> node: recv() straight into the yamux output queue, never more
// than the stream's send window; the target's EOF becomes our FIN. After a
// short read the socket is drained: wait for the next edge rather than pay an
// EAGAIN recv() (io::Socket knows whether a FIN came along with the data).
asio::awaitable<void> TunnelSession::from_target(Relay& r) {
  bool drained = false;
  while (!r.reset && !dead_) {
    if (drained) {
      auto waited = co_await r.target.async_wait(io::Socket::wait_read, use_tuple);
      if (std::get<0>(waited)) abort_stream(r, true);
      drained = false;
      continue;
    }
    yamux::Status status;
    const std::span<uint8_t> room = yamux_.prepare_write(r.id, kRecvMax, &status);
    if (status == yamux::Status::would_block) {
      co_await r.writable.async_wait(asio::use_awaitable);
      continue;
    }
    if (status != yamux::Status::ok) {
      abort_stream(r, false);
      break;
    }
    const ssize_t n = ::recv(r.target.native_handle(), room.data(), room.size(), 0);
    const int error = errno;
    yamux_.commit_write(r.id, n > 0 ? static_cast<size_t>(n) : 0);
    if (n > 0) {
      r.from_target_bytes += static_cast<uint64_t>(n);
      if (static_cast<size_t>(n) < room.size()) {
        r.target.note_read_drained();
        drained = true;
      }
      wake_writer();
    } else if (n == 0) {
      yamux_.close(r.id);
      wake_writer();
      break;
    } else if (would_block(error)) {
      r.target.note_read_eagain();
      drained = true;
    } else if (error != EINTR) {
      abort_stream(r, true);  // ECONNRESET: the target aborted
      break;
    }
  }
  r.from_target_done = true;
  r.done.notify();
}

// Ends both directions: a reset to the node (unless it reset the stream or
// the session is gone), a TCP reset to the target, and wakes both coroutines.
void TunnelSession::abort_stream(Relay& r, bool send_reset) {
  if (r.reset) return;
  r.reset = true;
  if (send_reset && !dead_ && yamux_.reset(r.id)) wake_writer();
  abort_target(r.target);
  r.readable.notify();
  r.writable.notify();
}

}  // namespace sy::agent
