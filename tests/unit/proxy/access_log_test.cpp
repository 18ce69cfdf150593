// Access log lines in gorouter's format, and the file writer.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "router/proxy/access_log.hpp"

namespace sy::proxy {
namespace {

AccessRecord full_record() {
  AccessRecord r;
  r.host = "app.example.com";
  r.method = "GET";
  r.target = "/p?q=1";
  r.version = 11;
  r.status = 200;
  r.bytes_received = 12;
  r.bytes_sent = 345;
  r.referer = "https://ref.example.com/";
  r.user_agent = "curl/8.0";
  r.remote_addr = "10.0.0.9:5555";
  r.backend_addr = "10.1.1.1:8080";
  r.forwarded_for = "1.1.1.1, 10.0.0.9";
  r.forwarded_proto = "https";
  r.request_id = "rid-1";
  r.app_id = "app-guid";
  r.app_index = "0";
  r.instance_id = "inst-guid";
  r.router_error = "";
  r.response_time_s = 0.25;
  r.start_unix_ms = 1700000000123;  // 2023-11-14T22:13:20.123Z
  r.extra_headers = {{"X-B3-TraceId", "abc"}, {"Absent-Header", ""}};
  return r;
}

// gorouter_time's value is not part of the contract; mask it.
std::string masked(std::string line) {
  return std::regex_replace(line, std::regex(R"(gorouter_time:[0-9.]+)"), "gorouter_time:<s>");
}

TEST(AccessLogFormat, FullLine) {
  EXPECT_EQ(masked(format_access_line(full_record())),
            "app.example.com - [2023-11-14T22:13:20.123Z] \"GET /p?q=1 HTTP/1.1\" 200 12 345 "
            "\"https://ref.example.com/\" \"curl/8.0\" \"10.0.0.9:5555\" \"10.1.1.1:8080\" "
            "x_forwarded_for:\"1.1.1.1, 10.0.0.9\" x_forwarded_proto:\"https\" vcap_request_id:\"rid-1\" "
            "response_time:0.250000 gorouter_time:<s> app_id:\"app-guid\" app_index:\"0\" instance_id:\"inst-guid\" "
            "x_cf_routererror:\"-\" x_b3_traceid:\"abc\" absent_header:\"-\"\n");
}

// SPEC §5.5: a request served through a tunnel names the tunnel and the node
// that holds it, after gorouter's fields (before the extra headers).
TEST(AccessLogFormat, TunnelRequestsNameTheTunnelAndNode) {
  AccessRecord r = full_record();
  r.tunnel_id = "agent-1";
  r.tunnel_node = "node-b";
  const std::string line = format_access_line(r);
  EXPECT_NE(line.find("x_cf_routererror:\"-\" tunnel_id:\"agent-1\" tunnel_node:\"node-b\" x_b3_traceid:"),
            std::string::npos)
      << line;
  EXPECT_EQ(format_access_line(full_record()).find("tunnel_id"), std::string::npos) << "absent for other requests";
}

TEST(AccessLogFormat, AbsentValuesPrintDash) {
  AccessRecord r;
  r.method = "GET";
  r.target = "/";
  r.status = 404;
  r.router_error = "unknown_route";
  EXPECT_EQ(masked(format_access_line(r)),
            "- - [1970-01-01T00:00:00.000Z] \"GET / HTTP/1.1\" 404 0 0 \"-\" \"-\" \"-\" \"-\" "
            "x_forwarded_for:\"-\" x_forwarded_proto:\"-\" vcap_request_id:\"-\" "
            "response_time:0.000000 gorouter_time:<s> app_id:\"-\" app_index:\"-\" instance_id:\"-\" "
            "x_cf_routererror:\"unknown_route\"\n");
}

TEST(AccessLogFormat, QuotesAndBackslashesEscapedControlsBlanked) {
  AccessRecord r = full_record();
  r.user_agent = "evil\" agent\\x";
  r.referer = "a\tb\x01" "c";
  r.forwarded_for = "\"";
  std::string line = format_access_line(r);
  EXPECT_NE(line.find(R"("evil\" agent\\x")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("a b c")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(x_forwarded_for:"\"")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\t'), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
}

TEST(AccessLogFormat, NewlinesInValuesCannotSplitTheLine) {
  AccessRecord r = full_record();
  r.user_agent = "a\r\nfake line";
  r.extra_headers = {{"X-Evil", "1\n2"}};
  std::string line = format_access_line(r);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('\r'), std::string::npos);
}

TEST(AccessLogFormat, Http10AndTimestampPadding) {
  AccessRecord r = full_record();
  r.version = 10;
  r.start_unix_ms = 946684800005;  // 2000-01-01T00:00:00.005Z
  std::string line = format_access_line(r);
  EXPECT_TRUE(line.starts_with("app.example.com - [2000-01-01T00:00:00.005Z] \"GET /p?q=1 HTTP/1.0\" 200 ")) << line;
}

TEST(AccessLogFormat, ResponseTimeInSeconds) {
  AccessRecord r = full_record();
  r.response_time_s = 1.5;
  EXPECT_NE(format_access_line(r).find(" response_time:1.500000 "), std::string::npos);
  r.response_time_s = 0.000123;
  EXPECT_NE(format_access_line(r).find(" response_time:0.000123 "), std::string::npos);
}

TEST(AccessLogFormat, ExtraHeaderNamesLowerCasedWithUnderscores) {
  AccessRecord r = full_record();
  r.extra_headers = {{"X-Request-ID", "q\"1"}, {"Accept-Language", ""}};
  std::string line = format_access_line(r);
  EXPECT_TRUE(line.ends_with(" x_cf_routererror:\"-\" x_request_id:\"q\\\"1\" accept_language:\"-\"\n")) << line;
}

// The request target is written raw inside the quoted request field. Beast
// accepts '"' in a target (it is a pathchar there), so a request for /a"b
// closes the quoted field early and shifts every later field for log parsers.
// gorouter writes URL.RequestURI(), which percent-encodes the quote.
TEST(AccessLogFormat, QuoteInTargetNotEscaped) {
  AccessRecord r = full_record();
  r.target = "/a\"b";
  std::string line = format_access_line(r);
  bool escaped = line.find(R"("GET /a\"b HTTP/1.1")") != std::string::npos ||
                 line.find(R"("GET /a%22b HTTP/1.1")") != std::string::npos;
  EXPECT_TRUE(escaped) << line;
}

// ---------------------------------------------------------------- writer

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "sy_access_log_" + name + "_" + std::to_string(::getpid()) + ".log";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AccessLogWriter, OffWhenNothingConfigured) { EXPECT_EQ(AccessLog::open(AccessLogOptions{}), nullptr); }

TEST(AccessLogWriter, AppendsWholeLinesToTheFile) {
  const std::string path = temp_path("append");
  std::remove(path.c_str());
  {
    std::ofstream pre(path);
    pre << "existing\n";
  }
  {
    auto log = AccessLog::open(AccessLogOptions{path, false, {}, {}});
    ASSERT_NE(log, nullptr);
    AccessRecord a = full_record();
    AccessRecord b = full_record();
    b.status = 502;
    log->write(a);
    log->write(b);
    EXPECT_EQ(slurp(path), "existing\n" + format_access_line(a) + format_access_line(b)) << "flushed per line";
  }
  std::remove(path.c_str());
}

TEST(AccessLogWriter, UnopenableFileThrows) {
  EXPECT_THROW(AccessLog::open(AccessLogOptions{"/nonexistent-dir-sy/sub/access.log", false, {}, {}}), std::runtime_error);
}

}  // namespace
}  // namespace sy::proxy

