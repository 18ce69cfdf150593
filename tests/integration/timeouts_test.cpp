// Limits and timeouts of the proxy listener: endpoint_timeout (504),
// read_header_timeout and frontend_idle_timeout (connection closed),
// max_request_header_bytes (431), backends.max_conns (503 Connection Limit
// Reached), empty_pool_timeout (503 no_endpoints instead of 404) and a
// malformed request line (400, the router keeps serving).
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_socket.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

class TimeoutsTest : public RouterTest {};

TEST_F(TimeoutsTest, SlowBackendIs504AfterEndpointTimeout) {
  RouterConfig config;
  config.endpoint_timeout = "1s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("slow");
  ASSERT_NO_FATAL_FAILURE(route("slow.example.com", echo.port()));

  const auto start = Clock::now();
  const HttpResponse response = router_.get("slow.example.com", "/slow?ms=3000", seconds(10));
  const long long elapsed = ms_since(start);
  EXPECT_EQ(response.status, 504) << response.describe();
  EXPECT_EQ(response.header("X-Cf-Routererror").value_or(""), "endpoint_failure (timeout)") << response.describe();
  EXPECT_GE(elapsed, 900) << "answered before endpoint_timeout";
  EXPECT_LE(elapsed, 2500) << "504 came too late (endpoint_timeout is 1s, the backend needs 3s)";

  // A backend inside the timeout is unaffected.
  const HttpResponse fast = router_.get("slow.example.com", "/slow?ms=100");
  EXPECT_EQ(fast.status, 200) << fast.describe();
}

TEST_F(TimeoutsTest, HalfRequestHeadIsDisconnectedAfterReadHeaderTimeout) {
  RouterConfig config;
  config.extra_yaml = "read_header_timeout: 1s\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("hdr");
  ASSERT_NO_FATAL_FAILURE(route("hdr.example.com", echo.port()));

  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  const auto start = Clock::now();
  ASSERT_TRUE(socket.send("GET / HTTP/1.1\r\nHost: hdr.example.com\r\nX-Partial: "));
  const bool closed = socket.wait_closed(seconds(5));
  const long long elapsed = ms_since(start);
  ASSERT_TRUE(closed) << "connection with a stalled request head still open after 5 s";
  EXPECT_GE(elapsed, 800) << "closed before read_header_timeout";
  EXPECT_LE(elapsed, 2500) << "closed long after read_header_timeout (1s)";
  // Nothing was forwarded: no 200 came back.
  EXPECT_EQ(socket.received().find("HTTP/1.1 200"), std::string::npos) << socket.received();

}

// A request head that reaches the router in several reads (here it trickles
// in well within read_header_timeout) is served. (It used to get 400: the
// parser had consumed the request line of a partial head.)
TEST_F(TimeoutsTest, RequestHeadSplitAcrossReadsIsServed) {
  RouterConfig config;
  config.extra_yaml = "read_header_timeout: 5s\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("trickle");
  ASSERT_NO_FATAL_FAILURE(route("trickle.example.com", echo.port()));

  const std::vector<std::vector<std::string>> splits = {
      {"GET /trickle/1 HTTP/1.1\r\n", "Host: trickle.example.com\r\n\r\n"},
      {"GET /trickle/2 HTTP/1.1\r\nHost: trickle.example.com\r\n", "\r\n"},
      {"GET /trickle/3 HTTP/1.1\r\n", "Host: trickle.example.com\r\n", "X-A: b\r\n", "\r\n"},
  };
  for (size_t i = 0; i < splits.size(); ++i) {
    RawSocket socket;
    ASSERT_TRUE(socket.connect(router_.port()));
    for (const std::string& piece : splits[i]) {
      ASSERT_TRUE(socket.send(piece));
      sleep_for(milliseconds(200));  // separate reads on the router's side
    }
    const RawResponse response = socket.read_response(seconds(5));
    EXPECT_TRUE(response.complete) << "split " << i << ": no complete response (closed: " << socket.peer_closed()
                                   << "): " << socket.received();
    EXPECT_EQ(response.status, 200) << "split " << i << ":\n" << response.head;
    if (response.status == 200) {
      EXPECT_EQ(parse_echo(response.body).target, "/trickle/" + std::to_string(i + 1));
    }
  }
}

