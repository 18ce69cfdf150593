// Hostile input, part 3 (the pentest's item 3, proxy side): what an outsider
// can make the router spend. Many headers with Connection tokens, heads that
// never end, bodies that trickle, more connections than allowed, and NATS
// publishers growing /metrics or stalling the control thread. Bounds are
// generous; each test first waits for a positive signal.
#include <algorithm>
#include <thread>

#include "tests/integration/hostile_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class HostileLimitsTest : public HostileTest {
 protected:
  double metric(const std::string& name) { return metric_sum(router_.metrics(), name); }

  long rss() { return rss_kib(router_.process().pid()).value_or(0); }

  // Until the router holds no client connection (curl's from route() included).
  bool no_client_connections() {
    return wait_until([&] { return metric("active_client_connections") == 0; }, seconds(5), milliseconds(20));
  }
};

std::string numbered_headers(size_t count, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < from + count; ++i) out += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  return out;
}

// ~10k headers and a Connection header naming one cost O(n²) in the
// rewrite. Now a head stops at 256 fields (431), and one within that with
// 16 Connection tokens is forwarded without the named headers; meanwhile
// the router keeps answering others.
TEST_F(HostileLimitsTest, ManyHeadersWithConnectionTokensStayCheap) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const std::string huge = request("GET", "/many", "Connection: X-H5000\r\n" + numbered_headers(10000));
  std::atomic<int> answered{0}, too_large{0};
  std::thread flood([&] {
    for (int i = 0; i < 200; ++i) {
      const int status = probe(huge, seconds(30));
      answered += status != 0;
      too_large += status == 431;
    }
  });
  int probes = 0;
  while (answered < 200 && probes < 2000) {  // a normal request and /health, answered meanwhile
    const auto start = Clock::now();
    EXPECT_EQ(exchange(request("GET", "/probe", "")).status, 200);
    EXPECT_EQ(router_.health_status(), 200);
    EXPECT_LT(Clock::now() - start, seconds(5)) << "the router stalled under the flood";
    ++probes;
  }
  flood.join();
  EXPECT_EQ(too_large, 200) << answered << " answered";
  EXPECT_GT(probes, 0);

  std::string tokens;
  for (int i = 0; i < 16; ++i) tokens += (i ? ", X-H" : "X-H") + std::to_string(i * 10);
  const std::string wide = request("GET", "/wide", "Connection: " + tokens + "\r\n" + numbered_headers(250));
  const uint64_t epoch = begin_case();
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const auto start = Clock::now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(socket.send(wide));
    ASSERT_EQ(socket.read_response(seconds(10)).status, 200) << "request " << i;
  }
  EXPECT_LT(Clock::now() - start, seconds(20));
  ASSERT_TRUE(backend_.settle());
  const std::vector<BackendEntry> seen = backend_.entries_since(epoch);
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(forwarding_difference(frame_stream(wide).requests.at(0), seen.back().request), "");
  EXPECT_EQ(seen.back().request.count("x-h10"), 0u);
  EXPECT_EQ(seen.back().request.header("x-h11"), "v11");
}

