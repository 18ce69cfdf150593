// The test support itself, against the real tools but without the router:
// processes, ports, nats-server + client, curl, switchyard-echo, WebSocket.
#include <signal.h>

#include <gtest/gtest-spi.h>

#include <thread>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/raw_backend.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/ws_client.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SupportProcess, ExitCodesSignalsAndEnvironment) {
  TempDir dir;
  ProcessOptions exit3;
  exit3.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  exit3.log_path = dir.file("exit3.log");
  EXPECT_EQ(run_process(exit3, seconds(5)), std::optional<int>(3));
  EXPECT_EQ(read_file(exit3.log_path), "out\nerr\n");

  ProcessOptions env;
  env.argv = {"sh", "-c", "test \"$SY_TEST_VALUE\" = yes"};
  env.env = {{"SY_TEST_VALUE", "yes"}};
  EXPECT_EQ(run_process(env, seconds(5)), std::optional<int>(0));

  Process sleeper;
  ASSERT_TRUE(sleeper.start(ProcessOptions{{"sleep", "30"}, {}, {}, {}, {}}));
  EXPECT_TRUE(sleeper.running());
  EXPECT_EQ(sleeper.wait_exit(milliseconds(50)), std::nullopt);
  EXPECT_TRUE(sleeper.signal(SIGTERM));
  EXPECT_EQ(sleeper.wait_exit(seconds(5)), std::optional<int>(128 + SIGTERM));
  EXPECT_FALSE(sleeper.running());

  Process stubborn;  // ignores SIGTERM: stop() falls back to SIGKILL
  ASSERT_TRUE(stubborn.start(ProcessOptions{{"sh", "-c", "trap '' TERM; sleep 30"}, {}, {}, {}, {}}));
  sleep_for(milliseconds(100));
  EXPECT_EQ(stubborn.stop(milliseconds(300)), std::optional<int>(128 + SIGKILL));

  Process missing;
  EXPECT_FALSE(missing.start(ProcessOptions{{"/nonexistent/binary"}, {}, {}, {}, {}}));
  EXPECT_FALSE(missing.error().empty());

  Process input;
  ProcessOptions cat{{"cat"}, dir.file("cat.log"), {}, dir.write_file("in.txt", "piped\n"), {}};
  ASSERT_TRUE(input.start(cat));
  EXPECT_EQ(input.wait_exit(seconds(5)), std::optional<int>(0));
  EXPECT_EQ(input.log(), "piped\n");
  EXPECT_TRUE(rss_kib(::getpid()).value_or(0) > 0);
}

// A sanitizer report in a child, or a crash, fails the test that started it
// (tests/support/process.hpp); a clean child fails nothing.
int run_probe(const char* mode) {
  TempDir dir;
  ProcessOptions options;
  options.argv = {std::string(SY_BIN_DIR) + "/tests/sanitizer-probe", mode};
  options.log_path = dir.file("probe.log");
  return run_process(options, seconds(30)).value_or(-1);
}

TEST(SupportProcess, ChildCrashFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(run_process(ProcessOptions{{"sh", "-c", "echo dying >&2; kill -SEGV $$"}, {}, {}, {}, {}},
                                      seconds(5)),
                          "crashed: exit 139");
}

TEST(SupportSanitizer, ChildReportFailsTheTest) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "not a sanitized build (-DSWITCHYARD_SANITIZE=address,undefined)";
#endif
  // abort_on_error=1 (sanitize/defaults.cpp): every report ends in SIGABRT.
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(run_probe("leak"), 128 + SIGABRT), "LeakSanitizer: detected memory leaks");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(run_probe("heap-overflow"), 128 + SIGABRT), "heap-buffer-overflow");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(run_probe("signed-overflow"), 128 + SIGABRT), "signed integer overflow");
  EXPECT_EQ(run_probe("clean"), 0);
}

TEST(SupportPorts, FreePortOpensWhenSomethingListens) {
  const uint16_t port = free_port();
  ASSERT_NE(port, 0);
  EXPECT_FALSE(port_open(port));
  EXPECT_FALSE(wait_port_open(port, milliseconds(30)));
  EXPECT_TRUE(wait_until([] { return true; }, milliseconds(0)));
  EXPECT_FALSE(wait_until([] { return false; }, milliseconds(30)));
}

