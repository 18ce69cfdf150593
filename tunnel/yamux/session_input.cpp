// Session's input side: the frame parser that feed() runs.
#include <algorithm>
#include <cstring>
#include <limits>

#include "tunnel/yamux/session.hpp"

namespace sy::yamux {

size_t Session::feed(std::span<const uint8_t> in, TimePoint now) {
  size_t pos = 0;
  while (pos < in.size() && !failed()) {
    if (input_ == Input::payload) {
      pos += take_payload(in.subspan(pos));
      continue;
    }
    if (header_len_ == 0 && out_.size() > config_.max_output + kControlSlack) break;
    const size_t take = std::min(kHeaderSize - header_len_, in.size() - pos);
    std::memcpy(header_ + header_len_, in.data() + pos, take);
    header_len_ += static_cast<uint8_t>(take);
    pos += take;
    if (header_len_ < kHeaderSize) break;
    header_len_ = 0;
    if (!on_header(decode_header(header_), now)) break;
  }
  return pos;
}

bool Session::on_header(const Header& h, TimePoint now) {
  if (h.version != kVersion || static_cast<uint8_t>(h.type) > static_cast<uint8_t>(Type::go_away)) {
    fail(Failure::protocol_error);
    return false;
  }
  if (h.type == Type::data || h.type == Type::window_update) return on_stream_header(h);
  if (h.stream_id != 0) {
    fail(Failure::protocol_error);
    return false;
  }
  if (h.type == Type::ping)
    on_ping(h, now);
  else
    on_go_away(h);
  return !failed();
}

bool Session::on_stream_header(const Header& h) {
  const uint32_t id = h.stream_id;
  if (id == 0) {
    fail(Failure::protocol_error);
    return false;
  }
  bool refused = false;
  if (h.flags & kFlagSyn) {
    refused = !accept_stream(id);
    if (failed()) return false;
  }
  Stream* s = refused ? nullptr : find(id);
  const uint32_t payload = h.type == Type::data ? h.length : 0;
  if (!s) {
    // Closed, refused or never opened: Go drops such frames; we also tell
    // the peer the stream is gone, unless this frame says so itself.
    if (!refused && !(h.flags & kFlagRst)) send_header(Type::window_update, kFlagRst, id, 0);
    if (payload) input_ = Input::payload, payload_left_ = payload, payload_keep_ = false;
    return true;
  }
  if (h.type == Type::window_update) {
    if (uint64_t{s->send_window} + h.length > std::numeric_limits<uint32_t>::max()) {
      fail(Failure::protocol_error);
      return false;
    }
    s->send_window += h.length;
    if (s->want_write && s->send_window > 0 && !s->local_fin) notify_writable(id, *s);
    return apply_flags(id, *s, h.flags);
  }
  if (payload > s->recv_window || (payload && s->remote_fin)) {
    fail(Failure::protocol_error);
    return false;
  }
  if (payload == 0) return apply_flags(id, *s, h.flags);
  s->recv_window -= payload;
  input_ = Input::payload;
  payload_id_ = id;
  payload_left_ = payload;
  payload_flags_ = h.flags;
  payload_keep_ = true;
  return true;
}

bool Session::accept_stream(uint32_t id) {
  const uint32_t peer_parity = role_ == Role::server ? 1 : 0;
  if ((id & 1) != peer_parity || find(id)) {
    fail(Failure::protocol_error);
    return false;
  }
  if (local_go_away_ || streams_.size() >= config_.max_streams) {
    send_header(Type::window_update, kFlagRst, id, 0);
    return false;
  }
  Stream& s = streams_[id];
  send_window_update(id, s, kFlagAck);
  push_event(EventKind::accepted, id);
  return true;
}

// SYN and ACK need nothing here (the SYN made the stream; an ACK only
// confirms ours). RST goes last: it forgets the stream.
bool Session::apply_flags(uint32_t id, Stream& s, uint16_t flags) {
  if ((flags & kFlagFin) && !s.remote_fin) {
    s.remote_fin = true;
    notify_readable(id, s);
  }
  if (flags & kFlagRst) {
    streams_.erase(id);
    push_event(EventKind::reset, id);
  }
  return true;
}

size_t Session::take_payload(std::span<const uint8_t> in) {
  const size_t n = std::min<size_t>(payload_left_, in.size());
  Stream* s = payload_keep_ ? find(payload_id_) : nullptr;
  if (s) {
    s->recv.append(in.data(), n, config_.max_window);
    notify_readable(payload_id_, *s);
  }
  payload_left_ -= static_cast<uint32_t>(n);
  if (payload_left_ == 0) finish_payload();
  return n;
}

void Session::finish_payload() {
  input_ = Input::header;
  if (!payload_keep_) return;
  if (Stream* s = find(payload_id_)) apply_flags(payload_id_, *s, payload_flags_);
}

void Session::on_ping(const Header& h, TimePoint now) {
  if (h.flags & kFlagSyn) {
    send_header(Type::ping, kFlagAck, 0, h.length);
  } else if ((h.flags & kFlagAck) && ping_outstanding_ && h.length == ping_id_) {
    ping_outstanding_ = false;
    rtt_ = now - ping_sent_;
  }
}

void Session::on_go_away(const Header& h) {
  switch (static_cast<GoAwayCode>(h.length)) {
    case GoAwayCode::normal:
      if (!remote_go_away_) push_event(EventKind::go_away, 0);
      remote_go_away_ = true;
      break;
    case GoAwayCode::protocol_error:
      fail(Failure::remote_protocol_error);
      break;
    default:
      fail(Failure::remote_internal_error);
  }
}

}  // namespace sy::yamux
