// Fuzz harness: a server yamux::Session fed arbitrary bytes, in chunks cut
// where the input says, while a pretend application reads, stalls, writes,
// closes and resets streams, and the I/O layer drains the output partly or
// fully. Invariants, trapped:
//   - no stream ever buffers more than its receive window (max_window);
//   - the output queue stays within max_output + kControlSlack + a few
//     headers (feed() pauses, write() refuses);
//   - feed() consumes everything unless it paused or the session failed,
//     and a paused feed resumes once the output is drained;
//   - a failed session takes no more input.
// Input: 4 bytes of options and chunking seed, then the byte stream. With
// options 0xc0 the stream is the input repeated up to 300 KiB, so that a
// small input can carry more than a 256 KiB window's worth of payload.
#include <algorithm>
#include <vector>

#include "tunnel/yamux/session.hpp"

#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

using namespace sy::yamux;

struct Rng {
  uint32_t s;
  uint32_t next() {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    return s;
  }
};

struct Options {
  Config config;
  bool reader_stalls;
  size_t max_chunk;
  size_t out_bound;
  bool cycle;
};

Options options(uint8_t opt) {
  Options o;
  Config& c = o.config;
  c.max_window = (opt & 1) ? 6u << 20 : kInitialWindow;
  c.max_streams = (opt & 2) ? 4 : 64;
  c.max_output = (opt & 4) ? 4096 : 256 * 1024;
  c.max_frame = (opt & 8) ? 1000 : 64 * 1024;
  c.ping_interval = std::chrono::milliseconds(1000);
  o.reader_stalls = opt & 16;
  o.max_chunk = (opt & 32) ? 4096 : 64;
  o.cycle = (opt & 0xc0) == 0xc0;
  o.out_bound = c.max_output + kControlSlack + kHeaderSize * (c.max_output / c.max_frame + 8);
  return o;
}

// What the application does between two feeds: take events, read (unless it
// stalls), and one random action on a random stream.
void application(Session& s, const Options& o, Rng& rng, std::vector<uint32_t>& ids, std::vector<uint8_t>& scratch) {
  Event e;
  while (s.poll(e)) {
    if (e.kind == EventKind::accepted && ids.size() < 128) ids.push_back(e.stream_id);
    if (e.kind == EventKind::readable && !o.reader_stalls) SY_FUZZ_CHECK(s.read(e.stream_id, scratch).n <= scratch.size());
  }
  for (uint32_t id : ids) SY_FUZZ_CHECK(s.buffered(id) <= o.config.max_window);
  if (ids.empty()) return;
  const uint32_t id = ids[rng.next() % ids.size()];
  Status st;
  switch (rng.next() % 9) {
    case 0: s.write(id, std::span(scratch).first(rng.next() % scratch.size())); break;
    case 1: s.close(id); break;
    case 2: s.reset(id); break;
    case 3: s.consume(id, rng.next() % 100000); break;
    case 4: if (ids.size() < 128) ids.push_back(s.open().id); break;
    case 5: {
      auto room = s.prepare_write(id, rng.next() % 100000, &st);
      SY_FUZZ_CHECK(room.size() <= o.config.max_frame);
      s.commit_write(id, room.empty() ? 0 : rng.next() % (room.size() + 1));
      break;
    }
    default: break;
  }
  SY_FUZZ_CHECK(s.output_size() <= o.out_bound);
}

}  // namespace

int fuzz_yamux(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Options o = options(data[0]);
  Rng rng{(uint32_t{data[1]} << 16 | uint32_t{data[2]} << 8 | data[3]) | 1};
  data += 4, size -= 4;
  std::vector<uint8_t> cycled;
  if (o.cycle && size > 0) {
    constexpr size_t kCycled = 300 * 1024;
    cycled.resize(kCycled);
    for (size_t i = 0; i < kCycled; ++i) cycled[i] = data[i % size];
    data = cycled.data(), size = cycled.size();
  }

  TimePoint now{};
  Session s(Role::server, o.config, now);
  std::vector<uint32_t> ids;
  std::vector<uint8_t> scratch(8192, 0x5a);
  size_t pos = 0;
  int stuck = 0;
  while (pos < size && stuck < 4) {
    const size_t n = std::min<size_t>(size - pos, 1 + rng.next() % (o.cycle ? 65536 : o.max_chunk));
    const bool was_failed = s.failed();
    const size_t used = s.feed(std::span(data + pos, n), now);
    SY_FUZZ_CHECK(used <= n);
    if (was_failed) SY_FUZZ_CHECK(used == 0);
    if (used < n) SY_FUZZ_CHECK(s.failed() || s.output_size() > o.config.max_output + kControlSlack);
    pos += used;
    if (s.failed()) break;
    stuck = used == 0 ? stuck + 1 : 0;
    SY_FUZZ_CHECK(s.output_size() <= o.out_bound);
    application(s, o, rng, ids, scratch);
    // The I/O layer writes some or all of the output.
    const size_t out = s.output_size();
    s.consumed(rng.next() % 4 == 0 ? out / 2 : out);
    now += std::chrono::milliseconds(rng.next() % 700);
    s.tick(now);
    if (rng.next() % 64 == 0) s.shrink();
  }
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_yamux)
