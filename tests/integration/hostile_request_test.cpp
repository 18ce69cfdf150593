// Hostile input, part 2 (the pentest's item 4): malformed chunks, bare LF,
// leading empty lines, bad targets, Connection naming Host or framing
// headers, and backends that answer with a status below 100 or an
// unrequested 101. Exact statuses, and what the raw backend saw.
#include "tests/integration/hostile_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class HostileRequestTest : public HostileTest {
 protected:
  // No complete request reached the backend in this epoch (a head whose
  // body the router then cut off may have).
  void expect_no_complete_request(uint64_t epoch, const std::string& what) {
    ASSERT_TRUE(backend_.settle()) << what;
    for (const BackendEntry& e : backend_.entries_since(epoch))
      EXPECT_FALSE(e.complete) << what << ": the backend got " << e.request.describe();
  }
};

// A chunked body off the grammar is answered 400 (it used to be a bare
// close), whether the bad chunk comes first or after a good one.
TEST_F(HostileRequestTest, MalformedChunkIs400) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const std::string te = "Transfer-Encoding: chunked\r\n";
  for (const std::string& body : {std::string("zz\r\nhello\r\n0\r\n\r\n"), std::string("5\r\nhello\r\nzz\r\n\r\n"),
                                  std::string("5\r\nhelloXX0\r\n\r\n"), std::string("5\nhello\n0\n\n"),
                                  std::string("-1\r\nhello\r\n0\r\n\r\n"),
                                  std::string("fffffffffffffffffff\r\nhello\r\n0\r\n\r\n")}) {
    const uint64_t epoch = begin_case();
    RawSocket socket;
    const RawResponse response = exchange(request("POST", "/chunks", te, body), socket);
    EXPECT_EQ(response.status, 400) << body << ":\n" << response.head;
    EXPECT_EQ(response.header("X-Cf-Routererror"), "bad_request") << body;
    EXPECT_TRUE(socket.wait_closed(seconds(5))) << body;
    expect_no_complete_request(epoch, body);
  }
}

// A line ending in LF alone is refused at once: the request used to hang
// until read_header_timeout (30 s).
TEST_F(HostileRequestTest, BareLfIs400AtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  for (const std::string& bytes :
       {std::string("GET / HTTP/1.1\n"), std::string("GET / HTTP/1.1\nHost: ") + kHost + "\n\n",
        std::string("GET / HTTP/1.1\r\nHost: ") + kHost + "\r\nX-A: b\n\r\n"}) {
    const uint64_t epoch = begin_case();
    const auto start = Clock::now();
    const RawResponse response = exchange(bytes);
    EXPECT_EQ(response.status, 400) << response.head;
    EXPECT_LT(Clock::now() - start, seconds(3)) << "bare LF was not refused at once";
    expect_nothing_forwarded(epoch, "bare LF");
  }
}

// Empty lines before a request line are ignored (RFC 9112 §2.2).
TEST_F(HostileRequestTest, LeadingEmptyLinesAreIgnored) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const uint64_t epoch = begin_case();
  const std::string bytes = "\r\n\r\n" + request("GET", "/after-crlf", "");
  const RawResponse response = exchange(bytes);
  EXPECT_EQ(response.status, 200) << response.head;
  expect_forwarded_exactly(epoch, bytes, 1, "leading CRLF");
}

TEST_F(HostileRequestTest, TargetsOutsideTheGrammarAre400) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  for (const std::string& line : {std::string("GET /a#fragment HTTP/1.1"), std::string("GET a/b HTTP/1.1"),
                                  std::string("GET /caf\xc3\xa9 HTTP/1.1"), std::string("GET /\x7f HTTP/1.1"),
                                  std::string("GET * HTTP/1.1"), std::string("GET /a b HTTP/1.1"),
                                  std::string("CONNECT ") + kHost + ":443 HTTP/1.1",
                                  std::string("GET ftp://") + kHost + "/ HTTP/1.1"}) {
    const uint64_t epoch = begin_case();
    const RawResponse response = exchange(line + "\r\nHost: " + kHost + "\r\n\r\n");
    EXPECT_EQ(response.status, 400) << line << ":\n" << response.head;
    expect_nothing_forwarded(epoch, line);
  }
}

