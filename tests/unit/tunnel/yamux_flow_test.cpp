// Two sessions back to back: streams both ways, half-close, reset, flow
// control (a stalled stream does not stall its siblings), output bounds.
#include <gtest/gtest.h>

#include "tests/unit/tunnel/yamux_test_util.hpp"

namespace sy::yamux {
namespace {

using namespace testing;

// Writes all of `bytes` on `id`, pumping as windows open.
void write_all(Pump& p, Session& from, uint32_t id, const Bytes& bytes, Session& reader, Bytes* got) {
  size_t done = 0;
  for (int rounds = 0; done < bytes.size(); ++rounds) {
    ASSERT_LT(rounds, 100000);
    IoResult r = from.write(id, std::span(bytes).subspan(done));
    ASSERT_TRUE(r.status == Status::ok || r.status == Status::would_block);
    done += r.n;
    p.run(7000);
    Bytes chunk = read_all(reader, id);
    got->insert(got->end(), chunk.begin(), chunk.end());
  }
}

TEST(YamuxPair, StreamsBothWaysWithHalfCloseEachWay) {
  Pump p;
  const uint32_t a = p.client.open().id;
  const uint32_t b = p.server.open().id;
  p.run();
  EXPECT_TRUE(has_event(events(p.server), EventKind::accepted, a));
  EXPECT_TRUE(has_event(events(p.client), EventKind::accepted, b));

  Bytes up = pattern(1 << 20, 1), down = pattern(1 << 20, 2), got_up, got_down;
  write_all(p, p.client, a, up, p.server, &got_up);
  write_all(p, p.server, a, down, p.client, &got_down);
  EXPECT_EQ(got_up, up);
  EXPECT_EQ(got_down, down);

  // Client half-closes a: the server reads eof but can still write.
  ASSERT_TRUE(p.client.close(a));
  EXPECT_EQ(p.client.write(a, Bytes{1}).status, Status::closed);
  p.run();
  EXPECT_TRUE(has_event(events(p.server), EventKind::readable, a));
  Status st;
  read_all(p.server, a, &st);
  EXPECT_EQ(st, Status::eof);
  EXPECT_EQ(p.server.write(a, Bytes{5, 6}).n, 2u);
  p.run();
  EXPECT_EQ(read_all(p.client, a), (Bytes{5, 6}));
  ASSERT_TRUE(p.server.close(a));
  EXPECT_FALSE(p.server.has_stream(a));  // sent FIN, saw eof: gone
  p.run();
  read_all(p.client, a, &st);
  EXPECT_EQ(st, Status::eof);
  EXPECT_FALSE(p.client.has_stream(a));

  // The other way round on b: the server (its opener) half-closes first.
  ASSERT_TRUE(p.server.close(b));
  EXPECT_EQ(p.client.write(b, Bytes{7}).n, 1u);
  p.run();
  EXPECT_EQ(read_all(p.server, b), Bytes{7});
  read_all(p.client, b, &st);
  EXPECT_EQ(st, Status::eof);
  p.client.close(b);
  p.run();
  read_all(p.server, b, &st);
  EXPECT_EQ(st, Status::eof);
  EXPECT_EQ(p.client.stream_count() + p.server.stream_count(), 0u);
}

TEST(YamuxPair, ResetEachWay) {
  Pump p;
  const uint32_t a = p.client.open().id, b = p.client.open().id;
  p.run();
  events(p.server);
  ASSERT_TRUE(p.client.reset(a));
  ASSERT_TRUE(p.server.reset(b));
  p.run();
  EXPECT_TRUE(has_event(events(p.server), EventKind::reset, a));
  EXPECT_TRUE(has_event(events(p.client), EventKind::reset, b));
  for (Session* s : {&p.client, &p.server})
    for (uint32_t id : {a, b}) {
      EXPECT_FALSE(s->has_stream(id));
      EXPECT_EQ(s->write(id, Bytes{1}).status, Status::closed);
      EXPECT_EQ(s->read(id, std::span<uint8_t>()).status, Status::closed);
    }
  EXPECT_FALSE(p.client.failed() || p.server.failed());
}

TEST(YamuxPair, AStalledStreamDoesNotStallItsSiblingAndResumesOnWindowUpdate) {
  Pump p;
  const uint32_t stalled = p.client.open().id, busy = p.client.open().id;
  p.run();
  // Fill the stalled stream's window; the server reads nothing from it.
  Bytes big = pattern(kInitialWindow + 1000, 3);
  IoResult r = p.client.write(stalled, big);
  EXPECT_EQ(r.n, kInitialWindow);
  EXPECT_EQ(p.client.write(stalled, Bytes{1}).status, Status::would_block);
  p.run();
  EXPECT_EQ(p.server.buffered(stalled), kInitialWindow);
  // Its sibling moves 4 MiB meanwhile.
  Bytes sib = pattern(4 << 20, 4), got;
  write_all(p, p.client, busy, sib, p.server, &got);
  EXPECT_EQ(got, sib);
  EXPECT_EQ(p.client.send_window(stalled), 0u);
  p.run();
  events(p.client);
  // Reading less than half a window sends no update; half does.
  Bytes part(kInitialWindow / 2 - 1);
  EXPECT_EQ(p.server.read(stalled, part).n, part.size());
  EXPECT_TRUE(sent(p.server).empty());
  uint8_t one;
  EXPECT_EQ(p.server.read(stalled, std::span(&one, 1)).n, 1u);
  p.run();
  EXPECT_EQ(p.client.send_window(stalled), kInitialWindow / 2);
  EXPECT_TRUE(has_event(events(p.client), EventKind::writable, stalled));
  EXPECT_EQ(p.client.write(stalled, std::span(big).subspan(kInitialWindow)).n, 1000u);
  p.run();
  Bytes rest = read_all(p.server, stalled);
  EXPECT_EQ(rest.size(), kInitialWindow / 2 + 1000);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), big.begin() + kInitialWindow / 2));
}

