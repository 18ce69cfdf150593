// WebSocket framing: FrameEncoder output decoded by FrameDecoder over every
// split of the byte stream, masking both ways, and each rejected input with
// the close code it must produce.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::ws {
namespace {

using Bytes = std::vector<uint8_t>;

uint32_t counting_key(void* ctx) {
  auto* n = static_cast<uint32_t*>(ctx);
  return 0x9a3f1c07u * ++*n;
}

Bytes pattern(size_t n, uint8_t salt = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + (i >> 8) + salt);
  return b;
}

// What a decoder reported, with adjacent data pieces merged (piece
// boundaries depend on how the input was split; the bytes must not).
struct Seen {
  std::string kind;  // "data", "ping", "pong", "close", "error"
  uint16_t code = 0;
  Bytes bytes;
  bool operator==(const Seen&) const = default;
};

const char* name(EventKind k) {
  switch (k) {
    case EventKind::data: return "data";
    case EventKind::ping: return "ping";
    case EventKind::pong: return "pong";
    case EventKind::close: return "close";
    case EventKind::error: return "error";
    default: return "none";
  }
}

// Feeds `input` (copied: decoding unmasks in place) in chunks that end at
// `cuts`, and records every event.
std::vector<Seen> decode(Role role, const Bytes& input, const std::vector<size_t>& cuts = {},
                         uint64_t max_frame = 0) {
  FrameDecoder dec(role, max_frame);
  Bytes buf = input;
  std::vector<Seen> seen;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(buf.size());
  for (size_t end : ends) {
    std::span<uint8_t> chunk(buf.data() + start, end - start);
    start = end;
    while (!chunk.empty()) {
      size_t used = 0;
      Event e = dec.decode(chunk, used);
      chunk = chunk.subspan(used);
      if (e.kind == EventKind::none) continue;
      if (e.kind == EventKind::data && !seen.empty() && seen.back().kind == "data") {
        seen.back().bytes.insert(seen.back().bytes.end(), e.payload.begin(), e.payload.end());
        continue;
      }
      seen.push_back({name(e.kind), e.code, Bytes(e.payload.begin(), e.payload.end())});
      if (e.kind == EventKind::error) return seen;
    }
  }
  return seen;
}

// Frames a client would send: a binary frame of `n` pattern bytes.
Bytes client_binary(size_t n, uint8_t salt = 0) {
  uint32_t ctr = 0;
  FrameEncoder enc(Role::client, {&counting_key, &ctr});
  Bytes payload = pattern(n, salt), out(n + kMaxHeaderSize);
  out.resize(enc.binary_frame(out.data(), payload));
  return out;
}

TEST(WsCodec, BinaryRoundTripAtEveryLengthEncoding) {
  for (size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    auto seen = decode(Role::server, client_binary(n));
    if (n == 0) {
      EXPECT_TRUE(seen.empty());
      continue;
    }
    ASSERT_EQ(seen.size(), 1u) << n;
    EXPECT_EQ(seen[0], (Seen{"data", 0, pattern(n)})) << n;
  }
}

TEST(WsCodec, ServerFramesAreUnmaskedWithMinimalLengths) {
  FrameEncoder enc(Role::server);
  uint8_t h[kMaxHeaderSize];
  ASSERT_EQ(enc.binary_header(h, 125, nullptr), 2u);
  EXPECT_EQ(h[0], 0x82);
  EXPECT_EQ(h[1], 125);
  ASSERT_EQ(enc.binary_header(h, 300, nullptr), 4u);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ(h[2] << 8 | h[3], 300);
  ASSERT_EQ(enc.binary_header(h, 1ull << 32, nullptr), 10u);
  EXPECT_EQ(h[1], 127);
  EXPECT_EQ(h[5], 1);  // bit 32 of the 64-bit length
  Bytes payload = pattern(300), frame(310);
  frame.resize(enc.binary_frame(frame.data(), payload));
  auto seen = decode(Role::client, frame);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].bytes, payload);
}

