// The access log (access_log.file) in gorouter's line format, with
// extra_headers_to_log: one line per request, every field checked against
// what the client sent and received.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> log_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm)".
std::optional<double> parse_rfc3339(const std::string& text) {
  static const std::regex format(R"re(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$)re");
  std::smatch m;
  if (!std::regex_match(text, m, format)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  double seconds_since_epoch = static_cast<double>(::timegm(&tm));
  if (m[7].matched) seconds_since_epoch += std::stod("0" + m[7].str());
  const std::string zone = m[8];
  if (zone != "Z") {
    const int offset = (std::stoi(zone.substr(1, 2)) * 60 + std::stoi(zone.substr(4, 2))) * 60;
    seconds_since_epoch -= zone[0] == '+' ? offset : -offset;
  }
  return seconds_since_epoch;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class AccessLogTest : public RouterTest {
 protected:
  void start_logged() {
    RouterConfig config;
    config.access_log = true;  // access_log.file = <dir>/access.log
    config.extra_yaml = "extra_headers_to_log:\n  - X-Trace\n";
    ASSERT_NO_FATAL_FAILURE(start_all(config));
  }

  std::string access_log() const { return read_file(dir_.file("access.log")); }

  // Runs `request` and returns the access-log lines it added: a marker
  // request follows on a new connection, and once the marker's line is
  // there, every line before it belongs to `request`.
  std::vector<std::string> lines_for(const HttpRequest& request, HttpResponse* response) {
    const size_t before = log_lines(access_log()).size();
    *response = http(request);
    const std::string marker = "marker-" + std::to_string(++markers_) + ".example.com";
    router_.get(marker, "/");
    std::vector<std::string> all;
    wait_until(
        [&] {
          all = log_lines(access_log());
          return !all.empty() && all.back().rfind(marker, 0) == 0;
        },
        seconds(5), milliseconds(10));
    if (all.empty() || all.back().rfind(marker, 0) != 0) return {};
    return std::vector<std::string>(all.begin() + static_cast<long>(std::min(before, all.size())), all.end() - 1);
  }
  int markers_ = 0;

  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- access.log ----\n%s\n", tail(access_log()).c_str());
    RouterTest::TearDown();
  }
};

TEST_F(AccessLogTest, OneRequestIsOneLineInGorouterFormat) {
  ASSERT_NO_FATAL_FAILURE(start_logged());
  EchoBackend& echo = start_echo("logged");
  ASSERT_NO_FATAL_FAILURE(route("logged.example.com", echo.port(),
                                R"re("app":"log-app-guid","private_instance_id":"log-instance-1",)re"
                                R"re("private_instance_index":"3")re"));

  HttpRequest request;
  request.url = router_.url("/path?q=1");
  request.host = "logged.example.com";
  request.headers = {"Referer: http://ref.example.com/page", "User-Agent: sy-test-agent/1.0",
                     "X-Trace: trace-abc-123", "X-Forwarded-For: 10.1.2.3", "X-Forwarded-Proto: https"};
  const double sent_at = now_seconds();
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  ASSERT_EQ(response.status, 200) << response.describe();
  ASSERT_EQ(lines.size(), 1u) << "one request must make exactly one access-log line";
  const std::string& line = lines[0];

  const std::regex format(
      R"re(^logged\.example\.com - \[([^\]]+)\] "GET /path\?q=1 HTTP/1\.1" 200 (\d+) (\d+) )re"
      R"re("http://ref\.example\.com/page" "sy-test-agent/1\.0" "127\.0\.0\.1:(\d+)" "127\.0\.0\.1:)re" +
      std::to_string(echo.port()) +
      R"re(" x_forwarded_for:"([^"]*)" x_forwarded_proto:"([^"]*)" vcap_request_id:"([^"]*)" )re"
      R"re(response_time:(\d+\.\d+) gorouter_time:(\d+\.\d+) app_id:"log-app-guid" app_index:"3" )re"
      R"re(instance_id:"log-instance-1" x_cf_routererror:"-" x_trace:"trace-abc-123"$)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, format)) << "not in gorouter's format:\n" << line;

  const std::optional<double> logged_at = parse_rfc3339(m[1]);
  ASSERT_TRUE(logged_at.has_value()) << "timestamp is not RFC 3339: " << m[1];
  EXPECT_NEAR(*logged_at, sent_at, 5.0) << m[1];

  EXPECT_EQ(m[2].str(), "0") << "bytes_received of a GET without a body";
  EXPECT_EQ(std::stoull(m[3].str()), response.body.size()) << "bytes_sent is not the response body size";
  EXPECT_EQ(response.header("Content-Length").value_or(""), std::to_string(response.body.size()));
  const int client_port = std::stoi(m[4].str());
  EXPECT_GT(client_port, 0);
  EXPECT_LT(client_port, 65536);
  EXPECT_NE(client_port, router_.port());

  const std::string xff = m[5];
  EXPECT_TRUE(xff == "10.1.2.3" || xff == "10.1.2.3, 127.0.0.1") << xff;
  EXPECT_EQ(m[6].str(), "https");

  const std::string request_id = m[7];
  EXPECT_EQ(response.header("X-Vcap-Request-Id").value_or(""), request_id);
  EXPECT_EQ(parse_echo(response.body).header("x-vcap-request-id"), request_id);
  static const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  EXPECT_TRUE(std::regex_match(request_id, uuid)) << request_id;

  const double response_time = std::stod(m[8].str());
  const double gorouter_time = std::stod(m[9].str());
  EXPECT_GE(response_time, 0.0);
  EXPECT_LT(response_time, 5.0);
  EXPECT_GE(gorouter_time, 0.0);
  EXPECT_LE(gorouter_time, response_time);
}

