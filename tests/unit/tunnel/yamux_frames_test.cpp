// yamux on the wire: header layout, what a session sends for each API call,
// how it answers each frame type and flag, and every protocol violation.
#include <gtest/gtest.h>

#include "tests/unit/tunnel/yamux_test_util.hpp"

namespace sy::yamux {
namespace {

using namespace testing;

TEST(YamuxFrame, HeaderIsTwelveBigEndianBytes) {
  uint8_t b[kHeaderSize];
  encode_header(Header{0, Type::window_update, kFlagSyn | kFlagFin, 0x01020304, 0xa0b0c0d0}, b);
  const uint8_t expect[] = {0, 1, 0, 5, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0};
  EXPECT_EQ(Bytes(b, b + 12), Bytes(expect, expect + 12));
  Header h = decode_header(b);
  EXPECT_EQ(h.type, Type::window_update);
  EXPECT_EQ(h.flags, kFlagSyn | kFlagFin);
  EXPECT_EQ(h.stream_id, 0x01020304u);
  EXPECT_EQ(h.length, 0xa0b0c0d0u);
}

TEST(YamuxSession, OpenSendsSynWithTheExtraWindowAndUsesOwnParity) {
  Config c;
  c.max_window = 6 << 20;
  Session client(Role::client, c, T0), server(Role::server, {}, T0);
  EXPECT_EQ(client.open().id, 1u);
  EXPECT_EQ(client.open().id, 3u);
  EXPECT_EQ(server.open().id, 2u);
  auto f = sent(client);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].h.type, Type::window_update);
  EXPECT_EQ(f[0].h.flags, kFlagSyn);
  EXPECT_EQ(f[0].h.length, (6u << 20) - kInitialWindow);
  auto g = sent(server);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].h.length, 0u);  // default window: a bare SYN
}

TEST(YamuxSession, PeerSynIsAckedAndAccepted) {
  Session s(Role::server, {}, T0);
  feed_all(s, data(1, {'a', 'b'}, kFlagSyn));
  auto f = sent(s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].h.type, Type::window_update);
  EXPECT_EQ(f[0].h.flags, kFlagAck);
  EXPECT_EQ(f[0].h.stream_id, 1u);
  auto ev = events(s);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, EventKind::accepted);
  EXPECT_EQ(ev[1].kind, EventKind::readable);
  EXPECT_EQ(read_all(s, 1), (Bytes{'a', 'b'}));
}

TEST(YamuxSession, AnswersPingsAndMeasuresItsOwn) {
  Session s(Role::client, {}, T0);
  feed_all(s, frame(Type::ping, kFlagSyn, 0, 0xdeadbeef));
  auto f = sent(s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].h.type, Type::ping);
  EXPECT_EQ(f[0].h.flags, kFlagAck);
  EXPECT_EQ(f[0].h.length, 0xdeadbeefu);
  s.ping(T0);
  f = sent(s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].h.flags, kFlagSyn);
  s.feed(frame(Type::ping, kFlagAck, 0, f[0].h.length + 1), T0 + 1ms);  // not ours: ignored
  EXPECT_EQ(s.rtt(), Clock::duration::zero());
  s.feed(frame(Type::ping, kFlagAck, 0, f[0].h.length), T0 + 7ms);
  EXPECT_EQ(s.rtt(), 7ms);
  EXPECT_FALSE(s.failed());
}