TEST(WsCodec, ClientFramesCarryTheSourcesKey) {
  uint32_t ctr = 0;
  FrameEncoder enc(Role::client, {&counting_key, &ctr});
  uint8_t h[kMaxHeaderSize];
  MaskKey key{};
  ASSERT_EQ(enc.binary_header(h, 10, &key), 6u);
  EXPECT_EQ(h[1], 0x80 | 10);
  uint32_t expect = 0x9a3f1c07u;
  EXPECT_EQ(0, std::memcmp(h + 2, &expect, 4));
  EXPECT_EQ(0, std::memcmp(h + 2, key.data(), 4));
  // Masking in place after binary_header() equals binary_frame().
  Bytes payload = pattern(1000), manual(payload);
  apply_mask(manual, key, 0);
  ctr = 0;
  Bytes frame(1000 + kMaxHeaderSize);
  frame.resize(enc.binary_frame(frame.data(), payload));
  EXPECT_EQ(Bytes(frame.begin() + 8, frame.end()), manual);  // 2 + 2 (len 1000) + 4
}

TEST(WsCodec, MaskingInPiecesEqualsMaskingAtOnce) {
  const MaskKey key{0x11, 0x22, 0x33, 0x44};
  Bytes whole = pattern(103);
  Bytes once = whole;
  apply_mask(once, key, 0);
  for (size_t a = 0; a <= whole.size(); ++a) {
    Bytes pieces = whole;
    uint32_t phase = apply_mask(std::span<uint8_t>(pieces.data(), a), key, 0);
    apply_mask(std::span<uint8_t>(pieces.data() + a, pieces.size() - a), key, phase);
    ASSERT_EQ(pieces, once) << a;
  }
  Bytes copied(whole.size());
  copy_masked(copied.data(), whole, key);
  EXPECT_EQ(copied, once);
}

// A client's stream: data, a ping, a fragmented message with a pong between
// its fragments, and a close.
Bytes mixed_client_stream() {
  uint32_t ctr = 0;
  FrameEncoder enc(Role::client, {&counting_key, &ctr});
  Bytes out;
  auto add = [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); };
  Bytes a = client_binary(300, 1);
  add(a.data(), a.size());
  uint8_t ctl[kMaxControlFrameSize];
  const uint8_t ping_payload[] = {'h', 'i'};
  add(ctl, enc.ping(ctl, ping_payload));
  // Fragmented binary: FIN=0 binary, masked by hand, then a pong, then FIN=1 continuation.
  const MaskKey key{1, 2, 3, 4};
  Bytes f1 = pattern(20, 2), f2 = pattern(5, 3);
  Bytes first = {0x02, 0x80 | 20, 1, 2, 3, 4};
  apply_mask(f1, key, 0);
  first.insert(first.end(), f1.begin(), f1.end());
  add(first.data(), first.size());
  add(ctl, enc.pong(ctl, {}));
  Bytes last = {0x80, 0x80 | 5, 1, 2, 3, 4};
  apply_mask(f2, key, 0);
  last.insert(last.end(), f2.begin(), f2.end());
  add(last.data(), last.size());
  add(ctl, enc.close(ctl, 4409, "lost"));
  return out;
}

std::vector<Seen> mixed_expected() {
  Bytes frag = pattern(20, 2), tail = pattern(5, 3);
  frag.insert(frag.end(), tail.begin(), tail.end());
  return {{"data", 0, pattern(300, 1)}, {"ping", 0, {'h', 'i'}}, {"data", 0, pattern(20, 2)},
          {"pong", 0, {}},              {"data", 0, pattern(5, 3)}, {"close", 4409, {'l', 'o', 's', 't'}}};
}

TEST(WsCodec, SameEventsForEverySplit) {
  const Bytes input = mixed_client_stream();
  const auto expected = mixed_expected();
  EXPECT_EQ(decode(Role::server, input), expected);
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  EXPECT_EQ(decode(Role::server, input, every), expected);  // one byte at a time
  for (size_t i = 0; i <= input.size(); ++i) ASSERT_EQ(decode(Role::server, input, {i}), expected) << i;
}

TEST(WsCodec, CloseWithoutPayloadIsNoStatus) {
  uint8_t raw[2] = {0x88, 0x00};
  auto seen = decode(Role::client, Bytes(raw, raw + 2));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (Seen{"close", kCloseNoStatus, {}}));
}

TEST(WsCodec, InputAfterCloseIsIgnored) {
  Bytes input = {0x88, 0x02, 0x03, 0xe8, 0x82, 0x01, 0x55};
  auto seen = decode(Role::client, input);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].code, kCloseNormal);
}