TEST_F(AccessLogTest, UnknownRouteLogsRouterError) {
  ASSERT_NO_FATAL_FAILURE(start_logged());
  HttpRequest request;
  request.url = router_.url("/missing");
  request.host = "nowhere.example.com";
  request.headers = {"X-Trace: t-404"};
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  ASSERT_EQ(response.status, 404) << response.describe();
  ASSERT_EQ(lines.size(), 1u);
  const std::regex format(
      R"re(^nowhere\.example\.com - \[[^\]]+\] "GET /missing HTTP/1\.1" 404 0 (\d+) "-" "([^"]*)" )re"
      R"re("127\.0\.0\.1:\d+" "-" x_forwarded_for:"-" x_forwarded_proto:"[^"]*" vcap_request_id:"([^"]*)" )re"
      R"re(response_time:\d+\.\d+ gorouter_time:\d+\.\d+ app_id:"-" app_index:"-" instance_id:"-" )re"
      R"re(x_cf_routererror:"unknown_route" x_trace:"t-404"$)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, format)) << lines[0];
  EXPECT_EQ(m[2].str().rfind("curl/", 0), 0u) << "curl's own User-Agent: " << m[2];
  EXPECT_EQ(m[3].str(), response.header("X-Vcap-Request-Id").value_or(""));
  // bytes_sent (m[1]) is checked in RouterErrorBytesSentCountsTheErrorBody.
}

// For a response the router makes itself (404 unknown_route, 503, 504, ...)
// bytes_sent is the error body the client received, as gorouter counts it.
TEST_F(AccessLogTest, RouterErrorBytesSentCountsTheErrorBody) {
  ASSERT_NO_FATAL_FAILURE(start_logged());
  HttpRequest request;
  request.url = router_.url("/missing");
  request.host = "nowhere.example.com";
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  ASSERT_EQ(response.status, 404) << response.describe();
  ASSERT_FALSE(response.body.empty());
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[0], m, std::regex(R"re("GET /missing HTTP/1\.1" 404 (\d+) (\d+) )re")))
      << lines[0];
  EXPECT_EQ(std::stoull(m[2].str()), response.body.size())
      << "bytes_sent of the 404 is not the size of the error body the client got:\n"
      << lines[0];
}

TEST_F(AccessLogTest, EveryRequestOnAKeepAliveConnectionIsLogged) {
  ASSERT_NO_FATAL_FAILURE(start_logged());
  EchoBackend& echo = start_echo("ka");
  ASSERT_NO_FATAL_FAILURE(route("ka.example.com", echo.port()));
  // curl reuses the connection for several URLs given at once.
  HttpRequest request;
  request.url = router_.url("/ka/1");
  request.host = "ka.example.com";
  request.extra_args = {router_.url("/ka/2"), router_.url("/ka/3")};
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  EXPECT_EQ(response.exit_code, 0) << response.describe();
  ASSERT_EQ(lines.size(), 3u);
  // (curl fetches the extra URLs first: extra_args come before request.url.)
  std::string client;
  for (int i = 1; i <= 3; ++i) {
    size_t found = 0;
    for (const std::string& line : lines) {
      if (line.find("\"GET /ka/" + std::to_string(i) + " HTTP/1.1\" 200 ") == std::string::npos) continue;
      ++found;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(line, m, std::regex(R"re(" "[^"]*" "(127\.0\.0\.1:\d+)" ")re"))) << line;
      if (client.empty()) client = m[1];
      EXPECT_EQ(m[1].str(), client) << "not one keep-alive connection:\n" << line;
    }
    EXPECT_EQ(found, 1u) << "/ka/" << i;
  }
}

