#pragma once
// FrameDecoder: RFC 6455 frames in, events out, over arbitrary chunks of a
// byte stream (split anywhere). Sans-I/O: no sockets, no clock.
//
// Binary payload is handed out in pieces as it arrives, never gathered into a
// message: the tunnel's byte stream gives message boundaries no meaning. A
// masked piece is unmasked in place, which is why the input is mutable; a
// data event's bytes are a view into the caller's input. Control payloads
// (≤ 125 bytes) are gathered inside the decoder, and their view stays valid
// until the next decode() call.
//
// Rejected, as an error event carrying the close code to send:
// RSV bits (no extension is negotiated), unknown opcodes, text frames (1003:
// the protocol is binary), fragmented or oversized control frames, a 64-bit
// length with the top bit set, a continuation without a start, a new message
// inside a fragmented one, a masked frame from a server or an unmasked one
// from a client, a malformed close payload (1002), and a frame longer than
// max_frame when one is set (1009). Errors are sticky.
// After a close event the peer may send nothing more: further input is
// consumed and ignored. Answering is the owner's part: a pong with the
// ping's payload, and a close frame after a close or an error.
//
// Threading: none of its own; one owner at a time.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tunnel/ws/frame.hpp"

namespace sy::ws {

enum class EventKind : uint8_t { none, data, ping, pong, close, error };

struct Event {
  EventKind kind = EventKind::none;
  // close: the peer's code (kCloseNoStatus when it sent none);
  // error: the code to close the connection with.
  uint16_t code = 0;
  // data: a piece of payload; ping/pong: the payload; close: the reason.
  std::span<const uint8_t> payload;
};

class FrameDecoder {
 public:
  // role: which end this decoder runs at (server: input must be masked).
  // max_frame: largest accepted frame payload, 0 = no limit.
  explicit FrameDecoder(Role role, uint64_t max_frame = 0) : role_(role), max_frame_(max_frame) {}

  // Decodes from the front of `in`, stopping after one event; `consumed` is
  // how much of `in` was used. kind none: all of `in` was consumed without
  // completing an event (more input needed).
  Event decode(std::span<uint8_t> in, size_t& consumed);

  bool failed() const { return error_ != 0; }
  bool closed() const { return closed_; }
  // True between frames (no partial header or payload pending).
  bool at_frame_boundary() const { return hdr_len_ == 0 && remaining_ == 0 && !in_payload_; }

 private:
  Event fail(uint16_t code);
  // Consumes header bytes; returns true once the whole header is in.
  bool take_header(std::span<uint8_t> in, size_t& used);
  Event start_frame();
  Event take_payload(std::span<uint8_t> in, size_t& consumed);
  Event finish_control();

  Role role_;
  bool closed_ = false;
  bool in_payload_ = false;     // a header was parsed; payload (maybe empty) pending
  bool in_message_ = false;     // a fragmented binary message is open
  bool fin_ = false;
  Opcode opcode_ = Opcode::binary;
  uint8_t hdr_len_ = 0;
  uint8_t hdr_need_ = 2;
  uint8_t ctl_len_ = 0;
  uint16_t error_ = 0;
  uint32_t mask_phase_ = 0;
  bool masked_ = false;
  MaskKey mask_{};
  uint64_t max_frame_;
  uint64_t remaining_ = 0;
  uint8_t hdr_[kMaxHeaderSize];
  uint8_t ctl_[kMaxControlPayload];
};

}  // namespace sy::ws