// A request head larger than one 16 KiB read reaches the backend whole
// (max_request_header_bytes is the default 1 MiB). 60 KiB: Beast, in the echo
// backend, refuses a single field value of 64 KiB.
TEST_F(TimeoutsTest, RequestHeadsLargerThanOneReadAreForwarded) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("large");
  ASSERT_NO_FATAL_FAILURE(route("large.example.com", echo.port()));
  for (const size_t size : {size_t{8} * 1024, size_t{20} * 1024, size_t{60} * 1024}) {
    HttpRequest request;
    request.url = router_.url("/large/" + std::to_string(size));
    request.host = "large.example.com";
    request.headers = {"X-Large: " + std::string(size, 'x')};
    const HttpResponse response = http(request);
    EXPECT_EQ(response.status, 200) << size << "-byte header (limit 1 MiB): " << response.describe() << " "
                                    << response.header("X-Cf-Routererror").value_or("");
    if (response.status == 200) {
      EXPECT_EQ(parse_echo(response.body).header("x-large").size(), size);
    }
  }
}

TEST_F(TimeoutsTest, IdleKeepAliveConnectionIsClosedAfterFrontendIdleTimeout) {
  RouterConfig config;
  config.extra_yaml = "frontend_idle_timeout: 1s\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("idle");
  ASSERT_NO_FATAL_FAILURE(route("idle.example.com", echo.port()));

  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  // Two requests on one connection: keep-alive works.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(socket.send("GET /keep/" + std::to_string(i) + " HTTP/1.1\r\nHost: idle.example.com\r\n\r\n"));
    const RawResponse response = socket.read_response(seconds(5));
    ASSERT_TRUE(response.complete) << "request " << i << ": " << socket.received();
    ASSERT_EQ(response.status, 200) << response.head;
    ASSERT_EQ(parse_echo(response.body).target, "/keep/" + std::to_string(i));
  }
  ASSERT_FALSE(socket.peer_closed());
  const auto idle_since = Clock::now();
  const bool closed = socket.wait_closed(seconds(5));
  const long long elapsed = ms_since(idle_since);
  ASSERT_TRUE(closed) << "idle keep-alive connection still open after 5 s";
  EXPECT_GE(elapsed, 800) << "closed before frontend_idle_timeout";
  EXPECT_LE(elapsed, 2500) << "closed long after frontend_idle_timeout (1s)";
  EXPECT_TRUE(socket.received().empty()) << "unexpected bytes on an idle connection: " << socket.received();

  // A connection that never sends anything is closed too.
  RawSocket silent;
  ASSERT_TRUE(silent.connect(router_.port()));
  const auto connected = Clock::now();
  ASSERT_TRUE(silent.wait_closed(seconds(5))) << "silent connection still open after 5 s";
  EXPECT_LE(ms_since(connected), 2500);
}

TEST_F(TimeoutsTest, OversizedRequestHeadIs431) {
  RouterConfig config;
  config.extra_yaml = "max_request_header_bytes: 4096\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("big");
  ASSERT_NO_FATAL_FAILURE(route("big.example.com", echo.port()));

  // Just under the limit is forwarded.
  HttpRequest small;
  small.url = router_.url("/small");
  small.host = "big.example.com";
  small.headers = {"X-Filler: " + std::string(2048, 'a')};
  const HttpResponse ok = http(small);
  EXPECT_EQ(ok.status, 200) << ok.describe();

  HttpRequest big = small;
  big.url = router_.url("/big");
  big.headers = {"X-Filler: " + std::string(8192, 'b')};
  const HttpResponse response = http(big);
  EXPECT_EQ(response.status, 431) << response.describe();
  EXPECT_EQ(response.header("X-Cf-Routererror").value_or(""), "max-request-size-exceeded") << response.describe();

  // The router keeps serving.
  const HttpResponse after = router_.get("big.example.com", "/after");
  EXPECT_EQ(after.status, 200) << after.describe();
}

