// TunnelSession's node side: reader, writer, ticker, yamux event dispatch,
// close and teardown. The stream relays are in relay.cpp.
#include "tunnel/agent/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "common/log/log.hpp"

namespace sy::agent {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr uint16_t kCloseOwnershipLost = 4409;

const char* failure_text(yamux::Failure f) {
  switch (f) {
    case yamux::Failure::protocol_error: return "yamux protocol error by the node";
    case yamux::Failure::remote_protocol_error: return "the node says we broke the yamux protocol";
    case yamux::Failure::remote_internal_error: return "the node's yamux GoAway (internal error)";
    case yamux::Failure::ping_timeout: return "keepalive ping unanswered";
    case yamux::Failure::none: break;
  }
  return "yamux failure";
}

}  // namespace

SessionConfig default_session_config() {
  SessionConfig c;
  c.yamux.ping_interval = std::chrono::seconds(5);
  return c;
}

TunnelSession::TunnelSession(io::Poller& poller, const SessionConfig& config, std::shared_ptr<NodeConnection> connection,
                             std::vector<uint8_t> leftover, SessionObserver& observer, int slot, std::string host)
    : poller_(poller), config_(config), conn_(std::move(connection)), observer_(observer), slot_(slot),
      host_(std::move(host)), started_(Clock::now()), yamux_(yamux::Role::server, config.yamux, started_),
      read_buf_(new uint8_t[kReadBuffer]),
      write_buf_(new uint8_t[kWriteChunk + ws::kMaxHeaderSize + sizeof control_ + ws::kMaxControlFrameSize]),
      writer_wake_(poller.context().get_executor()), input_room_(poller.context().get_executor()),
      children_done_(poller.context().get_executor()), tick_timer_(poller.context()) {
  const size_t n = std::min(leftover.size(), kReadBuffer);
  if (n) std::memcpy(read_buf_.get(), leftover.data(), n);
  read_end_ = n;
}

TunnelSession::~TunnelSession() = default;

asio::awaitable<void> TunnelSession::run() {
  auto executor = co_await asio::this_coro::executor;
  children_ = 3;
  asio::co_spawn(executor, reader(), asio::detached);
  asio::co_spawn(executor, writer(), asio::detached);
  asio::co_spawn(executor, ticker(), asio::detached);
  while (children_ > 0) co_await children_done_.async_wait(asio::use_awaitable);
  conn_->close();
}

void TunnelSession::child_done() {
  if (--children_ == 0) children_done_.notify();
}

asio::awaitable<void> TunnelSession::reader() {
  ChildGuard guard{this};
  while (!dead_) {
    if (!process_input()) break;
    if (reader_blocked_) {
      co_await input_room_.async_wait(asio::use_awaitable);
      continue;
    }
    auto got = co_await conn_->read_some(asio::buffer(read_buf_.get(), kReadBuffer));
    if (dead_) break;
    const auto& [ec, n] = got;
    if (ec) {
      terminate(ec == asio::error::eof ? "the node closed the connection" : "read: " + ec.message());
      break;
    }
    read_pos_ = 0;
    read_end_ = n;
  }
}

// Decodes and feeds what is buffered. False: the session ended. Sets
// reader_blocked_ when feed() stopped at the output bound.
bool TunnelSession::process_input() {
  const auto now = Clock::now();
  reader_blocked_ = false;
  for (;;) {
    if (!unfed_.empty()) {
      unfed_ = unfed_.subspan(yamux_.feed(unfed_, now));
      dispatch_events();
      wake_writer();
      if (dead_) return false;
      if (!unfed_.empty()) {
        reader_blocked_ = true;
        return true;
      }
    }
    if (read_pos_ == read_end_) return true;
    size_t used = 0;
    const ws::Event event = decoder_.decode({read_buf_.get() + read_pos_, read_end_ - read_pos_}, used);
    read_pos_ += used;
    if (event.kind == ws::EventKind::data)
      unfed_ = event.payload;
    else if (event.kind != ws::EventKind::none && !on_ws_event(event))
      return false;
  }
}

bool TunnelSession::on_ws_event(const ws::Event& event) {
  switch (event.kind) {
    case ws::EventKind::ping:
      queue_control(&ws::FrameEncoder::pong, event.payload);
      return true;
    case ws::EventKind::close:
      close_received_ = true;
      log::info("tunnel-close-received", log::Fields()("host", host_)("code", event.code));
      observer_.on_close_code(*this, event.code);
      if (close_sent_ || event.code == kCloseOwnershipLost) {
        terminate("the node closed the WebSocket (" + std::to_string(event.code) + ")");
        return false;
      }
      begin_close(ws::kCloseNormal, "");
      return true;
    case ws::EventKind::error:
      terminate("WebSocket protocol error (" + std::to_string(event.code) + ")");
      return false;
    default:
      return true;  // pong
  }
}

void TunnelSession::queue_control(size_t (ws::FrameEncoder::*make)(uint8_t*, std::span<const uint8_t>),
                                  std::span<const uint8_t> payload) {
  // Pongs only answer the latest pings; beyond a few queued, drop them.
  if (control_len_ + ws::kMaxControlFrameSize > sizeof control_) return;
  control_len_ += (encoder_.*make)(control_ + control_len_, payload);
  wake_writer();
}

