// Who closes a connection that ends after its request: the router, right
// after the answer (RFC 9112 §9.6), for HTTP/1.1 and HTTP/1.0 alike; a
// half-closed client and pipelined bytes keep their answers whole. States
// come from the kernel's /proc/net/tcp.
#include <cstdio>
#include <fstream>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_socket.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kTimeWait = 0x06;

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

// RFC 9112 §9.6: the server initiates the closure after answering a
// request with Connection: close, so a client that reads to EOF (nc, simple
// probes) has its answer at once; the TIME_WAIT is the router's, as
// HAProxy's and nginx's.
TEST_F(ClosePathTest, RouterClosesFirstAfterAnsweringConnectionClose) {
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const uint16_t client_port = socket.local_port();
  ASSERT_TRUE(socket.send("GET /a HTTP/1.1\r\nHost: close.example.com\r\nConnection: close\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("connection"), "close");
  ASSERT_TRUE(socket.wait_closed(seconds(5))) << "the router did not close after Connection: close";
  socket.close();
  EXPECT_TRUE(wait_until([&] { return tcp_state(router_.port(), client_port) == kTimeWait; }, seconds(5)))
      << "state of the router's side: " << tcp_state(router_.port(), client_port);
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
  ASSERT_TRUE(wait_until([&] {
    const int state = tcp_state(router_.port(), client_port);
    return state == -1 || state == kTimeWait;
  }, seconds(5)));
  const RawResponse response = socket.read_response(seconds(5));
  ASSERT_TRUE(response.complete) << socket.received();
  EXPECT_EQ(parse_echo(response.body).target, "/h");
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