// router_yaml() always writes `backends:\n  max_attempts: N\n` and the
// config loader rejects a repeated key, so backends.max_conns cannot go in
// extra_yaml: this starts switchyard from router_yaml() with max_conns
// added under `backends:`.
class PatchedRouter {
 public:
  explicit PatchedRouter(const TempDir& dir) : dir_(dir) {}
  ~PatchedRouter() { process_.stop(milliseconds(3000)); }

  bool start(const RouterConfig& config, NatsServer& nats, const std::string& backends_extra) {
    port_ = free_port();
    status_port_ = free_port();
    while (status_port_ == port_ && port_ != 0) status_port_ = free_port();
    if (port_ == 0 || status_port_ == 0) return false;
    std::string yaml = router_yaml(config, dir_.path(), port_, status_port_, nats.port(), nats.user(), nats.pass());
    const std::string anchor = "backends:\n  max_attempts: " + std::to_string(config.max_attempts) + "\n";
    const size_t at = yaml.find(anchor);
    if (at == std::string::npos) return false;
    yaml.insert(at + anchor.size(), backends_extra);
    config_path_ = dir_.write_file("patched.yml", yaml);
    if (config_path_.empty()) return false;
    ProcessOptions options;
    options.argv = {test_binaries().switchyard, "-c", config_path_};
    options.log_path = dir_.file("patched.log");
    return process_.start(options);
  }

  bool wait_healthy() {
    return wait_until(
               [this] {
                 if (!process_.running()) return true;
                 HttpRequest request;
                 request.url = "http://127.0.0.1:" + std::to_string(status_port_) + "/health";
                 request.timeout = milliseconds(2000);
                 return http(request).status == 200;
               },
               seconds(15), milliseconds(50)) &&
           process_.running();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  HttpResponse get(const std::string& host, const std::string& path) const { return http_get(port_, host, path); }
  Process& process() { return process_; }
  const std::string& config_path() const { return config_path_; }

 private:
  const TempDir& dir_;
  uint16_t port_ = 0;
  uint16_t status_port_ = 0;
  std::string config_path_;
  Process process_;
};

TEST_F(TimeoutsTest, MaxConnsReachedIs503ConnectionLimitReached) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  PatchedRouter router(dir_);
  ASSERT_TRUE(router.start(RouterConfig{}, *nats_, "  max_conns: 1\n")) << router.process().error();
  ASSERT_TRUE(router.wait_healthy()) << "router not healthy; log:\n" << router.process().log();
  EchoBackend& echo = start_echo("busy");
  ASSERT_TRUE(register_route(client_, echo.port(), {"busy.example.com"})) << client_.error();
  ASSERT_TRUE(wait_until([&] { return router.get("busy.example.com", "/").status == 200; }, seconds(10),
                         milliseconds(50)))
      << router.get("busy.example.com", "/").describe();

  HttpCall busy;
  HttpRequest slow;
  slow.url = router.url("/slow?ms=2500");
  slow.host = "busy.example.com";
  slow.timeout = seconds(15);
  ASSERT_TRUE(busy.start(slow));
  sleep_for(milliseconds(500));  // let the slow request reach the backend
  ASSERT_TRUE(busy.running()) << "the slow request finished early";

  const HttpResponse refused = router.get("busy.example.com", "/second");
  EXPECT_EQ(refused.status, 503) << refused.describe();
  EXPECT_EQ(refused.header("X-Cf-Routererror").value_or(""), "Connection Limit Reached") << refused.describe();
  EXPECT_TRUE(busy.running()) << "the second request was answered only after the first finished";

  const HttpResponse first = busy.wait();
  EXPECT_EQ(first.status, 200) << first.describe();
  // The endpoint is free again.
  const HttpResponse after = router.get("busy.example.com", "/after");
  EXPECT_EQ(after.status, 200) << after.describe();
  if (HasFailure()) {
    std::fprintf(stderr, "---- switchyard log (%s) ----\n%s\n", router.config_path().c_str(),
                 tail(router.process().log()).c_str());
  }
}