TEST(SupportNats, PublishSubscribeRequestAndRestart) {
  TempDir dir;
  NatsServer server(dir.path());
  ASSERT_TRUE(server.start()) << server.error();
  NatsClient client;
  ASSERT_TRUE(client.connect(server.url())) << client.error();
  NatsSubscription* sub = client.subscribe("test.>");
  ASSERT_NE(sub, nullptr) << client.error();
  ASSERT_TRUE(client.publish("test.a", "one"));
  ASSERT_TRUE(client.publish("test.b", "two"));
  const auto second = sub->wait_for_message(seconds(5), [](const NatsMessage& m) { return m.data == "two"; });
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->subject, "test.b");
  const auto first = sub->wait_for_message(seconds(5));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->data, "one");
  EXPECT_EQ(sub->wait_for_message(milliseconds(50)), std::nullopt);

  // Request/reply with a responder on another connection.
  NatsClient responder;
  ASSERT_TRUE(responder.connect(server.url()));
  NatsSubscription* service = responder.subscribe("svc.echo");
  ASSERT_NE(service, nullptr);
  std::thread answer([&] {
    const auto request = service->wait_for_message(seconds(5));
    if (request) responder.publish(request->reply, "re:" + request->data);
  });
  const auto reply = client.request("svc.echo", "ping", seconds(5));
  answer.join();
  EXPECT_EQ(reply, std::optional<std::string>("re:ping"));
  EXPECT_EQ(client.request("svc.nobody", "x", milliseconds(300)), std::nullopt);

  // Kill and restart on the same port: the client reconnects and resubscribes.
  const uint16_t port = server.port();
  server.kill();
  EXPECT_TRUE(wait_until([&] { return !client.connected(); }, seconds(5)));
  ASSERT_TRUE(server.restart()) << server.error();
  EXPECT_EQ(server.port(), port);
  ASSERT_TRUE(wait_until([&] { return client.connected(); }, seconds(5)));
  ASSERT_TRUE(wait_until([&] { return client.publish("test.c", "three") && sub->wait_for_message(milliseconds(100)); },
                         seconds(5)));
}

TEST(SupportNats, Credentials) {
  TempDir dir;
  NatsServerOptions options;
  options.user = "u1";
  options.pass = "p1";
  NatsServer server(dir.path(), options);
  ASSERT_TRUE(server.start()) << server.error();
  NatsClient anonymous;
  EXPECT_FALSE(anonymous.connect(server.url(), {}, {}, milliseconds(100)));
  NatsClient client;
  EXPECT_TRUE(client.connect(server.url(), "u1", "p1")) << client.error();
}

class SupportEcho : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(is_executable(test_binaries().echo)) << test_binaries().echo;
    ASSERT_TRUE(echo_.start("direct")) << echo_.process().log();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(echo_.port()) + path; }

  TempDir dir_;
  EchoBackend echo_{dir_, test_binaries()};
};

TEST_F(SupportEcho, EchoesRequest) {
  HttpRequest request;
  request.url = url("/a/b?c=d");
  request.host = "echo.example.com";
  request.headers = {"X-Multi: 1", "X-Multi: 2"};
  const HttpResponse response = http(request);
  ASSERT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(response.header("x-echo-name"), std::optional<std::string>("direct"));
  const EchoSeen seen = parse_echo(response.body);
  EXPECT_EQ(seen.name, "direct");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/a/b?c=d");
  EXPECT_EQ(seen.header("host"), "echo.example.com");
  EXPECT_EQ(seen.headers.count("x-multi"), 2u);
}

TEST_F(SupportEcho, SpecialEndpoints) {
  const HttpResponse status = http_get(echo_.port(), "e", "/status/503");
  EXPECT_EQ(status.status, 503);
  EXPECT_EQ(status.body, "status=503\n");
  const HttpResponse set = http_get(echo_.port(), "e", "/headers-set?name=X-Vcap-Request-Id&value=a%20b");
  EXPECT_EQ(set.header("X-Vcap-Request-Id"), std::optional<std::string>("a b"));

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(http_get(echo_.port(), "e", "/slow?ms=300").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));

  const HttpResponse closed = http_get(echo_.port(), "e", "/close");
  EXPECT_EQ(closed.status, 0);
  EXPECT_EQ(closed.exit_code, 52) << closed.describe();  // curl: empty reply from server

  const HttpResponse small = http_get(echo_.port(), "e", "/download?bytes=130");
  EXPECT_EQ(small.body.substr(0, 64), "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n");
  EXPECT_EQ(small.body.size(), 130u);
  const HttpResponse chunked = http_get(echo_.port(), "e", "/download?bytes=200000&chunked=1");
  EXPECT_EQ(chunked.header("transfer-encoding"), std::optional<std::string>("chunked"));
  EXPECT_EQ(chunked.body.size(), 200000u);

  HttpRequest upload;
  upload.url = url("/upload");
  upload.data = std::string(100000, 'u');
  EXPECT_EQ(http(upload).body, "received=100000\n");
  upload.data.clear();
  upload.upload_file = dir_.write_file("up.bin", std::string(3 * 1024 * 1024, 'v'));  // with Expect: 100-continue
  upload.headers = {"Transfer-Encoding: chunked"};
  EXPECT_EQ(http(upload).body, "received=3145728\n");
}

