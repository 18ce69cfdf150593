#pragma once
// yamux frame header (hashicorp/yamux spec, version 0): 12 bytes, big endian:
// version u8, type u8, flags u16, stream id u32, length u32. For Data the
// length counts the payload that follows; for WindowUpdate it is the window
// delta, for Ping the opaque ping id, for GoAway the reason code. No other
// type carries a payload.
#include <cstddef>
#include <cstdint>

namespace sy::yamux {

inline constexpr size_t kHeaderSize = 12;
inline constexpr uint8_t kVersion = 0;
inline constexpr uint32_t kInitialWindow = 256 * 1024;

enum class Type : uint8_t { data = 0, window_update = 1, ping = 2, go_away = 3 };

inline constexpr uint16_t kFlagSyn = 1;
inline constexpr uint16_t kFlagAck = 2;
inline constexpr uint16_t kFlagFin = 4;
inline constexpr uint16_t kFlagRst = 8;

enum class GoAwayCode : uint32_t { normal = 0, protocol_error = 1, internal_error = 2 };

struct Header {
  uint8_t version = kVersion;
  Type type = Type::data;
  uint16_t flags = 0;
  uint32_t stream_id = 0;
  uint32_t length = 0;
};

inline void encode_header(const Header& h, uint8_t* out) {
  out[0] = h.version;
  out[1] = static_cast<uint8_t>(h.type);
  out[2] = static_cast<uint8_t>(h.flags >> 8);
  out[3] = static_cast<uint8_t>(h.flags);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(h.stream_id >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(h.length >> (24 - 8 * i));
}

// Decodes without validating: the version and type are checked by the caller.
inline Header decode_header(const uint8_t* in) {
  auto u32 = [](const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  };
  Header h;
  h.version = in[0];
  h.type = static_cast<Type>(in[1]);
  h.flags = static_cast<uint16_t>(in[2] << 8 | in[3]);
  h.stream_id = u32(in + 4);
  h.length = u32(in + 8);
  return h;
}

}  // namespace sy::yamux