namespace sy::proxy {
namespace {

// gorouter's redact_query_params: GET queries only; "hash" is the SHA-1 of
// the query as sent.
TEST(AccessLogRedaction, NoneAllHashOnGetOnly) {
  EXPECT_EQ(redact_target("GET", "/p?q=1", RedactQuery::none), "/p?q=1");
  EXPECT_EQ(redact_target("GET", "/p?q=1", RedactQuery::all), "/p");
  EXPECT_EQ(redact_target("GET", "/p?q=1", RedactQuery::hash), "/p?hash=7de36096ee27ab707af7d922f8caec37e8d6c644");
  EXPECT_EQ(redact_target("POST", "/p?q=1", RedactQuery::all), "/p?q=1");
  EXPECT_EQ(redact_target("GET", "/p", RedactQuery::hash), "/p");
  EXPECT_EQ(redact_target("GET", "/p?", RedactQuery::all), "/p?");
  AccessLogFormat format;
  format.redact_query = RedactQuery::all;
  EXPECT_NE(format_access_line(full_record(), format).find("\"GET /p HTTP/1.1\""), std::string::npos);
}

TEST(AccessLogFormat, AttemptDetailsBetweenInstanceIdAndRouterError) {
  AccessRecord r = full_record();
  r.failed_attempts = 1;
  r.failed_attempts_time_s = 0.5;
  r.dns_time_s = 0;
  r.dial_time_s = 0.001;
  r.tls_time_s = 0;
  r.attempt_backend_time_s = 0.2;
  AccessLogFormat format;
  format.attempts_details = true;
  EXPECT_NE(format_access_line(r, format)
                .find("instance_id:\"inst-guid\" failed_attempts:1 failed_attempts_time:0.500000 dns_time:0.000000 "
                      "dial_time:0.001000 tls_time:0.000000 backend_time:0.200000 x_cf_routererror:\"-\""),
            std::string::npos)
      << format_access_line(r, format);
  // Answered by the router after failures: the *_time fields are "-".
  AccessRecord failed = full_record();
  failed.failed_attempts = 0;
  const std::string line = format_access_line(failed, format);
  EXPECT_NE(line.find(" failed_attempts:0 failed_attempts_time:\"-\" dns_time:\"-\" dial_time:\"-\" tls_time:\"-\" "
                      "backend_time:\"-\" x_cf_routererror:"),
            std::string::npos)
      << line;
  EXPECT_EQ(format_access_line(r).find("failed_attempts"), std::string::npos) << "off by default";
}

TEST(AccessLogFormat, ForwardedForAndSourceIpCanBeLeftOut) {
  AccessLogFormat format;
  format.disable_forwarded_for = true;
  format.disable_source_ip = true;
  const std::string line = format_access_line(full_record(), format);
  EXPECT_NE(line.find("\"curl/8.0\" \"-\" \"10.1.1.1:8080\" x_forwarded_for:\"-\" "), std::string::npos) << line;
}

TEST(SyslogMessage, Rfc5424Frame) {
  EXPECT_EQ(syslog_message("2026-01-02T03:04:05Z", "host-a", "vcap.gorouter", 42, "a line", false),
            "<14>1 2026-01-02T03:04:05Z host-a vcap.gorouter 42 - \xEF\xBB\xBF" "a line");
  EXPECT_EQ(syslog_message("t", "", "app", 1, "x", true), "<14>1 t - app 1 - \xEF\xBB\xBF" "x\n");
}

// A real datagram socket: every access line arrives as one message.
TEST(SyslogWriter, SendsEachLineAsOneUdpDatagram) {
  const int server = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(server, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  timeval timeout{5, 0};
  ::setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  AccessLogOptions options;
  options.syslog = SyslogOptions{"switchyard-test", "udp", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
  auto log = AccessLog::open(options);
  ASSERT_NE(log, nullptr);
  log->write(full_record());
  char buf[4096];
  const ssize_t n = ::recv(server, buf, sizeof buf, 0);
  ::close(server);
  ASSERT_GT(n, 0);
  const std::string got(buf, static_cast<size_t>(n));
  EXPECT_TRUE(got.starts_with("<14>1 ")) << got;
  EXPECT_NE(got.find(" switchyard-test "), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("absent_header:\"-\"")) << "the line without its newline: " << got;
}

TEST(SyslogWriter, BadNetworkOrAddressFailsAtStart) {
  AccessLogOptions options;
  options.syslog = SyslogOptions{"x", "sctp", "127.0.0.1:514"};
  EXPECT_THROW(AccessLog::open(options), std::runtime_error);
  options.syslog = SyslogOptions{"x", "unixgram", "/nonexistent/dir/log"};
  EXPECT_THROW(AccessLog::open(options), std::runtime_error);
}

}  // namespace
}  // namespace sy::proxy