TEST_F(AccessLogTest, TimeoutLogsEndpointFailureTimeout) {
  RouterConfig config;
  config.endpoint_timeout = "1s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("late");
  ASSERT_NO_FATAL_FAILURE(route("late.example.com", echo.port()));
  HttpRequest request;
  request.url = router_.url("/slow?ms=3000");
  request.host = "late.example.com";
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  ASSERT_EQ(response.status, 504) << response.describe();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"GET /slow?ms=3000 HTTP/1.1\" 504 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("x_cf_routererror:\"endpoint_failure (timeout)\""), std::string::npos) << lines[0];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[0], m, std::regex(R"re( response_time:(\d+\.\d+) )re"))) << lines[0];
  EXPECT_GE(std::stod(m[1].str()), 0.9) << lines[0];
}

// gorouter_time is the time spent in the router itself: response_time minus
// the time the backend took (as gorouter's proxy_round_tripper computes it).
TEST_F(AccessLogTest, GorouterTimeExcludesBackendTime) {
  ASSERT_NO_FATAL_FAILURE(start_logged());
  EchoBackend& echo = start_echo("slowapp");
  ASSERT_NO_FATAL_FAILURE(route("slowapp.example.com", echo.port()));
  HttpRequest request;
  request.url = router_.url("/slow?ms=800");
  request.host = "slowapp.example.com";
  HttpResponse response;
  const std::vector<std::string> lines = lines_for(request, &response);
  ASSERT_EQ(response.status, 200) << response.describe();
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(lines[0], m, std::regex(R"re( response_time:(\d+\.\d+) gorouter_time:(\d+\.\d+) )re")))
      << lines[0];
  const double response_time = std::stod(m[1].str());
  const double gorouter_time = std::stod(m[2].str());
  EXPECT_GE(response_time, 0.8) << lines[0];
  EXPECT_LT(gorouter_time, 0.4) << "gorouter_time counts the 800 ms the backend took:\n" << lines[0];
}

}  // namespace
}  // namespace sy::test

namespace sy::test {
namespace {

// gorouter's logging keys on the real binary: every access line also goes to
// syslog (a UDP socket this test opens), with the attempt details and the
// GET query hashed.
TEST_F(RouterTest, AccessLogToSyslogWithAttemptDetailsAndRedaction) {
  const int server = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(server, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  timeval timeout{10, 0};
  ::setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  RouterConfig config;
  config.logging_yaml = "  syslog: vcap.gorouter\n  syslog_network: udp\n  syslog_addr: 127.0.0.1:" +
                        std::to_string(ntohs(addr.sin_port)) +
                        "\n  redact_query_params: hash\n  enable_attempts_details: true\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EXPECT_EQ(router_.log().find("config-keys-ignored"), std::string::npos) << router_.log();
  EchoBackend& echo = start_echo("logged");
  ASSERT_NO_FATAL_FAILURE(route("logged.example.com", echo.port()));
  ASSERT_EQ(router_.get("logged.example.com", "/secret?token=abc").status, 200);
  // The routability probes came first: read until this request's message.
  std::string got;
  char buf[65536];
  for (int i = 0; i < 50 && got.find("/secret") == std::string::npos; ++i) {
    const ssize_t n = ::recv(server, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.assign(buf, static_cast<size_t>(n));
  }
  ::close(server);
  ASSERT_NE(got.find("/secret"), std::string::npos) << got;
  EXPECT_TRUE(got.starts_with("<14>1 ")) << got;
  EXPECT_NE(got.find(" vcap.gorouter "), std::string::npos) << got;
  EXPECT_TRUE(std::regex_search(got, std::regex(R"("GET /secret\?hash=[0-9a-f]{40} HTTP/1.1")"))) << got;
  EXPECT_EQ(got.find("token=abc"), std::string::npos) << "the query is hashed: " << got;
  EXPECT_TRUE(std::regex_search(got, std::regex(R"( failed_attempts:0 failed_attempts_time:"-" dns_time:0\.\d{6} )"
                                                R"(dial_time:\d+\.\d{6} tls_time:0\.000000 backend_time:\d+\.\d{6} )"
                                                R"(x_cf_routererror:"-")")))
      << got;
  // The file gets the same line.
  EXPECT_TRUE(wait_until([&] { return read_file(dir_.file("access.log")).find("/secret?hash=") != std::string::npos; },
                         std::chrono::seconds(5)));
}

}  // namespace
}  // namespace sy::test
