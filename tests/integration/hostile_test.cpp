// Hostile input, part 1 (the pentest's items 1 and 2): request smuggling
// shapes, Host ambiguity, absolute-form targets, smuggling-shaped responses,
// and obs-fold, which once made the router forward bytes of its own stack.
// Each case asserts the router's exact answer and that the raw backend saw
// exactly the requests the client sent as one.
#include <algorithm>
#include <cctype>

#include "tests/integration/hostile_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Shape {
  const char* name;
  std::string fields;  // framing lines of the request head
  std::string body;    // then the smuggled request
  int status;
};

// Request shapes a front end and an RFC 9112 backend used to frame
// differently. Every body ends in a second request, which a backend that
// framed the first by Transfer-Encoding would serve.
std::vector<Shape> smuggling_shapes() {
  const std::string zero = "0\r\n\r\n";
  return {
      {"chunked, chunked + CL", "Transfer-Encoding: chunked, chunked\r\nContent-Length: 40\r\n", zero, 400},
      {"gzip, chunked, chunked + CL", "Transfer-Encoding: gzip, chunked, chunked\r\nContent-Length: 40\r\n", zero,
       400},
      {"chunked + CL (CL.TE)", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", zero, 400},
      {"chunked twice on two lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", zero, 400},
      {"xchunked", "Transfer-Encoding: xchunked\r\n", zero, 400},
      {"chunked, identity", "Transfer-Encoding: chunked, identity\r\n", zero, 400},
      {"identity", "Transfer-Encoding: identity\r\n", zero, 400},
      {"obs-folded TE", "Transfer-Encoding:\r\n chunked\r\n", zero, 400},
      {"TE with space before colon", "Transfer-Encoding : chunked\r\n", zero, 400},
      {"TE with vertical tab", "Transfer-Encoding:\x0b" "chunked\r\n", zero, 400},
      {"differing Content-Lengths", "Content-Length: 5\r\nContent-Length: 0\r\n", "hello", 400},
      {"unknown coding before chunked", "Transfer-Encoding: identity, chunked\r\n", zero, 501},
  };
}

class HostileSmugglingTest : public HostileTest {};

TEST_F(HostileSmugglingTest, SmugglingShapesAreRefusedAndNothingReachesTheBackend) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  for (const Shape& shape : smuggling_shapes()) {
    const uint64_t epoch = begin_case();
    RawSocket socket;
    const RawResponse response = exchange(request("POST", "/first", shape.fields, shape.body + smuggled()), socket);
    EXPECT_EQ(response.status, shape.status) << shape.name << ":\n" << response.head;
    EXPECT_EQ(response.header("Connection"), "close") << shape.name;
    EXPECT_TRUE(socket.wait_closed(seconds(5))) << shape.name << ": the connection stayed open";
    expect_nothing_forwarded(epoch, shape.name);
  }
  // The router still serves, over the same pooled backend connections.
  const uint64_t epoch = begin_case();
  const std::string plain = request("GET", "/after", "");
  EXPECT_EQ(exchange(plain).status, 200);
  expect_forwarded_exactly(epoch, plain, 1, "a plain request after the shapes");
}

TEST_F(HostileSmugglingTest, Http2RequestLineIs505) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const uint64_t epoch = begin_case();
  const RawResponse response = exchange(std::string("GET / HTTP/2.0\r\nHost: ") + kHost + "\r\n\r\n");
  EXPECT_EQ(response.status, 505) << response.head;
  EXPECT_EQ(response.body, "505 HTTP Version Not Supported: HTTP version not supported\n");
  expect_nothing_forwarded(epoch, "HTTP/2.0");
}

TEST_F(HostileSmugglingTest, TwoHostHeadersAre400EvenWhenEqual) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  for (const std::string& second : {std::string("other.example.com"), std::string(kHost)}) {
    const uint64_t epoch = begin_case();
    const RawResponse response = exchange(request("GET", "/", "Host: " + second + "\r\n"));
    EXPECT_EQ(response.status, 400) << second << ":\n" << response.head;
    expect_nothing_forwarded(epoch, "second Host " + second);
  }
}

// An absolute-form target names the host the request is for (RFC 9112
// §3.2.2): it is routed by that authority and forwarded in origin-form with
// Host set to it, whatever Host the client sent.
TEST_F(HostileSmugglingTest, AbsoluteFormIsRoutedByItsAuthorityAndForwardedInOriginForm) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  uint64_t epoch = begin_case();
  const std::string routed = std::string("GET http://") + kHost + "/abs?x=1 HTTP/1.1\r\nHost: other.example.com\r\n\r\n";
  const RawResponse response = exchange(routed);
  EXPECT_EQ(response.status, 200) << response.head;
  expect_forwarded_exactly(epoch, routed, 1, "absolute-form naming the route");
  const std::vector<FramedRequest> seen = backend_.requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().target, "/abs?x=1");
  EXPECT_EQ(seen.back().header("host"), kHost);

  epoch = begin_case();
  const std::string elsewhere =
      std::string("GET http://elsewhere.example.com/ HTTP/1.1\r\nHost: ") + kHost + "\r\n\r\n";
  const RawResponse unknown = exchange(elsewhere);
  EXPECT_EQ(unknown.status, 404) << unknown.head;
  EXPECT_EQ(unknown.header("X-Cf-Routererror"), "unknown_route");
  expect_nothing_forwarded(epoch, "absolute-form naming another host");

  epoch = begin_case();
  const RawResponse userinfo = exchange(std::string("GET http://user@") + kHost + "/ HTTP/1.1\r\nHost: " + kHost +
                                        "\r\n\r\n");
  EXPECT_EQ(userinfo.status, 400) << userinfo.head;
  expect_nothing_forwarded(epoch, "absolute-form with userinfo");
}