TEST(YamuxSession, KeepaliveFailsASessionWhosePingGoesUnanswered) {
  Config c;
  c.ping_interval = 5s;
  Session s(Role::client, c, T0);
  s.tick(T0 + 4s);
  EXPECT_TRUE(sent(s).empty());
  s.tick(T0 + 5s);
  auto f = sent(s);
  ASSERT_EQ(f.size(), 1u);
  s.feed(frame(Type::ping, kFlagAck, 0, f[0].h.length), T0 + 6s);  // answered
  s.tick(T0 + 9s);
  EXPECT_TRUE(sent(s).empty());
  s.tick(T0 + 10s);  // the next one
  ASSERT_EQ(sent(s).size(), 1u);
  s.tick(T0 + 14s);
  EXPECT_FALSE(s.failed());
  s.tick(T0 + 15s);  // unanswered for an interval
  EXPECT_TRUE(s.failed());
  EXPECT_EQ(s.failure(), Failure::ping_timeout);
  EXPECT_TRUE(has_event(events(s), EventKind::failed, 0));
  EXPECT_EQ(s.open().error, OpenError::failed);
}

// Feeds `bad` after a healthy open stream; expects GoAway(protocol error).
void expect_protocol_error(Role role, const Bytes& bad) {
  Session s(role, {}, T0);
  const uint32_t peer_id = role == Role::server ? 1 : 2;
  feed_all(s, frame(Type::window_update, kFlagSyn, peer_id, 0));
  sent(s);
  events(s);
  s.feed(bad, T0);
  EXPECT_TRUE(s.failed());
  EXPECT_EQ(s.failure(), Failure::protocol_error);
  auto f = sent(s);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f.back().h.type, Type::go_away);
  EXPECT_EQ(f.back().h.length, 1u);
  EXPECT_TRUE(has_event(events(s), EventKind::failed, 0));
  EXPECT_EQ(s.feed(frame(Type::ping, kFlagSyn, 0, 1), T0), 0u);  // takes no more input
}

TEST(YamuxSession, ProtocolViolations) {
  Bytes v1 = frame(Type::ping, kFlagSyn, 0, 1);
  v1[0] = 1;
  expect_protocol_error(Role::server, v1);                                          // version
  Bytes t4 = frame(Type::ping, kFlagSyn, 0, 1);
  t4[1] = 4;
  expect_protocol_error(Role::server, t4);                                          // type
  expect_protocol_error(Role::server, frame(Type::ping, kFlagSyn, 1, 1));           // ping on a stream
  expect_protocol_error(Role::server, frame(Type::go_away, 0, 1, 0));               // go away on a stream
  expect_protocol_error(Role::server, frame(Type::window_update, kFlagSyn, 1, 0));  // duplicate SYN
  expect_protocol_error(Role::server, frame(Type::window_update, kFlagSyn, 2, 0));  // server's parity
  expect_protocol_error(Role::client, frame(Type::window_update, kFlagSyn, 3, 0));  // client's parity
  expect_protocol_error(Role::server, frame(Type::data, 0, 0, 0));                  // stream 0
  expect_protocol_error(Role::server, frame(Type::data, 0, 1, kInitialWindow + 1)); // beyond the window
  expect_protocol_error(Role::server, cat({data(1, {1}, kFlagFin), data(1, {2})})); // data after FIN
  expect_protocol_error(Role::server, frame(Type::window_update, 0, 1, 0xffffffff)); // window overflow
}

TEST(YamuxSession, FramesForUnknownStreamsAreDroppedWithARst) {
  Session s(Role::server, {}, T0);
  feed_all(s, cat({data(7, pattern(100)), frame(Type::window_update, 0, 9, 10),
                   frame(Type::window_update, kFlagRst, 11, 0), frame(Type::ping, kFlagSyn, 0, 5)}));
  EXPECT_FALSE(s.failed());
  auto f = sent(s);
  ASSERT_EQ(f.size(), 3u);  // RST 7, RST 9, nothing for 11, ping answer
  EXPECT_EQ(f[0].h.flags, kFlagRst);
  EXPECT_EQ(f[0].h.stream_id, 7u);
  EXPECT_EQ(f[1].h.stream_id, 9u);
  EXPECT_EQ(f[2].h.type, Type::ping);
  EXPECT_TRUE(events(s).empty());
}