asio::awaitable<void> TunnelSession::writer() {
  ChildGuard guard{this};
  while (!dead_) {
    const bool was_closed = close_sent_;
    const size_t len = fill_write_buffer();
    if (len == 0) {
      if (was_closed) break;  // the close frame is out; the reader waits for the reply
      co_await writer_wake_.async_wait(asio::use_awaitable);
      continue;
    }
    const error_code ec = co_await conn_->write(asio::buffer(write_buf_.get(), len));
    if (dead_) break;
    if (ec) {
      terminate("write: " + ec.message());
      break;
    }
    if (close_sent_ && close_received_) {
      terminate("closed");
      break;
    }
  }
}

// Control frames first, then up to kWriteChunk of yamux output as one masked
// binary frame, then our close frame once the yamux output is empty.
size_t TunnelSession::fill_write_buffer() {
  uint8_t* out = write_buf_.get();
  size_t len = close_sent_ ? 0 : control_len_;  // nothing may follow our close frame
  if (len) std::memcpy(out, control_, len);
  control_len_ = 0;
  if (close_sent_) return 0;
  const std::span<uint8_t> pending = yamux_.output();
  if (const size_t k = std::min(pending.size(), kWriteChunk); k > 0) {
    ws::MaskKey key;
    len += encoder_.binary_header(out + len, k, &key);
    ws::copy_masked(out + len, pending.first(k), key);
    len += k;
    yamux_.consumed(k);
    dispatch_events();  // writable streams
    if (reader_blocked_) input_room_.notify();
  }
  if (close_queued_ && yamux_.output_size() == 0) {
    len += encoder_.close(out + len, close_code_, close_reason_);
    close_sent_ = true;
    close_deadline_ = Clock::now() + config_.close_bound;
  }
  return len;
}

asio::awaitable<void> TunnelSession::ticker() {
  ChildGuard guard{this};
  while (!dead_) {
    tick_timer_.expires_after(config_.tick);
    auto waited = co_await tick_timer_.async_wait(use_tuple);
    (void)waited;
    if (dead_) break;
    const auto now = Clock::now();
    yamux_.tick(now);
    dispatch_events();
    wake_writer();
    if (dead_) break;
    check_drained(now);
    if (close_sent_ && now >= close_deadline_) terminate("the node did not answer our close");
  }
}

void TunnelSession::dispatch_events() {
  yamux::Event e;
  while (yamux_.poll(e)) {
    auto it = relays_.find(e.stream_id);
    Relay* r = it == relays_.end() ? nullptr : it->second;
    switch (e.kind) {
      case yamux::EventKind::accepted:
        on_accepted(e.stream_id);
        break;
      case yamux::EventKind::readable:
        if (r) r->readable.notify();
        break;
      case yamux::EventKind::writable:
        if (r) r->writable.notify();
        break;
      case yamux::EventKind::reset:
        if (r) abort_stream(*r, false);
        break;
      case yamux::EventKind::go_away:
        if (!go_away_at_) {
          go_away_at_ = Clock::now();
          log::info("tunnel-go-away", log::Fields()("host", host_)("streams", relays_.size()));
          observer_.on_go_away(*this);
        }
        break;
      case yamux::EventKind::failed:
        terminate(failure_text(yamux_.failure()));
        break;
    }
  }
}

void TunnelSession::mark_replaced() {
  replaced_ = true;
  check_drained(Clock::now());
}

// After a GoAway: close once the streams are done and the replacement is
// up, plus a linger (the node may still be reading the last bytes out of its
// stream buffers: hashicorp/yamux fails such a read when its window update
// cannot be sent any more), or at the drain bound.
void TunnelSession::check_drained(Clock::time_point now) {
  if (!go_away_at_ || close_queued_ || dead_) return;
  if (now - *go_away_at_ >= config_.drain_bound) return begin_close(ws::kCloseNormal, "");
  if (!relays_.empty() || !replaced_) {
    drained_at_.reset();
  } else if (!drained_at_) {
    drained_at_ = now;
  } else if (now - *drained_at_ >= config_.close_linger) {
    begin_close(ws::kCloseNormal, "");
  }
}

void TunnelSession::begin_close(uint16_t code, const char* reason) {
  if (close_queued_ || dead_) return;
  close_queued_ = true;
  close_code_ = code;
  close_reason_ = reason;
  for (auto& [id, r] : relays_) abort_stream(*r, true);
  yamux_.go_away();
  wake_writer();
}

void TunnelSession::shutdown() { begin_close(ws::kCloseGoingAway, "agent stopping"); }

void TunnelSession::terminate(const std::string& reason) {
  if (dead_) return;
  dead_ = true;
  end_reason_ = reason;
  conn_->close();
  tick_timer_.cancel();
  for (auto& [id, r] : relays_) abort_stream(*r, false);
  writer_wake_.notify();
  input_room_.notify();
}

}  // namespace sy::agent
