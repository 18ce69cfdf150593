// Hostile input, part 4 (the pentest's item 3b and the status listener):
// at the file-descriptor limit the accept loops back off instead of
// spinning a core and flooding the log; the status listener reads heads
// only, holds at most 64 connections, and answers HEAD without a body.
#include <algorithm>

#include "tests/integration/hostile_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    for (size_t k = 0; k < 4; ++k) out += k <= in.size() - i ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

size_t count_lines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class HostileListenerTest : public HostileTest {
 protected:
  std::unique_ptr<RawSocket> connect_to(uint16_t port) {
    auto socket = std::make_unique<RawSocket>();
    EXPECT_TRUE(socket->connect(port));
    return socket;
  }
};

// With 64 descriptors the router runs out after a few dozen connections.
// Once it says so (accept-failed, for the proxy and the status listener),
// it must idle: under 30% of a core over 2 s, a handful of log lines. When
// the connections close it serves again.
TEST_F(HostileListenerTest, AcceptAtTheDescriptorLimitBacksOffQuietly) {
  RouterConfig config;
  config.workers = 1;
  config.max_open_files = 64;
  config.extra_yaml = "max_client_connections: 10000\n";
  ASSERT_NO_FATAL_FAILURE(start_with_backend(config));
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 80; ++i) held.push_back(connect_to(router_.port()));
  ASSERT_TRUE(wait_until([&] { return router_.log().find("listener=proxy") != std::string::npos; }, seconds(10)))
      << "the proxy's accept never failed";
  for (int i = 0; i < 4; ++i) held.push_back(connect_to(router_.status_port()));
  ASSERT_TRUE(wait_until([&] { return router_.log().find("listener=status") != std::string::npos; }, seconds(10)))
      << "the status listener's accept never failed";

  // A measurement window, after the positive signal above.
  const pid_t pid = router_.process().pid();
  const auto cpu_before = cpu_time(pid);
  const auto wall_before = Clock::now();
  sleep_for(seconds(2));
  const auto cpu_after = cpu_time(pid);
  const auto wall = std::chrono::duration_cast<milliseconds>(Clock::now() - wall_before);
  ASSERT_TRUE(cpu_before && cpu_after);
  EXPECT_LT((*cpu_after - *cpu_before).count(), wall.count() * 30 / 100)
      << "the router burnt " << (*cpu_after - *cpu_before).count() << " ms of CPU in " << wall.count() << " ms";
  EXPECT_LE(count_lines(router_.log(), "accept-failed"), 4u) << tail(router_.log());
  EXPECT_TRUE(router_.process().running());

  held.clear();
  EXPECT_TRUE(wait_until([&] { return probe(request("GET", "/again", "")) == 200; }, seconds(10)))
      << "the proxy did not serve again";
  EXPECT_TRUE(wait_until([&] { return router_.health_status() == 200; }, seconds(10)))
      << "the status listener did not serve again";
}

// HEAD carries the GET's Content-Length and no body (RFC 9110 §9.3.2).
TEST_F(HostileListenerTest, HeadOnTheStatusListenerHasNoBody) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  const std::string auth = base64(router_.config().status_user + ":" + router_.config().status_pass);
  for (const std::string target : {"/routes", "/health", "/metrics"}) {
    RawSocket socket;
    ASSERT_TRUE(socket.connect(router_.status_port()));
    ASSERT_TRUE(socket.send("HEAD " + target + " HTTP/1.1\r\nHost: status\r\nAuthorization: Basic " + auth + "\r\n\r\n"));
    EXPECT_TRUE(socket.wait_closed(seconds(5))) << target;
    const std::string& received = socket.received();
    EXPECT_EQ(received.rfind("HTTP/1.1 200 ", 0), 0u) << target << ":\n" << received;
    EXPECT_EQ(received.find("\r\n\r\n"), received.size() - 4) << target << ": bytes after the head:\n" << received;
    EXPECT_NE(received.find("Content-Length: "), std::string::npos) << target << ":\n" << received;
  }
}

// 300 connections each starting a 1 MiB POST: heads only are read (8 KiB),
// at most 64 at once, so memory stays flat, every connection is closed
// soon, and /health still answers.
TEST_F(HostileListenerTest, StatusListenerReadsHeadsOnly) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  const long baseline = rss_kib(router_.process().pid()).value_or(0);
  long peak = baseline;
  std::vector<std::unique_ptr<RawSocket>> posts;
  const std::string post =
      "POST /health HTTP/1.1\r\nHost: status\r\nContent-Length: 1048576\r\n\r\n" + std::string(64 * 1024, 'p');
  for (int i = 0; i < 300; ++i) {
    posts.push_back(connect_to(router_.status_port()));
    posts.back()->send_while_open(post, seconds(2));
    peak = std::max(peak, rss_kib(router_.process().pid()).value_or(0));
  }
  int answered = 0;
  for (const auto& socket : posts) {
    EXPECT_TRUE(socket->wait_closed(seconds(15))) << "a status connection stayed open";
    answered += socket->received().rfind("HTTP/1.1 405 ", 0) == 0;
    peak = std::max(peak, rss_kib(router_.process().pid()).value_or(0));
  }
  EXPECT_GT(answered, 0);
  EXPECT_LT(peak - baseline, 16 * 1024) << "RSS grew from " << baseline << " to " << peak << " KiB";
  EXPECT_EQ(router_.health_status(), 200);
}

// At most 64 connections are held, and idle ones cannot keep /health out:
// at the cap the oldest connection still waiting for its head is closed to
// make room (refusing the newest let 64 idle connections take the node out
// of its load balancer for as long as they were renewed).
TEST_F(HostileListenerTest, IdleStatusConnectionsCannotKeepHealthOut) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 70; ++i) idle.push_back(connect_to(router_.status_port()));
  auto closed = [&idle] {
    std::vector<size_t> out;
    for (size_t i = 0; i < idle.size(); ++i)
      if (idle[i]->peer_closed() || idle[i]->wait_closed(milliseconds(0))) out.push_back(i);
    return out;
  };
  ASSERT_TRUE(wait_until([&] { return closed().size() >= 6; }, seconds(5))) << closed().size() << " of 70 closed";
  EXPECT_EQ(closed(), (std::vector<size_t>{0, 1, 2, 3, 4, 5})) << "not the oldest idle connections were closed";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(router_.health_status(), 200) << "64 idle connections kept /health out";
  EXPECT_LE(closed().size(), 9u) << "more idle connections closed than /health needed room for";
  for (const auto& socket : idle) EXPECT_TRUE(socket->received().empty());
}

}  // namespace
}  // namespace sy::test