TEST(YamuxPair, LargeWindowsAreGrantedAtOpenAndAccept) {
  Config big;
  big.max_window = 6 << 20;
  big.max_output = 8 << 20;
  Pump p(big, big);
  const uint32_t id = p.client.open().id;
  p.run();
  events(p.server);
  EXPECT_EQ(p.server.send_window(id), 6u << 20);  // our SYN carried the difference
  EXPECT_EQ(p.client.send_window(id), 6u << 20);  // and so did their ACK
  Bytes payload = pattern(6 << 20, 5);
  EXPECT_EQ(p.client.write(id, payload).n, payload.size());
  p.run();
  EXPECT_EQ(p.server.buffered(id), payload.size());
  EXPECT_EQ(read_all(p.server, id), payload);
}

// A frame whose payload lands in pieces while the application reads: the
// window updates never grant more than max_window in all (a 64 KiB download
// through a tunnel once made the node send a delta of 2^32 - 57231).
TEST(YamuxFlow, ReadingWhileAFrameLandsNeverOverGrants) {
  Session server(Role::server, Config{}, T0);
  const uint32_t id = 1;
  feed_all(server, frame(Type::window_update, kFlagSyn, id, 0));
  events(server);
  sent(server);
  const uint32_t max = Config{}.max_window;
  uint64_t granted = max;  // the initial window
  uint64_t received = 0;
  for (int round = 0; round < 20; ++round) {
    const Bytes payload = pattern(static_cast<size_t>(max - (round % 3) * 1000), static_cast<uint32_t>(round));
    const Bytes f = data(id, payload);
    ASSERT_LE(received + payload.size(), granted) << "the peer may send only what it was granted";
    // Header and a third of the payload, a read, the rest, reads.
    const size_t first = kHeaderSize + payload.size() / 3;
    ASSERT_EQ(feed_all(server, Bytes(f.begin(), f.begin() + static_cast<long>(first))), first);
    server.consume(id, payload.size());
    ASSERT_EQ(feed_all(server, Bytes(f.begin() + static_cast<long>(first), f.end())), f.size() - first);
    server.consume(id, 1000);  // a small read, then the rest
    server.consume(id, payload.size());
    received += payload.size();
    for (const Sent& s : sent(server)) {
      ASSERT_EQ(s.h.type, Type::window_update);
      granted += s.h.length;
      ASSERT_LE(s.h.length, max) << "round " << round;
    }
    EXPECT_LE(granted - received, max) << "round " << round;
  }
  EXPECT_FALSE(server.failed());
}