// A folded request header (obs-fold) once went out as a view into the
// router's stack. Now the request is refused: the client gets the router's
// own 400, byte for byte, and the backend nothing.
TEST_F(HostileSmugglingTest, ObsFoldedRequestIs400AndNothingLeaks) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  for (const std::string& fold : {std::string("X-Folded: first\r\n second\r\n"), std::string("X-A: a\r\n\t\r\n"),
                                  std::string("X-Folded: first\r\n" + std::string(4000, ' ') + "second\r\n")}) {
    const uint64_t epoch = begin_case();
    RawSocket socket;
    const RawResponse response = exchange(request("GET", "/folded", fold), socket);
    EXPECT_EQ(response.status, 400) << response.head;
    EXPECT_EQ(response.body, "400 Bad Request: Malformed request\n");
    EXPECT_TRUE(socket.wait_closed(seconds(5)));
    EXPECT_TRUE(socket.received().empty()) << "bytes after the 400: " << socket.received().size();
    expect_nothing_forwarded(epoch, "obs-fold");
  }
}

// A backend's folded response header reaches the client as one line whose
// fold became spaces (RFC 9112 §5.2), and nothing else changes.
TEST_F(HostileSmugglingTest, FoldedResponseHeaderReachesTheClientJoinedWithSpaces) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  backend_.set_responder([](const FramedRequest& r, uint64_t) -> std::optional<RawReply> {
    if (r.target != "/fold") return std::nullopt;
    return RawReply{"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nX-After: after\r\n"
                    "Content-Length: 2\r\n\r\nok", false};
  });
  const uint64_t epoch = begin_case();
  const std::string sent = request("GET", "/fold", "");
  RawSocket socket;
  const RawResponse response = exchange(sent, socket);
  ASSERT_EQ(response.status, 200) << response.head;
  std::string folded = response.header("X-Folded");
  folded.erase(std::unique(folded.begin(), folded.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
               folded.end());
  EXPECT_EQ(folded, "first second third") << response.head;
  EXPECT_EQ(response.header("X-After"), "after");
  EXPECT_EQ(response.body, "ok");
  EXPECT_TRUE(std::all_of(response.head.begin(), response.head.end(), [](char c) {
    return c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7f);
  })) << "non-text bytes in the head:\n" << response.head;
  EXPECT_EQ(response.head.find("\r\n "), std::string::npos) << "a continuation line reached the client";
  EXPECT_EQ(response.head.find("\r\n\t"), std::string::npos) << "a continuation line reached the client";
  expect_forwarded_exactly(epoch, sent, 1, "folded response");
}

// A response framed both ways is relayed chunked, without the
// Content-Length; chunked twice is refused with 502.
TEST_F(HostileSmugglingTest, SmugglingShapedResponsesAreRelayedOneWayOrRefused) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  backend_.set_responder([](const FramedRequest& r, uint64_t) -> std::optional<RawReply> {
    if (r.target == "/te-cl")
      return RawReply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n", false};
    if (r.target == "/te-twice")
      return RawReply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false};
    if (r.target == "/http10-te")
      return RawReply{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true};
    if (r.target == "/http10-length") return RawReply{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true};
    return std::nullopt;
  });
  RawSocket socket;
  const RawResponse both = exchange(request("GET", "/te-cl", ""), socket);
  EXPECT_EQ(both.status, 200) << both.head;
  EXPECT_EQ(both.header("Transfer-Encoding"), "chunked") << both.head;
  EXPECT_EQ(both.header("Content-Length"), "") << both.head;
  EXPECT_EQ(both.body, "hello");
  // The connection is still in step: the next response is the next request's.
  ASSERT_TRUE(socket.send(request("GET", "/next", "")));
  const RawResponse next = socket.read_response(seconds(10));
  EXPECT_EQ(next.status, 200) << next.head;
  EXPECT_EQ(next.body.rfind("seen ", 0), 0u) << next.body;

  const RawResponse twice = exchange(request("GET", "/te-twice", ""));
  EXPECT_EQ(twice.status, 502) << twice.head;
  EXPECT_EQ(twice.header("X-Cf-Routererror"), "endpoint_failure (malformed response: bad_transfer_encoding)");

  // An HTTP/1.0 response framed by Transfer-Encoding is read two ways (a 1.0
  // reader takes the body to the close): 502. It used to go to the client as
  // "HTTP/1.0 200" + chunked on a connection kept open.
  const RawResponse http10_te = exchange(request("GET", "/http10-te", ""));
  EXPECT_EQ(http10_te.status, 502) << http10_te.head;
  EXPECT_EQ(http10_te.header("X-Cf-Routererror"), "endpoint_failure (malformed response: te_in_http10)");
  // Any other 1.0 response goes out under the router's own HTTP/1.1.
  RawSocket kept;
  const RawResponse http10 = exchange(request("GET", "/http10-length", ""), kept);
  EXPECT_EQ(http10.head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << http10.head;
  EXPECT_EQ(http10.body, "ok");
  ASSERT_TRUE(kept.send(request("GET", "/after-http10", "")));
  EXPECT_EQ(kept.read_response(seconds(10)).status, 200) << "the client connection is kept, as its head says";
}

}  // namespace
}  // namespace sy::test
