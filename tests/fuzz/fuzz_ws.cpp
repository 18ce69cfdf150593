// Fuzz harness: ws::FrameDecoder over arbitrary bytes, as a server or a
// client, cut into chunks where the input says. Invariants, trapped:
//   - decode() consumes within its chunk, and returns `none` only when it
//     consumed the whole chunk (no stall);
//   - data pieces lie inside the chunk; control payloads are ≤ 125 bytes;
//     close codes are valid, error codes are 1002/1003/1009;
//   - errors are sticky and consume nothing; after a close all is ignored;
//   - the split does not matter: the same bytes fed whole give the same
//     events (adjacent data pieces merged);
//   - the encoder's frame of the input's bytes decodes back to them.
// Input: 4 bytes of options and chunking seed, then the byte stream.
#include <cstring>
#include <string>
#include <vector>

#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"

#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

using namespace sy::ws;

struct Rng {
  uint32_t s;
  uint32_t next() {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    return s;
  }
};

// Decodes `in` (a copy: unmasking is in place) in chunks of up to
// `max_chunk` (0: whole), returning a canonical trace of the events.
std::string trace(Role role, uint64_t max_frame, std::vector<uint8_t> in, Rng* rng, size_t max_chunk) {
  FrameDecoder dec(role, max_frame);
  std::string t;
  bool data_open = false;
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t n = max_chunk ? std::min<size_t>(in.size() - pos, 1 + rng->next() % max_chunk) : in.size() - pos;
    std::span<uint8_t> chunk(in.data() + pos, n);
    pos += n;
    while (!chunk.empty()) {
      size_t used = 0;
      const bool was_failed = dec.failed(), was_closed = dec.closed();
      Event e = dec.decode(chunk, used);
      SY_FUZZ_CHECK(used <= chunk.size());
      if (e.kind == EventKind::none) SY_FUZZ_CHECK(used == chunk.size());
      if (was_failed) SY_FUZZ_CHECK(e.kind == EventKind::error && used == 0);
      if (was_closed && !was_failed) SY_FUZZ_CHECK(e.kind == EventKind::none);
      if (e.kind == EventKind::data) {
        SY_FUZZ_CHECK(e.payload.data() >= chunk.data() && e.payload.data() + e.payload.size() <= chunk.data() + used);
        if (!data_open) t += "D:";
        t.append(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
        data_open = true;
      } else if (e.kind != EventKind::none) {
        data_open = false;
        SY_FUZZ_CHECK(e.payload.size() <= kMaxControlPayload);
        if (e.kind == EventKind::error) {
          SY_FUZZ_CHECK(e.code == kCloseProtocolError || e.code == kCloseUnsupportedData || e.code == kCloseTooBig);
          return t + "|E" + std::to_string(e.code);
        }
        t += "|" + std::to_string(static_cast<int>(e.kind)) + ":" + std::to_string(e.code) + ":";
        t.append(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
        t += "|";
      }
      chunk = chunk.subspan(used);
    }
  }
  return t;
}

uint32_t fixed_key(void*) { return 0x12345678; }

}  // namespace

int fuzz_ws(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Role role = (data[0] & 1) ? Role::client : Role::server;
  const uint64_t max_frame = (data[0] & 2) ? 1000 : 0;
  Rng rng{(uint32_t{data[1]} << 16 | uint32_t{data[2]} << 8 | data[3]) | 1};
  std::vector<uint8_t> in(data + 4, data + size);
  const std::string whole = trace(role, max_frame, in, &rng, 0);
  const std::string split = trace(role, max_frame, in, &rng, (data[0] & 4) ? 7 : 300);
  SY_FUZZ_CHECK(whole == split);

  // Round trip of the input's bytes as one frame from the other end.
  const Role sender = role == Role::server ? Role::client : Role::server;
  FrameEncoder enc(sender, MaskSource{&fixed_key, nullptr});
  std::vector<uint8_t> frame(in.size() + kMaxHeaderSize);
  frame.resize(enc.binary_frame(frame.data(), in));
  FrameDecoder dec(role);
  std::vector<uint8_t> got;
  std::span<uint8_t> rest(frame);
  while (!rest.empty()) {
    size_t used = 0;
    Event e = dec.decode(rest, used);
    SY_FUZZ_CHECK(e.kind == EventKind::data || e.kind == EventKind::none);
    got.insert(got.end(), e.payload.begin(), e.payload.end());
    rest = rest.subspan(used);
  }
  SY_FUZZ_CHECK(got == in);
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_ws)
