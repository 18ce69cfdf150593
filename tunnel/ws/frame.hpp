#pragma once
// RFC 6455 framing constants shared by FrameDecoder and FrameEncoder, and the
// masking transform. The tunnel carries one byte stream in binary messages, so
// only binary, continuation and the three control opcodes are ever accepted.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sy::ws {

// server: this end accepted the connection; its input must be masked and its
// output is not. client: the reverse.
enum class Role : uint8_t { server, client };

enum class Opcode : uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes this layer sends or interprets (RFC 6455 §7.4.1).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseUnsupportedData = 1003;
inline constexpr uint16_t kCloseNoStatus = 1005;  // never sent: a close frame without a code
inline constexpr uint16_t kCloseTooBig = 1009;

inline constexpr size_t kMaxHeaderSize = 14;          // 2 + 8-byte length + 4-byte mask
inline constexpr size_t kMaxControlPayload = 125;
inline constexpr size_t kMaxControlFrameSize = 6 + kMaxControlPayload;

using MaskKey = std::array<uint8_t, 4>;

// XORs `data` with `key`, starting at key byte `phase` (0..3), 8 bytes at a
// time; returns the phase for the bytes that follow, so a payload can be
// masked in pieces.
uint32_t apply_mask(std::span<uint8_t> data, const MaskKey& key, uint32_t phase);

// Copies `src` to `dst` (same size) masked, in one pass.
void copy_masked(uint8_t* dst, std::span<const uint8_t> src, const MaskKey& key);

}  // namespace sy::ws
