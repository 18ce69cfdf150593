// Who closes a connection that ends after its request: an HTTP/1.1 client
// that sent Connection: close and got a framed answer closes first and the
// router's reset leaves no TIME_WAIT on either side, a client that does not close
// is closed after a bounded wait, and HTTP/1.0 and pipelined bytes keep
// their answers whole. States come from the kernel's /proc/net/tcp.
#include <cstdio>
#include <fstream>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_socket.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The TCP state of the IPv4 socket local_port -> remote_port on 127.0.0.1,
// or -1 when there is none.
int tcp_state(uint16_t local_port, uint16_t remote_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    unsigned local_ip, lport, remote_ip, rport, state;
    if (std::sscanf(line.c_str(), " %*d: %8X:%4X %8X:%4X %2X", &local_ip, &lport, &remote_ip, &rport, &state) != 5)
      continue;
    if (lport == local_port && rport == remote_port) return static_cast<int>(state);
  }
  return -1;
}

class ClosePathTest : public RouterTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_all());
    EchoBackend& echo = start_echo("close");
    ASSERT_NO_FATAL_FAILURE(route("close.example.com", echo.port()));
  }
};

TEST_F(ClosePathTest, ClientThatAskedToCloseClosesFirstAndNoSideKeepsATimeWait) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const uint16_t client_port = socket.local_port();
  ASSERT_TRUE(socket.send("GET /a HTTP/1.1\r\nHost: close.example.com\r\nConnection: close\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("connection"), "close");
  // The router leaves the closing to the client, which knows the answer is whole.
  EXPECT_FALSE(socket.wait_closed(milliseconds(300))) << "the router closed before the client";
  socket.close();
  // The client's FIN came after it had the whole answer: the router answers
  // it with a reset, so neither side holds the port pair in TIME_WAIT.
  ASSERT_TRUE(wait_until([&] { return tcp_state(router_.port(), client_port) == -1; }, seconds(5)))
      << "the router's side of the connection did not go away (state " << tcp_state(router_.port(), client_port) << ")";
  EXPECT_TRUE(wait_until([&] { return tcp_state(client_port, router_.port()) == -1; }, seconds(5)))
      << "the client's side is left in state " << tcp_state(client_port, router_.port());
}

// A client that half-closes right after its request still reads the whole
// answer, however late it reads.
TEST_F(ClosePathTest, HalfClosedClientStillReadsItsAnswer) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  ASSERT_TRUE(socket.send("GET /h HTTP/1.1\r\nHost: close.example.com\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(socket.shutdown_write());
  // Read only once the router has finished with the connection.
  const uint16_t client_port = socket.local_port();
  ASSERT_TRUE(wait_until([&] { return tcp_state(router_.port(), client_port) == -1; }, seconds(5)));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(parse_echo(response.body).target, "/h");
}

TEST_F(ClosePathTest, ClientThatNeverClosesIsClosedAfterABoundedWait) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(socket.send("GET /b HTTP/1.1\r\nHost: close.example.com\r\nConnection: close\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  ASSERT_TRUE(socket.wait_closed(seconds(10))) << "the router held the connection open";
  const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_GE(waited.count(), 800) << "closed without waiting for the client's FIN";
}

TEST_F(ClosePathTest, Http10ClientIsClosedByTheRouterAtOnce) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const uint16_t client_port = socket.local_port();
  ASSERT_TRUE(socket.send("GET /c HTTP/1.0\r\nHost: close.example.com\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(response.status, 200);
  // An HTTP/1.0 client may read to the end of the connection: the router
  // closes (its side goes to TIME_WAIT) without waiting for the client.
  ASSERT_TRUE(socket.wait_closed(seconds(5)));
  EXPECT_NE(tcp_state(router_.port(), client_port), -1) << "the router's side should hold the TIME_WAIT";
}

TEST_F(ClosePathTest, BytesAfterAClosingRequestDoNotDestroyItsAnswer) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  ASSERT_TRUE(socket.send("GET /d HTTP/1.1\r\nHost: close.example.com\r\nConnection: close\r\n\r\n"
                          "GET /e HTTP/1.1\r\nHost: close.example.com\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(parse_echo(response.body).target, "/d");
  ASSERT_TRUE(socket.wait_closed(seconds(10)));
  EXPECT_EQ(socket.received().find("HTTP/1.1", 1), std::string::npos) << "the request after the close was served";
}

}  // namespace
}  // namespace sy::test
