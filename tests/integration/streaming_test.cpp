// Bodies stream through the router with bounded memory (1 GiB each way), a
// backend that answers before reading the whole body is heard at once, and
// WebSocket upgrades are relayed.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/ws_client.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kGiB = 1024ULL * 1024 * 1024;
constexpr long kMaxRssGrowthKib = 16 * 1024;

// A sparse file of `size` bytes (zeros; costs no disk).
std::string sparse_file(const TempDir& dir, const std::string& name, uint64_t size) {
  const std::string path = dir.file(name);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {};
  const bool ok = ::ftruncate(fd, static_cast<off_t>(size)) == 0;
  ::close(fd);
  return ok ? path : std::string();
}

class StreamingTest : public RouterTest {
 protected:
  // Runs `request` while sampling the router's RSS; returns the response and
  // raises peak_rss_kib_.
  HttpResponse run_sampled(const HttpRequest& request) {
    HttpCall call;
    if (!call.start(request)) return call.wait();
    while (call.running()) {
      peak_rss_kib_ = std::max(peak_rss_kib_, rss_kib(router_.process().pid()).value_or(0));
      sleep_for(milliseconds(20));
    }
    peak_rss_kib_ = std::max(peak_rss_kib_, rss_kib(router_.process().pid()).value_or(0));
    return call.wait();
  }

  HttpRequest request_for(const std::string& path) const {
    HttpRequest request;
    request.url = router_.url(path);
    request.host = "stream.example.com";
    request.timeout = seconds(120);
    return request;
  }

  long peak_rss_kib_ = 0;
};

TEST_F(StreamingTest, GibibyteDownloadAndUploadWithBoundedMemory) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("stream");
  ASSERT_NO_FATAL_FAILURE(route("stream.example.com", echo.port()));
  // Warm up the connection pools and buffers, then take the baseline.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(router_.get("stream.example.com", "/download?bytes=1048576").status, 200);
  const auto baseline = rss_kib(router_.process().pid());
  ASSERT_TRUE(baseline.has_value());

  HttpRequest download = request_for("/download?bytes=" + std::to_string(kGiB));
  download.discard_body = true;
  const HttpResponse down = run_sampled(download);
  EXPECT_EQ(down.exit_code, 0) << down.describe();
  EXPECT_EQ(down.status, 200) << down.describe();
  EXPECT_EQ(down.size_download, kGiB);

  HttpRequest chunked = request_for("/download?chunked=1&bytes=" + std::to_string(kGiB / 4));
  chunked.discard_body = true;
  const HttpResponse down_chunked = run_sampled(chunked);
  EXPECT_EQ(down_chunked.exit_code, 0) << down_chunked.describe();
  EXPECT_EQ(down_chunked.size_download, kGiB / 4);

  const std::string big = sparse_file(dir_, "upload.bin", kGiB);
  ASSERT_FALSE(big.empty());
  HttpRequest upload = request_for("/upload");
  upload.upload_file = big;
  const HttpResponse up = run_sampled(upload);
  EXPECT_EQ(up.exit_code, 0) << up.describe();
  EXPECT_EQ(up.status, 200) << up.describe();
  EXPECT_EQ(up.body, "received=" + std::to_string(kGiB) + "\n");

  const std::string quarter = sparse_file(dir_, "quarter.bin", kGiB / 4);
  ASSERT_FALSE(quarter.empty());
  HttpRequest upload_chunked = request_for("/upload/chunked");
  upload_chunked.upload_file = quarter;
  upload_chunked.headers = {"Transfer-Encoding: chunked"};
  const HttpResponse up_chunked = run_sampled(upload_chunked);
  EXPECT_EQ(up_chunked.status, 200) << up_chunked.describe();
  EXPECT_EQ(up_chunked.body, "received=" + std::to_string(kGiB / 4) + "\n");

  std::printf("router RSS: baseline %ld KiB, peak %ld KiB\n", *baseline, peak_rss_kib_);
  EXPECT_GT(peak_rss_kib_, 0);
  EXPECT_LE(peak_rss_kib_ - *baseline, kMaxRssGrowthKib)
      << "router RSS grew from " << *baseline << " KiB to " << peak_rss_kib_ << " KiB";
  EXPECT_TRUE(router_.process().running());
}

