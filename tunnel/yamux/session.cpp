#include "tunnel/yamux/session.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sy::yamux {

Session::Session(Role role, const Config& config, TimePoint now)
    : config_(config), role_(role), next_id_(role == Role::client ? 1 : 2), last_ping_(now) {
  config_.max_window = std::max(config_.max_window, kInitialWindow);
  config_.max_frame = std::max<uint32_t>(config_.max_frame, 1);
}

Session::Stream* Session::find(uint32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

const Session::Stream* Session::find(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

void Session::push_event(EventKind kind, uint32_t id) { events_.push_back(Event{kind, id}); }

void Session::notify_readable(uint32_t id, Stream& s) {
  if (s.readable_queued) return;
  s.readable_queued = true;
  push_event(EventKind::readable, id);
}

void Session::notify_writable(uint32_t id, Stream& s) {
  s.want_write = false;
  if (s.writable_queued) return;
  s.writable_queued = true;
  push_event(EventKind::writable, id);
}

bool Session::poll(Event& event) {
  if (events_head_ == events_.size()) return false;
  event = events_[events_head_++];
  if (events_head_ == events_.size()) events_.clear(), events_head_ = 0;
  if (Stream* s = event.stream_id ? find(event.stream_id) : nullptr) {
    if (event.kind == EventKind::readable) s->readable_queued = false;
    if (event.kind == EventKind::writable) s->writable_queued = false;
  }
  return true;
}

void Session::send_header(Type type, uint16_t flags, uint32_t id, uint32_t length) {
  uint8_t* p = out_.prepare(kHeaderSize);
  encode_header(Header{kVersion, type, flags, id, length}, p);
  out_.commit(kHeaderSize);
}

// Go's rule: top the peer's credit back up to max_window minus what is still
// buffered, once that adds at least half a window (or flags must go out).
// A data frame's length leaves recv_window when its header arrives, but its
// bytes reach the buffer as they land: the part still landing is credit in
// use too (without it the delta counted those bytes twice, and a later one
// wrapped below zero into a 4 GiB update the peer rejects).
void Session::send_window_update(uint32_t id, Stream& s, uint16_t flags) {
  const uint32_t max = config_.max_window;
  const bool landing_here = input_ == Input::payload && payload_keep_ && payload_id_ == id;
  const uint64_t in_use = uint64_t{s.recv_window} + s.recv.size() + (landing_here ? payload_left_ : 0);
  const uint32_t delta = in_use >= max ? 0 : static_cast<uint32_t>(max - in_use);
  if (flags == 0 && (delta < max / 2 || s.remote_fin)) return;
  s.recv_window += delta;
  send_header(Type::window_update, flags, id, delta);
}

void Session::maybe_forget(uint32_t id, Stream& s) {
  if (s.local_fin && s.eof_told) streams_.erase(id);
}

void Session::fail(Failure failure) {
  if (failed()) return;
  failure_ = failure;
  if (failure == Failure::protocol_error)
    send_header(Type::go_away, 0, 0, static_cast<uint32_t>(GoAwayCode::protocol_error));
  push_event(EventKind::failed, 0);
}

void Session::consumed(size_t n) {
  out_.consume(n);
  if (!output_blocked_ || out_.size() > config_.max_output / 2) return;
  output_blocked_ = false;
  for (auto& [id, s] : streams_)
    if (s.want_write && s.send_window > 0) notify_writable(id, s);
}

OpenResult Session::open() {
  if (failed()) return {0, OpenError::failed};
  if (remote_go_away_) return {0, OpenError::remote_go_away};
  if (streams_.size() >= config_.max_streams) return {0, OpenError::too_many_streams};
  if (next_id_ > std::numeric_limits<uint32_t>::max()) return {0, OpenError::ids_exhausted};
  const auto id = static_cast<uint32_t>(next_id_);
  next_id_ += 2;
  Stream& s = streams_[id];
  send_window_update(id, s, kFlagSyn);
  return {id, OpenError::none};
}

// How much of `want` one data frame of `s` may carry now. Cut short by the
// send window or the output bound, the stream waits for a writable event.
size_t Session::write_room(Stream& s, size_t want) {
  const size_t room = out_.size() < config_.max_output ? config_.max_output - out_.size() : 0;
  const size_t window = s.send_window;
  const size_t n = std::min({want, window, size_t{config_.max_frame}, room});
  if (n < want && (n == window || n == room)) {
    if (n == room) output_blocked_ = true;
    s.want_write = true;
  }
  return n;
}

IoResult Session::write(uint32_t id, std::span<const uint8_t> data) {
  if (failed()) return {0, Status::failed};
  Stream* s = find(id);
  if (!s || s->local_fin) return {0, Status::closed};
  size_t done = 0;
  while (done < data.size()) {
    const size_t n = write_room(*s, data.size() - done);
    if (n == 0) break;
    uint8_t* p = out_.prepare(kHeaderSize + n);
    encode_header(Header{kVersion, Type::data, 0, id, static_cast<uint32_t>(n)}, p);
    std::memcpy(p + kHeaderSize, data.data() + done, n);
    out_.commit(kHeaderSize + n);
    s->send_window -= static_cast<uint32_t>(n);
    done += n;
  }
  if (done == 0 && !data.empty()) return {0, Status::would_block};
  return {done, Status::ok};
}

std::span<uint8_t> Session::prepare_write(uint32_t id, size_t max, Status* status) {
  *status = Status::failed;
  if (failed()) return {};
  Stream* s = find(id);
  *status = Status::closed;
  if (!s || s->local_fin) return {};
  const size_t n = write_room(*s, max);
  *status = n ? Status::ok : Status::would_block;
  if (n == 0) return {};
  prepared_ = static_cast<uint32_t>(n);
  return {out_.prepare(kHeaderSize + n) + kHeaderSize, n};
}

void Session::commit_write(uint32_t id, size_t n) {
  n = std::min<size_t>(n, prepared_);
  prepared_ = 0;
  Stream* s = find(id);
  if (n == 0 || !s) return;
  // prepare_write() left the header's room in front of the payload.
  encode_header(Header{kVersion, Type::data, 0, id, static_cast<uint32_t>(n)}, out_.tail());
  out_.commit(kHeaderSize + n);
  s->send_window -= static_cast<uint32_t>(n);
}

std::span<const uint8_t> Session::peek(uint32_t id) const {
  const Stream* s = find(id);
  return s ? s->recv.front() : std::span<const uint8_t>{};
}

IoResult Session::consume(uint32_t id, size_t n) {
  if (failed()) return {0, Status::failed};
  Stream* s = find(id);
  if (!s) return {0, Status::closed};
  if (s->recv.empty()) {
    if (!s->remote_fin) return {0, Status::would_block};
    s->eof_told = true;
    maybe_forget(id, *s);
    return {0, Status::eof};
  }
  n = std::min(n, s->recv.size());
  s->recv.consume(n);
  send_window_update(id, *s, 0);
  return {n, Status::ok};
}

IoResult Session::read(uint32_t id, std::span<uint8_t> out) {
  std::span<const uint8_t> have = peek(id);
  const size_t n = std::min(have.size(), out.size());
  if (n) std::memcpy(out.data(), have.data(), n);
  if (n == 0 && !have.empty()) return {0, Status::ok};  // an empty `out`
  return consume(id, n);
}

bool Session::close(uint32_t id) {
  Stream* s = find(id);
  if (!s) return false;
  if (s->local_fin) return true;
  s->local_fin = true;
  s->want_write = false;
  if (!failed()) send_header(Type::window_update, kFlagFin, id, 0);
  maybe_forget(id, *s);
  return true;
}

bool Session::reset(uint32_t id) {
  if (!find(id)) return false;
  if (!failed()) send_header(Type::window_update, kFlagRst, id, 0);
  streams_.erase(id);
  return true;
}

void Session::ping(TimePoint now) {
  if (failed() || ping_outstanding_) return;
  ping_outstanding_ = true;
  ping_sent_ = last_ping_ = now;
  send_header(Type::ping, kFlagSyn, 0, ++ping_id_);
}

void Session::tick(TimePoint now) {
  if (failed() || config_.ping_interval.count() <= 0) return;
  if (ping_outstanding_) {
    if (now - ping_sent_ >= config_.ping_interval) fail(Failure::ping_timeout);
  } else if (now - last_ping_ >= config_.ping_interval) {
    ping(now);
  }
}

void Session::go_away(GoAwayCode code) {
  if (failed()) return;
  local_go_away_ = true;
  send_header(Type::go_away, 0, 0, static_cast<uint32_t>(code));
}

bool Session::remote_closed(uint32_t id) const {
  const Stream* s = find(id);
  return !s || s->remote_fin;
}

size_t Session::buffered(uint32_t id) const {
  const Stream* s = find(id);
  return s ? s->recv.size() : 0;
}

uint32_t Session::send_window(uint32_t id) const {
  const Stream* s = find(id);
  return s ? s->send_window : 0;
}

void Session::shrink() {
  out_.release();
  for (auto& [id, s] : streams_) s.recv.release();
  if (events_.empty()) std::vector<Event>().swap(events_);
  if (streams_.empty()) std::unordered_map<uint32_t, Stream>().swap(streams_);
}

}  // namespace sy::yamux