TEST_F(TimeoutsTest, EmptiedPoolIs503NoEndpointsDuringEmptyPoolTimeout) {
  RouterConfig config;
  config.prune_stale_droplets_interval = "1s";
  config.extra_yaml = "empty_pool_timeout: 5s\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("emptied");
  ASSERT_NO_FATAL_FAILURE(route("emptied.example.com", echo.port()));

  ASSERT_TRUE(unregister_route(client_, echo.port(), {"emptied.example.com"})) << client_.error();
  const auto unregistered = Clock::now();
  HttpResponse response;
  ASSERT_TRUE(wait_until(
      [&] {
        response = router_.get("emptied.example.com", "/");
        return response.status != 200;
      },
      seconds(3), milliseconds(20)))
      << "route still served after unregister";
  EXPECT_EQ(response.status, 503) << response.describe();
  EXPECT_EQ(response.header("X-Cf-Routererror").value_or(""), "no_endpoints") << response.describe();
  EXPECT_EQ(response.body, "503 Service Unavailable: Requested route ('emptied.example.com') has no available "
                           "endpoints.\n");

  // Still 503 (not 404) well inside the 5 s.
  sleep_for(milliseconds(2000) - std::chrono::duration_cast<milliseconds>(Clock::now() - unregistered));
  const HttpResponse later = router_.get("emptied.example.com", "/");
  EXPECT_EQ(later.status, 503) << later.describe();

  // A new endpoint makes it routable again.
  EchoBackend& echo2 = start_echo("refilled");
  ASSERT_TRUE(register_route(client_, echo2.port(), {"emptied.example.com"})) << client_.error();
  EXPECT_TRUE(wait_routable(router_, "emptied.example.com", 200)) << router_.get("emptied.example.com").describe();
}

TEST_F(TimeoutsTest, EmptiedPoolIsDroppedAfterEmptyPoolTimeout) {
  RouterConfig config;
  config.prune_stale_droplets_interval = "1s";
  config.extra_yaml = "empty_pool_timeout: 2s\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("dropped");
  ASSERT_NO_FATAL_FAILURE(route("dropped.example.com", echo.port()));
  ASSERT_TRUE(unregister_route(client_, echo.port(), {"dropped.example.com"})) << client_.error();
  ASSERT_TRUE(wait_routable(router_, "dropped.example.com", 503, "/", seconds(3)))
      << router_.get("dropped.example.com").describe();
  // 2 s timeout + 1 s prune interval + slack.
  EXPECT_TRUE(wait_routable(router_, "dropped.example.com", 404, "/", seconds(8)))
      << "emptied pool never dropped: " << router_.get("dropped.example.com").describe();
}

TEST_F(TimeoutsTest, MalformedRequestLineIs400AndRouterKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("sane");
  ASSERT_NO_FATAL_FAILURE(route("sane.example.com", echo.port()));

  RawSocket socket;
  ASSERT_TRUE(socket.connect(router_.port()));
  ASSERT_TRUE(socket.send("GARBAGE\r\n\r\n"));
  const RawResponse response = socket.read_response(seconds(5));
  EXPECT_TRUE(response.complete) << "no complete response to a malformed request: " << socket.received();
  EXPECT_EQ(response.status, 400) << response.head;
  EXPECT_TRUE(socket.wait_closed(seconds(5))) << "connection left open after a malformed request";

  for (const std::string& junk : {std::string("GET\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                                  std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    RawSocket other;
    ASSERT_TRUE(other.connect(router_.port()));
    ASSERT_TRUE(other.send(junk));
    // Either a 4xx answer (505 for a version it cannot speak) or a closed
    // connection; never a hang.
    const RawResponse bad = other.read_response(seconds(5));
    if (bad.complete) {
      EXPECT_TRUE(bad.status / 100 == 4 || (bad.status == 505 && junk.find("HTTP/9.9") != std::string::npos))
          << bad.head;
    } else {
      EXPECT_TRUE(other.peer_closed()) << "no answer and no close for junk: " << other.received();
    }
  }

  const HttpResponse ok = router_.get("sane.example.com", "/still-here");
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(parse_echo(ok.body).target, "/still-here");
  EXPECT_TRUE(router_.process().running());
}

}  // namespace
}  // namespace sy::test
