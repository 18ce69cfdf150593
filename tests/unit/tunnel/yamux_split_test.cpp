// The same byte stream must give the same result however it is cut: fed to a
// session one byte at a time, in every 2-way split, and carried in WebSocket
// messages the way Go's yamux over gorilla/websocket sends it (a frame's
// header and its body as two messages), as one message holding every frame,
// and with a header split across two messages.
#include <gtest/gtest.h>

#include <map>

#include "tests/unit/tunnel/yamux_test_util.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"

namespace sy::yamux {
namespace {

using namespace testing;

// A peer's (client's) frames exercising every type and flag a server sees.
std::vector<Bytes> script() {
  return {
      data(1, pattern(300, 1), kFlagSyn),
      frame(Type::window_update, kFlagSyn, 3, 4096),
      data(1, pattern(5000, 2)),
      frame(Type::ping, kFlagSyn, 0, 77),
      data(3, pattern(1000, 3), kFlagFin),
      frame(Type::window_update, 0, 1, 100),
      data(5, pattern(40, 4)),  // never opened: RST
      data(7, {}, kFlagSyn),
      frame(Type::window_update, kFlagRst, 7, 0),
      data(1, {}, kFlagFin),
      frame(Type::go_away, 0, 0, 0),
  };
}

struct Trace {
  std::vector<std::pair<EventKind, uint32_t>> events;
  Bytes output;
  std::map<uint32_t, Bytes> streams;
  std::map<uint32_t, uint32_t> send_windows;
  bool operator==(const Trace&) const = default;
};

Trace finish(Session& s) {
  Trace t;
  t.output.assign(s.output().begin(), s.output().end());
  for (Event e : events(s)) t.events.emplace_back(e.kind, e.stream_id);
  for (uint32_t id : {1u, 3u, 5u, 7u}) {
    t.send_windows[id] = s.send_window(id);
    t.streams[id] = read_all(s, id);
  }
  EXPECT_FALSE(s.failed());
  return t;
}

Trace feed_split(const Bytes& in, std::vector<size_t> cuts) {
  Session s(Role::server, {}, T0);
  cuts.push_back(in.size());
  size_t start = 0;
  for (size_t end : cuts) {
    EXPECT_EQ(s.feed(std::span(in).subspan(start, end - start), T0), end - start);
    start = end;
  }
  return finish(s);
}

TEST(YamuxSplit, EverySplitGivesTheSameResult) {
  Bytes in;
  for (const auto& f : script()) in.insert(in.end(), f.begin(), f.end());
  const Trace whole = feed_split(in, {});
  // Sanity: the script did what it says.
  EXPECT_EQ(whole.streams.at(1).size(), 5300u);
  EXPECT_EQ(whole.streams.at(3), pattern(1000, 3));
  EXPECT_EQ(whole.send_windows.at(1), kInitialWindow + 100);
  EXPECT_EQ(whole.send_windows.at(3), kInitialWindow + 4096);
  EXPECT_EQ(whole.events.size(), 7u);  // accepted 1, readable 1, accepted 3, readable 3, accepted 7, reset 7, go_away
  std::vector<size_t> bytewise;
  for (size_t i = 1; i < in.size(); ++i) bytewise.push_back(i);
  EXPECT_EQ(feed_split(in, bytewise), whole);
  for (size_t i = 0; i <= in.size(); ++i) ASSERT_EQ(feed_split(in, {i}), whole) << "split at " << i;
}

// Wraps `messages` as masked client WebSocket frames, decodes them as the
// node does (cut at `cuts`), and feeds the payload pieces to a session.
Trace through_websocket(const std::vector<Bytes>& messages, std::vector<size_t> cuts = {}) {
  uint32_t ctr = 0;
  ws::FrameEncoder enc(ws::Role::client, {[](void* c) { return ++*static_cast<uint32_t*>(c) * 0x01000193u; }, &ctr});
  Bytes wire;
  for (const auto& m : messages) {
    Bytes f(m.size() + ws::kMaxHeaderSize);
    f.resize(enc.binary_frame(f.data(), m));
    wire.insert(wire.end(), f.begin(), f.end());
  }
  ws::FrameDecoder dec(ws::Role::server);
  Session s(Role::server, {}, T0);
  std::erase_if(cuts, [&](size_t c) { return c >= wire.size(); });
  cuts.push_back(wire.size());
  size_t start = 0;
  for (size_t end : cuts) {
    std::span<uint8_t> chunk(wire.data() + start, end - start);
    start = end;
    while (!chunk.empty()) {
      size_t used = 0;
      ws::Event e = dec.decode(chunk, used);
      chunk = chunk.subspan(used);
      if (e.kind == ws::EventKind::error) {
        ADD_FAILURE() << "websocket error " << e.code;
        return {};
      }
      if (e.kind == ws::EventKind::data) {
        EXPECT_EQ(s.feed(e.payload, T0), e.payload.size());
      }
    }
  }
  return finish(s);
}

TEST(YamuxSplit, OverWebSocketMessagesHoweverFramed) {
  Bytes in;
  std::vector<Bytes> go_style;  // header and body as separate messages
  for (const auto& f : script()) {
    in.insert(in.end(), f.begin(), f.end());
    go_style.emplace_back(f.begin(), f.begin() + kHeaderSize);
    if (f.size() > kHeaderSize) go_style.emplace_back(f.begin() + kHeaderSize, f.end());
  }
  const Trace whole = feed_split(in, {});
  EXPECT_EQ(through_websocket(go_style), whole);
  EXPECT_EQ(through_websocket({in}), whole);  // every frame in one message
  // A header split across two messages, and messages cut mid-frame.
  std::vector<Bytes> odd = {Bytes(in.begin(), in.begin() + 5), Bytes(in.begin() + 5, in.begin() + 318),
                            Bytes(in.begin() + 318, in.end())};
  EXPECT_EQ(through_websocket(odd), whole);
  // And the WebSocket byte stream itself cut at every byte.
  std::vector<size_t> bytewise;
  for (size_t i = 1; i < in.size() * 2; ++i) bytewise.push_back(i);  // past the end: dropped
  EXPECT_EQ(through_websocket(go_style, bytewise), whole);
}

}  // namespace
}  // namespace sy::yamux