TEST(YamuxSession, StreamsBeyondTheLimitAreReset) {
  Config c;
  c.max_streams = 2;
  Session s(Role::server, c, T0);
  feed_all(s, cat({data(1, {1}, kFlagSyn), data(3, {3}, kFlagSyn), data(5, {5}, kFlagSyn), data(7, {7})}));
  auto f = sent(s);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[2].h.stream_id, 5u);
  EXPECT_EQ(f[2].h.flags, kFlagRst);
  EXPECT_EQ(f[3].h.stream_id, 7u);  // 7 was never opened: RST too
  EXPECT_EQ(s.stream_count(), 2u);
  EXPECT_FALSE(s.has_stream(5));
  EXPECT_EQ(s.open().error, OpenError::too_many_streams);
}

TEST(YamuxSession, AfterOurGoAwayPeerStreamsAreResetOursContinue) {
  Session s(Role::server, {}, T0);
  feed_all(s, data(1, {1}, kFlagSyn));
  s.go_away();
  sent(s);
  events(s);
  feed_all(s, cat({data(3, {3}, kFlagSyn), data(1, {2})}));
  auto f = sent(s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].h.stream_id, 3u);
  EXPECT_EQ(f[0].h.flags, kFlagRst);
  EXPECT_EQ(read_all(s, 1), (Bytes{1, 2}));
}

TEST(YamuxSession, RemoteGoAway) {
  Session s(Role::client, {}, T0);
  uint32_t id = s.open().id;
  sent(s);
  feed_all(s, frame(Type::go_away, 0, 0, 0));
  EXPECT_TRUE(s.going_away());
  EXPECT_FALSE(s.failed());
  EXPECT_TRUE(has_event(events(s), EventKind::go_away, 0));
  EXPECT_EQ(s.open().error, OpenError::remote_go_away);
  EXPECT_EQ(s.write(id, Bytes{1, 2, 3}).n, 3u);  // existing streams go on
  feed_all(s, data(id, {9}, kFlagAck));
  EXPECT_EQ(read_all(s, id), Bytes{9});

  Session e(Role::client, {}, T0);
  feed_all(e, frame(Type::go_away, 0, 0, 1));
  EXPECT_EQ(e.failure(), Failure::remote_protocol_error);
  EXPECT_TRUE(sent(e).empty());  // no GoAway back
  Session i(Role::client, {}, T0);
  feed_all(i, frame(Type::go_away, 0, 0, 2));
  EXPECT_EQ(i.failure(), Failure::remote_internal_error);
  Session u(Role::client, {}, T0);
  feed_all(u, frame(Type::go_away, 0, 0, 3));  // unknown code: Go ends the session too
  EXPECT_EQ(u.failure(), Failure::remote_internal_error);
}

TEST(YamuxSession, FinAndRstFlagsOnDataAndWindowUpdates) {
  Session s(Role::server, {}, T0);
  feed_all(s, cat({data(1, {1, 2}, kFlagSyn | kFlagFin), frame(Type::window_update, kFlagSyn, 3, 0),
                   data(3, {3}, kFlagRst)}));
  auto ev = events(s);
  EXPECT_TRUE(has_event(ev, EventKind::reset, 3));
  EXPECT_FALSE(s.has_stream(3));
  EXPECT_EQ(s.write(3, Bytes{1}).status, Status::closed);
  Status last;
  EXPECT_EQ(read_all(s, 1, &last), (Bytes{1, 2}));
  EXPECT_EQ(last, Status::eof);
  EXPECT_TRUE(s.has_stream(1));  // our direction is still open
  EXPECT_EQ(s.write(1, Bytes{4}).n, 1u);
  EXPECT_TRUE(s.close(1));
  EXPECT_FALSE(s.has_stream(1));  // both directions done
  auto f = sent(s);
  EXPECT_EQ(f.back().h.type, Type::window_update);
  EXPECT_EQ(f.back().h.flags, kFlagFin);
}

}  // namespace
}  // namespace sy::yamux