// Headers named in Connection are dropped, but never Host or the framing
// the router writes itself: the request still arrives whole and routable.
TEST_F(HostileRequestTest, ConnectionCannotStripHostOrFraming) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  uint64_t epoch = begin_case();
  const std::string host = request("GET", "/conn-host", "Connection: Host, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n");
  EXPECT_EQ(exchange(host).status, 200);
  expect_forwarded_exactly(epoch, host, 1, "Connection: Host");
  ASSERT_FALSE(backend_.requests().empty());
  EXPECT_EQ(backend_.requests().back().header("host"), kHost);

  epoch = begin_case();
  const std::string length = request("POST", "/conn-cl", "Connection: Content-Length\r\nContent-Length: 5\r\n", "hello");
  EXPECT_EQ(exchange(length).status, 200);
  expect_forwarded_exactly(epoch, length, 1, "Connection: Content-Length");

  epoch = begin_case();
  const std::string chunked = request("POST", "/conn-te", "Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n",
                                      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(exchange(chunked).status, 200);
  expect_forwarded_exactly(epoch, chunked, 1, "Connection: Transfer-Encoding");
}

TEST_F(HostileRequestTest, TransferEncodingInHttp10Is400) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const uint64_t epoch = begin_case();
  const RawResponse response = exchange(std::string("POST / HTTP/1.0\r\nHost: ") + kHost +
                                        "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled());
  EXPECT_EQ(response.status, 400) << response.head;
  expect_nothing_forwarded(epoch, "TE in HTTP/1.0");
}

// A backend status below 100 (it once went out as "HTTP/1.1 0") and a 101
// to a request that asked for no upgrade are both 502.
TEST_F(HostileRequestTest, BackendStatusBelow100OrUnaskedSwitchIs502) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  backend_.set_responder([](const FramedRequest& r, uint64_t) -> std::optional<RawReply> {
    if (r.target == "/status-000") return RawReply{"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n", false};
    if (r.target == "/status-099") return RawReply{"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", false};
    if (r.target == "/switch")
      return RawReply{"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false};
    return std::nullopt;
  });
  for (const char* target : {"/status-000", "/status-099", "/switch"}) {
    const uint64_t epoch = begin_case();
    const std::string sent = request("GET", target, "");
    RawSocket socket;
    const RawResponse response = exchange(sent, socket);
    EXPECT_EQ(response.status, 502) << target << ":\n" << response.head;
    EXPECT_EQ(response.header("X-Cf-Routererror").rfind("endpoint_failure (malformed response: bad_status)", 0), 0u)
        << response.head;
    EXPECT_EQ(socket.received(), "") << "bytes after the 502";
    expect_forwarded_exactly(epoch, sent, 1, target);
  }
}

// A chunked backend response to an HTTP/1.0 client (RFC 9112 §6.1: a server
// MUST NOT send Transfer-Encoding to a client whose request was not
// HTTP/1.1) goes out as its data alone, without Transfer-Encoding, delimited
// by the close the 1.0 connection gets anyway: chunk extensions, sizes and
// trailers never reach the client.
TEST_F(HostileRequestTest, ChunkedResponseToHttp10ClientIsDechunked) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  backend_.set_responder([](const FramedRequest& r, uint64_t) -> std::optional<RawReply> {
    if (r.target != "/chunked") return std::nullopt;
    return RawReply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n"
                    "0\r\nX-Trailer: t\r\n\r\n",
                    false};
  });
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  ASSERT_TRUE(socket.send(std::string("GET /chunked HTTP/1.0\r\nHost: ") + kHost + "\r\n\r\n"));
  ASSERT_TRUE(socket.wait_closed(seconds(5)));
  const std::string& received = socket.received();
  const size_t body = received.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << received;
  EXPECT_EQ(received.find("Transfer-Encoding"), std::string::npos) << received;
  EXPECT_EQ(received.substr(body + 4), "hello world") << received;
  EXPECT_NE(received.find("Connection: close"), std::string::npos) << received;
}

}  // namespace
}  // namespace sy::test