// Unterminated 1 MiB heads: large heads draw on the worker's 32 MiB budget
// of mapped memory; beyond it they are refused with 431, and the memory goes
// back to the kernel when they close.
TEST_F(HostileLimitsTest, UnterminatedHugeHeadsStayWithinTheBudget) {
  RouterConfig config;
  config.workers = 1;
  config.extra_yaml = "max_request_header_bytes: 1048576\nread_header_timeout: 60s\n";
  ASSERT_NO_FATAL_FAILURE(start_with_backend(config));
  const long baseline = rss();
  const std::string head = request("GET", "/", "X-Big: " + std::string(1024 * 1024 - 1024, 'a'));
  const std::string unterminated = head.substr(0, head.size() - 4);  // no blank line, not even the CRLF
  std::vector<std::unique_ptr<RawSocket>> sockets;
  long peak = baseline;
  for (int i = 0; i < 100; ++i) {
    sockets.push_back(std::make_unique<RawSocket>());
    ASSERT_TRUE(sockets.back()->connect(router_.port()));
    sockets.back()->send_while_open(unterminated, seconds(5));
    peak = std::max(peak, rss());
  }
  // Until the router has read every byte of every head it still holds.
  ASSERT_TRUE(wait_until(
      [&] {
        peak = std::max(peak, rss());
        return std::all_of(sockets.begin(), sockets.end(), [](const auto& s) { return s->unread_by_peer().value_or(0) == 0; });
      },
      seconds(30), milliseconds(20)));
  peak = std::max(peak, rss());
  int refused = 0;
  for (const auto& s : sockets) {
    if (s->unread_by_peer()) continue;  // held: still open at the router
    s->wait_closed(seconds(5));
    refused += s->received().rfind("HTTP/1.1 431 ", 0) == 0;
  }
  EXPECT_GT(refused, 0) << "no head was refused: the budget did not bind";
  EXPECT_LT(refused, 100) << "no head was held";
  const long budget_kib = 32 * 1024, blocks_kib = 100 * 80, slack_kib = 16 * 1024;
  EXPECT_LT(peak - baseline, budget_kib + blocks_kib + slack_kib) << "RSS grew from " << baseline << " to " << peak;
  // The router still serves while they hang.
  EXPECT_EQ(exchange(request("GET", "/meanwhile", "")).status, 200);
  sockets.clear();
  EXPECT_TRUE(wait_until([&] { return rss() - baseline < blocks_kib + slack_kib; }, seconds(10), milliseconds(50)))
      << "RSS stayed at " << rss() << " KiB after the heads closed (baseline " << baseline << ")";
}

// A body trickled a byte every 200 ms must be uploaded within
// endpoint_timeout: 504 then, not a fresh progress timeout forever.
TEST_F(HostileLimitsTest, SlowBodyIs504AtEndpointTimeout) {
  RouterConfig config;
  config.endpoint_timeout = "2s";
  ASSERT_NO_FATAL_FAILURE(start_with_backend(config));
  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const auto start = Clock::now();
  ASSERT_TRUE(socket.send(request("POST", "/slow-body", "Content-Length: 100\r\n")));
  RawResponse response;
  for (int i = 0; i < 100 && response.status == 0 && !socket.peer_closed(); ++i) {
    socket.send("x");
    response = socket.read_response(milliseconds(200));
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(response.status, 504) << response.head;
  EXPECT_GE(elapsed, milliseconds(1800));
  EXPECT_LE(elapsed, milliseconds(4000)) << "the upload was not bounded by endpoint_timeout (2s)";
}

// max_client_connections holds across workers: with 3 allowed and 2
// workers, the 4th connection gets one 503 and is closed, whichever worker
// the kernel hands it to; a freed slot is usable again.
TEST_F(HostileLimitsTest, FourthConnectionOverMaxClientConnectionsIs503) {
  RouterConfig config;
  config.workers = 2;
  config.extra_yaml = "max_client_connections: 3\n";
  ASSERT_NO_FATAL_FAILURE(start_with_backend(config));
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(no_client_connections()) << "round " << round;
    std::vector<std::unique_ptr<RawSocket>> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(std::make_unique<RawSocket>());
      ASSERT_TRUE(held.back()->connect(router_.port()));
      ASSERT_TRUE(held.back()->send(request("GET", "/held", "")));
      ASSERT_EQ(held.back()->read_response(seconds(10)).status, 200) << "round " << round << ", connection " << i + 1;
    }
    RawSocket fourth;
    ASSERT_TRUE(fourth.connect(router_.port()));
    const RawResponse refused = fourth.read_response(seconds(10));
    EXPECT_EQ(refused.status, 503) << "round " << round << ":\n" << refused.head;
    EXPECT_EQ(refused.header("X-Cf-Routererror"), "client_connection_limit");
    EXPECT_TRUE(fourth.wait_closed(seconds(5)));
    held.erase(held.begin());
    EXPECT_TRUE(wait_until([&] { return probe(request("GET", "/freed", "")) == 200; }, seconds(5)))
        << "a freed slot was not usable";
  }
  EXPECT_GE(metric("rejected_connections_total"), 3);
}

}  // namespace
}  // namespace sy::test