TEST_F(SupportEcho, WebSocketEcho) {
  const std::vector<WsMessage> messages = {{false, "text"}, {true, std::string("\x00\xff", 2)}};
  const WsResult result = websocket_exchange(echo_.port(), "echo.example.com", "/ws", messages, seconds(5));
  EXPECT_TRUE(result.upgraded) << result.error;
  EXPECT_EQ(result.received, messages) << result.error;
  EXPECT_TRUE(result.closed_cleanly) << result.error;
}

// The raw backend frames as RFC 9112 says (chunked over Content-Length), so
// what a smuggling proxy forwards shows up as a request of its own; it
// answers each request, keeps the connection, and logs JSON lines.
TEST(SupportRawBackend, FramesAnswersAndLogsEveryRequest) {
  TempDir dir;
  RawBackend backend(dir.file("raw.jsonl"));
  ASSERT_TRUE(backend.start());
  RawSocket socket;
  ASSERT_TRUE(socket.connect(backend.port()));
  backend.set_epoch(7);
  ASSERT_TRUE(socket.send(
      "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"));
  const RawResponse first = socket.read_response(seconds(5));
  const RawResponse second = socket.read_response(seconds(5));
  EXPECT_EQ(first.header("X-Seen-Count"), "1");
  EXPECT_EQ(second.header("X-Seen-Count"), "2");
  ASSERT_TRUE(backend.settle());
  const std::vector<BackendEntry> entries = backend.entries_since(7);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].request.ambiguities, std::vector<std::string>{"Transfer-Encoding with Content-Length"});
  EXPECT_EQ(entries[1].request.target, "/smuggled");

  backend.set_responder([](const FramedRequest& r, uint64_t) -> std::optional<RawReply> {
    if (r.target != "/custom") return std::nullopt;
    return RawReply{"HTTP/1.1 204 No Content\r\n\r\n", true};
  });
  ASSERT_TRUE(socket.send("GET /custom HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\nHost: h\r\n\r\n"));
  EXPECT_EQ(socket.read_response(seconds(5)).status, 204);
  EXPECT_TRUE(socket.wait_closed(seconds(5)));
  RawSocket broken;
  ASSERT_TRUE(broken.connect(backend.port()));
  ASSERT_TRUE(broken.send("GET /bad HTTP/1.1\nHost: h\r\n\r\n"));
  EXPECT_EQ(broken.read_response(seconds(5)).status, 400);
  ASSERT_TRUE(backend.wait_for_entries(4, seconds(5)));
  EXPECT_EQ(backend.entries()[3].error, "bare LF");
  EXPECT_EQ(backend.requests().size(), 3u);
  EXPECT_EQ(backend.connections(), 2u);
  backend.stop();
  const std::string log = read_file(dir.file("raw.jsonl"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4) << log;
  EXPECT_NE(log.find("\"target\":\"/smuggled\""), std::string::npos) << log;
}

TEST(SupportPromText, ParsesSamples) {
  const std::string text =
      "# HELP responses_total x\n# TYPE responses_total counter\n"
      "responses_total{status_group=\"2xx\"} 3\nresponses_total{status_group=\"5xx\",a=\"q\\\"\"} 2\n"
      "total_routes 4\nlatency_bucket{le=\"+Inf\"} 9\n";
  EXPECT_EQ(metric_sum(text, "responses_total"), 5);
  EXPECT_EQ(metric_value(text, "responses_total", {{"status_group", "5xx"}}), std::optional<double>(2));
  EXPECT_EQ(metric_value(text, "responses_total", {{"a", "q\""}}), std::optional<double>(2));
  EXPECT_TRUE(has_metric(text, "total_routes"));
  EXPECT_TRUE(has_metric(text, "latency_bucket"));
  EXPECT_FALSE(has_metric(text, "latency"));
  EXPECT_EQ(metric_sum(text, "missing_total"), 0);
}

TEST(SupportHttp, ParsesLastHeaderBlock) {
  const auto [status, headers] = parse_header_dump(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nA: 1\r\na: 2\r\nB:  x y \r\n\r\n");
  EXPECT_EQ(status, 201);
  HttpResponse response;
  response.headers = headers;
  EXPECT_EQ(response.header_values("A"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(response.header("b"), std::optional<std::string>("x y"));
}

}  // namespace
}  // namespace sy::test