TEST(YamuxPair, OutputBoundRefusesWritesUntilDrained) {
  Config c;
  c.max_output = 100000;
  c.max_frame = 16384;
  Session s(Role::client, c, T0);
  const uint32_t a = s.open().id, b = s.open().id;
  Bytes payload = pattern(200000);
  IoResult r = s.write(a, payload);
  EXPECT_GE(s.output_size(), c.max_output);
  EXPECT_LT(s.output_size(), c.max_output + c.max_frame + 2 * kHeaderSize);
  EXPECT_EQ(s.write(b, payload).status, Status::would_block);
  auto f = sent(s);  // drained
  for (const auto& x : f) EXPECT_LE(x.h.length, c.max_frame);
  auto ev = events(s);
  EXPECT_TRUE(has_event(ev, EventKind::writable, a));
  EXPECT_TRUE(has_event(ev, EventKind::writable, b));
  EXPECT_GT(s.write(b, payload).n, 0u);  // b takes the room again
  EXPECT_EQ(s.write(a, std::span(payload).subspan(r.n)).status, Status::would_block);
  sent(s);
  EXPECT_TRUE(has_event(events(s), EventKind::writable, a));
  EXPECT_GT(s.write(a, std::span(payload).subspan(r.n)).n, 0u);
}

TEST(YamuxPair, FeedPausesWhileOutputIsOverItsBound) {
  Config c;
  c.max_output = 1000;
  Session s(Role::server, c, T0);
  Bytes pings;
  for (uint32_t i = 0; i < 20000; ++i) {
    Bytes f = frame(Type::ping, kFlagSyn, 0, i);
    pings.insert(pings.end(), f.begin(), f.end());
  }
  size_t used = s.feed(pings, T0), answered = 0;
  EXPECT_LT(used, pings.size());
  for (int round = 0; round < 10 && used < pings.size(); ++round) {
    EXPECT_LE(s.output_size(), c.max_output + kControlSlack + kHeaderSize);
    answered += sent(s).size();
    used += s.feed(std::span(pings).subspan(used), T0);
  }
  answered += sent(s).size();
  EXPECT_EQ(used, pings.size());
  EXPECT_EQ(answered, 20000u);
}

TEST(YamuxPair, ZeroCopyWriteFillsTheQueueInPlace) {
  Pump p;
  const uint32_t id = p.client.open().id;
  p.run();
  Status st;
  std::span<uint8_t> room = p.client.prepare_write(id, 1000, &st);
  ASSERT_EQ(st, Status::ok);
  ASSERT_EQ(room.size(), 1000u);
  Bytes payload = pattern(600, 9);
  std::copy(payload.begin(), payload.end(), room.begin());
  p.client.commit_write(id, 600);  // a short fill: the frame says 600
  room = p.client.prepare_write(id, 50, &st);
  p.client.commit_write(id, 0);  // cancelled: nothing sent
  p.run();
  EXPECT_EQ(read_all(p.server, id), payload);
  EXPECT_EQ(p.client.send_window(id), kInitialWindow - 600);
  // Bounded by the send window like write(); a short room waits for writable.
  Bytes fill(kInitialWindow - 1000);
  EXPECT_EQ(p.client.write(id, fill).n, fill.size());
  events(p.client);
  room = p.client.prepare_write(id, 1000, &st);
  EXPECT_EQ(room.size(), 400u);
  p.client.commit_write(id, room.size());
  p.run();
  read_all(p.server, id);
  p.run();
  EXPECT_TRUE(has_event(events(p.client), EventKind::writable, id));  // without another try
  Bytes rest(p.client.send_window(id));
  EXPECT_EQ(p.client.write(id, rest).n, rest.size());
  EXPECT_TRUE(p.client.prepare_write(id, 10, &st).empty());
  EXPECT_EQ(st, Status::would_block);
  p.client.close(id);
  EXPECT_TRUE(p.client.prepare_write(id, 10, &st).empty());
  EXPECT_EQ(st, Status::closed);
}

}  // namespace
}  // namespace sy::yamux
