#include "tunnel/ws/encoder.hpp"

#include <openssl/rand.h>

#include <cstring>

namespace sy::ws {

namespace {

// Per-thread batch of random words: one RAND_bytes call per 64 frames.
uint32_t next_system_key(void*) {
  struct Batch {
    uint32_t words[64];
    unsigned used = 64;
  };
  thread_local Batch batch;
  if (batch.used == 64) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(batch.words), sizeof batch.words) != 1)
      std::memset(batch.words, 0x5a, sizeof batch.words);  // never seen; masking is not secrecy
    batch.used = 0;
  }
  return batch.words[batch.used++];
}

}  // namespace

MaskSource system_mask_source() { return MaskSource{&next_system_key, nullptr}; }

FrameEncoder::FrameEncoder(Role role, MaskSource source) : role_(role), source_(source) {
  if (role_ == Role::client && !source_.next) source_ = system_mask_source();
}

size_t FrameEncoder::header(uint8_t* out, Opcode op, uint64_t n, MaskKey* key) {
  const bool mask = role_ == Role::client;
  out[0] = static_cast<uint8_t>(0x80 | static_cast<uint8_t>(op));
  const uint8_t mbit = mask ? 0x80 : 0;
  size_t pos;
  if (n <= 125) {
    out[1] = static_cast<uint8_t>(mbit | n);
    pos = 2;
  } else if (n <= 0xffff) {
    out[1] = mbit | 126;
    out[2] = static_cast<uint8_t>(n >> 8);
    out[3] = static_cast<uint8_t>(n);
    pos = 4;
  } else {
    out[1] = mbit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
    pos = 10;
  }
  if (mask) {
    const uint32_t word = source_.next(source_.ctx);
    MaskKey k;
    std::memcpy(k.data(), &word, 4);
    std::memcpy(out + pos, k.data(), 4);
    if (key) *key = k;
    pos += 4;
  }
  return pos;
}

size_t FrameEncoder::binary_header(uint8_t* out, uint64_t n, MaskKey* key) {
  return header(out, Opcode::binary, n, key);
}

size_t FrameEncoder::binary_frame(uint8_t* out, std::span<const uint8_t> payload) {
  MaskKey key;
  const size_t h = header(out, Opcode::binary, payload.size(), &key);
  if (role_ == Role::client)
    copy_masked(out + h, payload, key);
  else if (!payload.empty())
    std::memcpy(out + h, payload.data(), payload.size());
  return h + payload.size();
}

size_t FrameEncoder::control(uint8_t* out, Opcode op, std::span<const uint8_t> a,
                             std::span<const uint8_t> b) {
  const size_t n = a.size() + b.size();
  if (n > kMaxControlPayload) return 0;
  MaskKey key;
  const size_t h = header(out, op, n, &key);
  if (!a.empty()) std::memcpy(out + h, a.data(), a.size());
  if (!b.empty()) std::memcpy(out + h + a.size(), b.data(), b.size());
  if (role_ == Role::client) apply_mask(std::span<uint8_t>(out + h, n), key, 0);
  return h + n;
}

size_t FrameEncoder::ping(uint8_t* out, std::span<const uint8_t> payload) {
  return control(out, Opcode::ping, payload, {});
}

size_t FrameEncoder::pong(uint8_t* out, std::span<const uint8_t> payload) {
  return control(out, Opcode::pong, payload, {});
}

size_t FrameEncoder::close(uint8_t* out, uint16_t code, std::string_view reason) {
  const uint8_t be[2] = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  return control(out, Opcode::close, be,
                 std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
}

}  // namespace sy::ws
