#pragma once
// FrameEncoder: RFC 6455 frame headers and control frames, written into the
// caller's memory. A server's frames are unmasked, so a binary frame is a
// header in front of the caller's bytes (a gather write, no copy). A client
// masks each frame with a fresh key from `MaskSource`: either the caller
// masks its payload in place after binary_header() (apply_mask(p, key, 0)) or
// binary_frame() copies and masks in one pass.
//
// Every frame is final (FIN set): the tunnel never fragments.
// Threading: none of its own; one owner at a time.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tunnel/ws/frame.hpp"

namespace sy::ws {

// Where a client's mask keys come from; `next` is called once per frame.
struct MaskSource {
  uint32_t (*next)(void* ctx) = nullptr;
  void* ctx = nullptr;
};

// Keys from OpenSSL's RAND_bytes, fetched in batches.
MaskSource system_mask_source();

class FrameEncoder {
 public:
  // A client without a source uses system_mask_source().
  explicit FrameEncoder(Role role, MaskSource source = {});

  Role role() const { return role_; }

  // The header of a final binary frame of `n` payload bytes; returns its size
  // (≤ kMaxHeaderSize). Client: `*key` receives the frame's mask key.
  size_t binary_header(uint8_t* out, uint64_t n, MaskKey* key);

  // A whole binary frame: header plus `payload` copied (and masked) after it.
  // `out` must hold payload.size() + kMaxHeaderSize bytes.
  size_t binary_frame(uint8_t* out, std::span<const uint8_t> payload);

  // Control frames into `out` (kMaxControlFrameSize bytes); 0 if the payload
  // is over 125 bytes (a close reason over 123).
  size_t ping(uint8_t* out, std::span<const uint8_t> payload);
  size_t pong(uint8_t* out, std::span<const uint8_t> payload);
  size_t close(uint8_t* out, uint16_t code, std::string_view reason = {});

 private:
  size_t header(uint8_t* out, Opcode op, uint64_t n, MaskKey* key);
  size_t control(uint8_t* out, Opcode op, std::span<const uint8_t> a, std::span<const uint8_t> b);

  Role role_;
  MaskSource source_;
};

}  // namespace sy::ws