uint16_t error_of(Role role, Bytes input, uint64_t max_frame = 0) {
  auto seen = decode(role, input, {}, max_frame);
  if (seen.empty() || seen.back().kind != "error") return 0;
  return seen.back().code;
}

TEST(WsCodec, RejectsWithTheRightCloseCode) {
  // (server side: frames must be masked; key 0 keeps payloads readable)
  EXPECT_EQ(error_of(Role::server, {0x82, 0x00}), kCloseProtocolError);                 // unmasked to a server
  EXPECT_EQ(error_of(Role::client, {0x82, 0x80, 0, 0, 0, 0}), kCloseProtocolError);     // masked to a client
  EXPECT_EQ(error_of(Role::client, {0xc2, 0x00}), kCloseProtocolError);                 // RSV1
  EXPECT_EQ(error_of(Role::client, {0xa2, 0x00}), kCloseProtocolError);                 // RSV2
  EXPECT_EQ(error_of(Role::client, {0x92, 0x00}), kCloseProtocolError);                 // RSV3
  EXPECT_EQ(error_of(Role::client, {0x83, 0x00}), kCloseProtocolError);                 // opcode 3
  EXPECT_EQ(error_of(Role::client, {0x8b, 0x00}), kCloseProtocolError);                 // opcode 11
  EXPECT_EQ(error_of(Role::client, {0x81, 0x01, 'a'}), kCloseUnsupportedData);         // text
  EXPECT_EQ(error_of(Role::client, {0x09, 0x00}), kCloseProtocolError);                 // fragmented ping
  EXPECT_EQ(error_of(Role::client, {0x89, 126, 0, 126}), kCloseProtocolError);          // control > 125
  EXPECT_EQ(error_of(Role::client, {0x80, 0x01, 0}), kCloseProtocolError);              // continuation first
  EXPECT_EQ(error_of(Role::client, {0x02, 0x00, 0x82, 0x00}), kCloseProtocolError);     // new message inside one
  EXPECT_EQ(error_of(Role::client, {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}), kCloseProtocolError);  // top bit
  EXPECT_EQ(error_of(Role::client, {0x88, 0x01, 0x03}), kCloseProtocolError);           // close of 1 byte
  EXPECT_EQ(error_of(Role::client, {0x88, 0x02, 0x03, 0xed}), kCloseProtocolError);     // close code 1005
  EXPECT_EQ(error_of(Role::client, {0x88, 0x02, 0x03, 0xe7}), kCloseProtocolError);     // close code 999
  EXPECT_EQ(error_of(Role::client, {0x82, 126, 0x01, 0x00}, 255), kCloseTooBig);        // 256 > max_frame
  EXPECT_EQ(error_of(Role::client, {0x82, 0x7d}, 125), 0);                              // 125 is fine
}

TEST(WsCodec, ErrorsAreSticky) {
  FrameDecoder dec(Role::client);
  Bytes bad = {0x81, 0x00, 0x82, 0x00};
  size_t used = 0;
  Event e = dec.decode(bad, used);
  EXPECT_EQ(e.kind, EventKind::error);
  EXPECT_TRUE(dec.failed());
  e = dec.decode(std::span<uint8_t>(bad).subspan(2), used);
  EXPECT_EQ(e.kind, EventKind::error);
  EXPECT_EQ(e.code, kCloseUnsupportedData);
  EXPECT_EQ(used, 0u);
}

TEST(WsCodec, ControlPayloadLimits) {
  FrameEncoder enc(Role::server);
  uint8_t out[kMaxControlFrameSize];
  Bytes p125(125, 'x'), p126(126, 'x');
  EXPECT_EQ(enc.ping(out, p125), 127u);
  EXPECT_EQ(enc.ping(out, p126), 0u);
  EXPECT_EQ(enc.close(out, 1000, std::string(123, 'r')), 127u);
  EXPECT_EQ(enc.close(out, 1000, std::string(124, 'r')), 0u);
}

TEST(WsHandshake, AcceptKeyOfRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshake, ClientKeyValidation) {
  EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=A"));   // no padding
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j!Q=="));   // not base64
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZXM="));   // 17 bytes' worth
  EXPECT_FALSE(valid_client_key(""));
  const unsigned char r[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::string key = make_client_key(std::span<const unsigned char, 16>(r, 16));
  EXPECT_TRUE(valid_client_key(key)) << key;
}

}  // namespace
}  // namespace sy::ws
