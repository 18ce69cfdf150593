#include "tunnel/ws/decoder.hpp"

#include <algorithm>
#include <cstring>

namespace sy::ws {

namespace {

bool is_control(Opcode op) { return static_cast<uint8_t>(op) >= 8; }

bool known_opcode(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

// Codes a peer may put in a close frame (RFC 6455 §7.4, IANA registry).
bool valid_close_code(uint16_t c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

uint64_t read_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Event FrameDecoder::fail(uint16_t code) {
  error_ = code;
  return Event{EventKind::error, code, {}};
}

Event FrameDecoder::decode(std::span<uint8_t> in, size_t& consumed) {
  consumed = 0;
  if (error_) return Event{EventKind::error, error_, {}};
  if (closed_) {
    consumed = in.size();
    return {};
  }
  while (consumed < in.size() || (in_payload_ && remaining_ == 0)) {
    if (!in_payload_) {
      size_t used = 0;
      bool done = take_header(in.subspan(consumed), used);
      consumed += used;
      if (error_) return Event{EventKind::error, error_, {}};
      if (!done) return {};
      Event e = start_frame();
      if (e.kind != EventKind::none) return e;
      continue;
    }
    size_t used = 0;
    Event e = take_payload(in.subspan(consumed), used);
    consumed += used;
    if (e.kind != EventKind::none) return e;
  }
  return {};
}

bool FrameDecoder::take_header(std::span<uint8_t> in, size_t& used) {
  auto reject = [this](uint16_t code) {
    fail(code);
    return false;
  };
  used = 0;
  while (used < in.size()) {
    size_t take = std::min<size_t>(hdr_need_ - hdr_len_, in.size() - used);
    std::memcpy(hdr_ + hdr_len_, in.data() + used, take);
    hdr_len_ += static_cast<uint8_t>(take);
    used += take;
    if (hdr_len_ < hdr_need_) return false;
    if (hdr_need_ > 2) return true;
    // The first two bytes decide the header's size and most of its validity.
    const uint8_t b0 = hdr_[0], b1 = hdr_[1];
    const uint8_t op = b0 & 0x0f;
    if (b0 & 0x70) return reject(kCloseProtocolError);
    if (!known_opcode(op)) return reject(kCloseProtocolError);
    if (static_cast<Opcode>(op) == Opcode::text) return reject(kCloseUnsupportedData);
    const bool masked = b1 & 0x80;
    if (masked != (role_ == Role::server)) return reject(kCloseProtocolError);
    const uint8_t len7 = b1 & 0x7f;
    if (is_control(static_cast<Opcode>(op)) && (!(b0 & 0x80) || len7 > kMaxControlPayload))
      return reject(kCloseProtocolError);
    hdr_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (hdr_need_ == 2) return true;
  }
  return false;
}

Event FrameDecoder::start_frame() {
  const uint8_t b0 = hdr_[0], b1 = hdr_[1];
  const uint8_t len7 = b1 & 0x7f;
  size_t pos = 2;
  uint64_t len = len7;
  if (len7 == 126) {
    len = read_be(hdr_ + 2, 2);
    pos = 4;
  } else if (len7 == 127) {
    len = read_be(hdr_ + 2, 8);
    pos = 10;
    if (len >> 63) return fail(kCloseProtocolError);
  }
  masked_ = b1 & 0x80;
  if (masked_) std::memcpy(mask_.data(), hdr_ + pos, 4);
  mask_phase_ = 0;
  hdr_len_ = 0;
  hdr_need_ = 2;
  fin_ = b0 & 0x80;
  opcode_ = static_cast<Opcode>(b0 & 0x0f);
  if (max_frame_ && len > max_frame_) return fail(kCloseTooBig);
  if (opcode_ == Opcode::continuation) {
    if (!in_message_) return fail(kCloseProtocolError);
  } else if (opcode_ == Opcode::binary) {
    if (in_message_) return fail(kCloseProtocolError);
  }
  if (!is_control(opcode_)) in_message_ = !fin_;
  remaining_ = len;
  ctl_len_ = 0;
  in_payload_ = true;
  return {};
}

Event FrameDecoder::take_payload(std::span<uint8_t> in, size_t& consumed) {
  const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  consumed = take;
  std::span<uint8_t> piece = in.first(take);
  if (masked_) mask_phase_ = apply_mask(piece, mask_, mask_phase_);
  remaining_ -= take;
  if (!is_control(opcode_)) {
    if (remaining_ == 0) in_payload_ = false;
    if (take == 0) return {};
    return Event{EventKind::data, 0, piece};
  }
  std::memcpy(ctl_ + ctl_len_, piece.data(), take);
  ctl_len_ += static_cast<uint8_t>(take);
  if (remaining_ > 0) return {};
  in_payload_ = false;
  return finish_control();
}

Event FrameDecoder::finish_control() {
  std::span<const uint8_t> payload(ctl_, ctl_len_);
  if (opcode_ == Opcode::ping) return Event{EventKind::ping, 0, payload};
  if (opcode_ == Opcode::pong) return Event{EventKind::pong, 0, payload};
  // close
  if (ctl_len_ == 1) return fail(kCloseProtocolError);
  uint16_t code = kCloseNoStatus;
  if (ctl_len_ >= 2) {
    code = static_cast<uint16_t>(read_be(ctl_, 2));
    if (!valid_close_code(code)) return fail(kCloseProtocolError);
    payload = payload.subspan(2);
  }
  closed_ = true;
  return Event{EventKind::close, code, payload};
}

}  // namespace sy::ws