TEST_F(StreamingTest, SmallBodiesArriveIntact) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("stream");
  ASSERT_NO_FATAL_FAILURE(route("stream.example.com", echo.port()));
  const HttpResponse direct = http_get(echo.port(), "stream.example.com", "/download?bytes=100000");
  const HttpResponse routed = router_.get("stream.example.com", "/download?bytes=100000");
  ASSERT_EQ(routed.status, 200) << routed.describe();
  EXPECT_EQ(routed.body.size(), 100000u);
  EXPECT_TRUE(routed.body == direct.body) << "body changed on the way";

  HttpRequest post = request_for("/upload/small");
  post.data = std::string(300000, 'x');
  const HttpResponse posted = http(post);
  EXPECT_EQ(posted.status, 200) << posted.describe();
  EXPECT_EQ(posted.body, "received=300000\n");
}

// /reject answers 413 right after the head and never reads the body. The
// router must relay that answer while the upload is still going (before,
// the stalled upload waited for endpoint_timeout and the client got a 504),
// then close the connection without resetting it under the client.
TEST_F(StreamingTest, EarlyResponseDuringUploadIsRelayedAtOnce) {
  RouterConfig config;
  config.endpoint_timeout = "10s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("early");
  ASSERT_NO_FATAL_FAILURE(route("early.example.com", echo.port()));

  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(socket.send("POST /reject HTTP/1.1\r\nHost: early.example.com\r\nContent-Length: 67108864\r\n\r\n"));
  ASSERT_TRUE(socket.send(std::string(256 * 1024, 'b'))) << "router stopped reading the body before answering";
  const RawResponse response = socket.read_response(seconds(5));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_EQ(response.status, 413) << "no early response within 5 s (endpoint_timeout is 10 s): " << response.head;
  EXPECT_TRUE(response.complete);
  EXPECT_EQ(response.body, "rejected\n");
  EXPECT_EQ(response.header("Connection"), "close") << response.head;
  EXPECT_LT(elapsed.count(), 5000);
  // The rest of the body is never read: the router closes (after lingering
  // up to 2 s for the client to stop sending).
  EXPECT_TRUE(socket.wait_closed(seconds(5)));

  // curl stops sending when it sees the 413 and reports it.
  const std::string big = sparse_file(dir_, "big.bin", 256ULL * 1024 * 1024);
  ASSERT_FALSE(big.empty());
  HttpRequest upload = request_for("/reject");
  upload.host = "early.example.com";
  upload.upload_file = big;
  upload.timeout = seconds(8);
  const HttpResponse rejected = http(upload);
  EXPECT_EQ(rejected.status, 413) << rejected.describe();
  EXPECT_EQ(rejected.body, "rejected\n") << rejected.describe();

  // The router goes on serving, on fresh and pooled backend connections.
  const HttpResponse after = router_.get("early.example.com", "/");
  EXPECT_EQ(after.status, 200) << after.describe();
}

TEST_F(StreamingTest, WebSocketEchoThroughRouter) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("ws");
  ASSERT_NO_FATAL_FAILURE(route("ws.example.com", echo.port()));
  std::string binary = std::string("\x00\x01\x02\xff\xfe", 5);
  for (int i = 0; i < 1000; ++i) binary += static_cast<char>(i % 256);
  const std::vector<WsMessage> messages = {
      {false, "hello"}, {true, binary}, {false, std::string(200000, 'w')}, {false, "bye"}};
  const WsResult result = websocket_exchange(router_.port(), "ws.example.com", "/ws", messages, seconds(15));
  EXPECT_TRUE(result.upgraded) << result.error << " status=" << result.handshake_status;
  EXPECT_EQ(result.handshake_status, 101);
  ASSERT_EQ(result.received.size(), messages.size()) << result.error;
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(result.received[i].binary, messages[i].binary) << "message " << i;
    EXPECT_TRUE(result.received[i].payload == messages[i].payload) << "message " << i;
  }
  EXPECT_TRUE(result.closed_cleanly) << result.error;
}

}  // namespace
}  // namespace sy::test
