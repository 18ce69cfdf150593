// The tests' own RFC 9112 framer and forwarding check (tests/support): the
// reference the hostile and differential tests judge the router by, so it is
// tested on its own.
#include <gtest/gtest.h>

#include "tests/support/forwarded_check.hpp"
#include "tests/support/rfc9112_framer.hpp"

namespace sy::test {
namespace {

using Status = FrameResult::Status;

FramedRequest framed(const std::string& text) {
  FrameResult r = frame_request(text);
  EXPECT_EQ(r.status, Status::complete) << r.error;
  return r.request;
}

std::string error_of(const std::string& text) {
  FrameResult r = frame_request(text);
  EXPECT_EQ(r.status, Status::error) << text;
  return r.error;
}

TEST(Rfc9112Framer, FramesLengthChunkedAndNoBody) {
  FramedRequest get = framed("\r\n\r\nGET /a?b HTTP/1.1\r\nHost: h\r\nX-A:  v \r\n\r\n");
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.target, "/a?b");
  EXPECT_EQ(get.header("x-a"), "v");
  EXPECT_EQ(get.framing, FramedRequest::Framing::none);

  EXPECT_EQ(framed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello").body, "hello");
  FramedRequest chunked = framed(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
      "5;a=b ; c=\"d\"\r\nhello\r\n1\r\n!\r\n0\r\nX-T: t\r\n\r\n");
  EXPECT_EQ(chunked.body, "hello!");
  EXPECT_EQ(chunked.trailers, "X-T: t\r\n");
  EXPECT_TRUE(chunked.ambiguities.empty());
}

TEST(Rfc9112Framer, ChunkedWinsOverContentLengthAndIsFlagged) {
  const std::string text =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\nContent-Length: 40\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
  FrameResult first = frame_request(text);
  ASSERT_EQ(first.status, Status::complete);
  EXPECT_EQ(first.request.ambiguities.size(), 2u);
  FrameResult second = frame_request(std::string_view(text).substr(first.length));
  ASSERT_EQ(second.status, Status::complete);
  EXPECT_EQ(second.request.target, "/smuggled");
  FramedStream stream = frame_stream(text);
  EXPECT_TRUE(stream.requests.empty());
  EXPECT_EQ(stream.stop, "ambiguous: chunked applied twice");
}

TEST(Rfc9112Framer, RefusesWhatRecipientsReadDifferently) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: h\r\n\r\n"), "bare LF");
  EXPECT_EQ(error_of("GET / HTTP/1.1\rHost: h\r\n\r\n"), "bare CR");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), "obs-fold");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), "bad field name");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"), "more than one Host");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), "no Host");
  static constexpr char kNul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
  EXPECT_EQ(error_of(std::string(kNul, sizeof kNul - 1)),
            "control character in a field value");
  EXPECT_EQ(error_of("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"), "target byte outside visible ASCII or '#'");
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            "Content-Lengths disagree");
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n"), "Content-Length not a number");
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"),
            "final transfer-coding is not chunked");
  EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "Transfer-Encoding in HTTP/1.0");
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"),
            "bad chunk-size line");
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n"),
            "chunk data not followed by CRLF");
  EXPECT_EQ(frame_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nhalf").status, Status::incomplete);
}

TEST(Rfc9112Framer, StreamStopsAtTheFirstBadOrClosingRequest) {
  FramedStream two = frame_stream("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(two.requests.size(), 2u);
  EXPECT_EQ(two.stop, "");
  FramedStream bad = frame_stream("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\nHost: h\r\n\r\n");
  EXPECT_EQ(bad.requests.size(), 1u);
  EXPECT_EQ(bad.stop, "bare LF");
  FramedStream closed = frame_stream("GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(closed.requests.size(), 1u);
  FramedStream cut = frame_stream("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\n");
  EXPECT_EQ(cut.requests.size(), 1u);
  EXPECT_TRUE(cut.incomplete);
}

TEST(ForwardedCheck, AllowsWhatAProxyChangesAndNothingElse) {
  FramedRequest sent =
      framed("GET http://app.example.com/p?q HTTP/1.1\r\nHost: other\r\nConnection: X-Hop\r\nX-Hop: 1\r\nX-E: e\r\n\r\n");
  EXPECT_EQ(sent.host(), "app.example.com");
  EXPECT_EQ(sent.origin_target(), "/p?q");
  FramedRequest seen = framed(
      "GET /p?q HTTP/1.1\r\nHost: app.example.com\r\nX-E: e\r\nX-Forwarded-For: 127.0.0.1\r\n"
      "X-Vcap-Request-Id: id\r\n\r\n");
  EXPECT_EQ(forwarding_difference(sent, seen), "");
  FramedRequest foreign = framed("GET /p?q HTTP/1.1\r\nHost: app.example.com\r\nX-E: e\r\nX-New: 1\r\n\r\n");
  EXPECT_EQ(forwarding_difference(sent, foreign), "foreign header X-New: '1'");
  FramedRequest hop = framed("GET /p?q HTTP/1.1\r\nHost: app.example.com\r\nX-E: e\r\nX-Hop: 1\r\n\r\n");
  EXPECT_EQ(forwarding_difference(sent, hop), "header X-Hop was listed in Connection but forwarded");
  FramedRequest other_host = framed("GET /p?q HTTP/1.1\r\nHost: other\r\nX-E: e\r\n\r\n");
  EXPECT_NE(forwarding_difference(sent, other_host), "");

  FramedRequest smuggled = framed("GET /smuggled HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
  EXPECT_EQ(match_forwarded({sent}, {seen}), "");
  EXPECT_NE(match_forwarded({sent}, {seen, smuggled}), "");
  EXPECT_EQ(match_forwarded({sent, sent}, {seen}), "");
}

}  // namespace
}  // namespace sy::test
