// The strict HTTP/1.1 head parser (router/http/head_parser.hpp): what it
// accepts, what it refuses and with which error, for requests and responses.
// Every refusal here is a request-smuggling or confusion case a lenient
// parser lets through (see docs/SECURITY.md).
#include <gtest/gtest.h>

#include <string>

#include "router/http/head_parser.hpp"
#include "tests/support/http_text.hpp"

namespace sy::http {
namespace {

using test::parse_request;
using test::parse_response;

HeadError request_error(const std::string& text) { return parse_request(text)->error; }
HeadError response_error(const std::string& text) { return parse_response(text)->error; }

std::string with_fields(const std::string& fields) { return "POST /u HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"; }

TEST(HeadParserRequest, FillsTheHead) {
  auto p = parse_request("POST /submit?x=1 HTTP/1.1\r\nHost: App.Example.com:8080\r\nContent-Length: 11\r\n"
                         "X-A:  1 \r\n\r\nhello world");
  ASSERT_EQ(p->error, HeadError::none);
  EXPECT_EQ(p->head.method, "POST");
  EXPECT_EQ(p->head.target, "/submit?x=1");
  EXPECT_EQ(p->head.path(), "/submit");
  EXPECT_EQ(p->head.version, 11);
  ASSERT_EQ(p->head.fields.size(), 3u);
  EXPECT_EQ(p->head.fields[2].value, "1") << "optional whitespace around a value is not part of it";
  EXPECT_TRUE(p->head.has_host);
  EXPECT_EQ(p->head.host, "App.Example.com:8080");
  EXPECT_TRUE(p->head.keep_alive);
  EXPECT_EQ(p->head.body, BodyKind::length);
  EXPECT_EQ(p->head.content_length, 11u);
  EXPECT_EQ(p->consumed, p->text.size() - 11) << "the head ends at its blank line; the body is relayed separately";
}

TEST(HeadParserRequest, EmptyLinesBeforeTheRequestLineAreIgnored) {
  auto p = parse_request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(p->error, HeadError::none);
  EXPECT_EQ(p->head.method, "GET");
}

TEST(HeadParserRequest, EveryPrefixIsIncompleteNotAnError) {
  const std::string full = "GET /x HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    auto p = parse_request(full.substr(0, n));
    EXPECT_FALSE(p->complete) << n;
    EXPECT_EQ(p->error, HeadError::none) << n;
  }
}

TEST(HeadParserRequest, ScannerResumesWhereItStopped) {
  const std::string full = "GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /next";
  HeadScanner scanner(1024);
  const size_t end = full.find("GET /next");
  for (size_t n = 1; n < end; ++n)
    EXPECT_EQ(scanner.scan(std::string_view(full).substr(0, n)).status, HeadScanner::Status::incomplete) << n;
  HeadScanner::Result r = scanner.scan(full);
  EXPECT_EQ(r.status, HeadScanner::Status::complete);
  EXPECT_EQ(r.length, end);
}

TEST(HeadParserRequest, BareLfIsRefusedAtOnce) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\nHost: a\n\n"), HeadError::bare_lf);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\n"), HeadError::bare_lf) << "no need to wait for the end";
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\n\n"), HeadError::bare_lf);
  EXPECT_EQ(request_error("\nGET / HTTP/1.1\r\n\r\n"), HeadError::bare_lf);
}

TEST(HeadParserRequest, SizeAndFieldCountAreBounded) {
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(300, 'x') + "\r\n\r\n";
  EXPECT_EQ(parse_request(big, 128)->error, HeadError::too_large);
  EXPECT_EQ(parse_request(big, 1024)->error, HeadError::none) << "the same head fits a larger limit";
  std::string partial = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(300, 'x');
  EXPECT_EQ(parse_request(partial, 128)->error, HeadError::too_large) << "no need to wait for the end";
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 300; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(request_error(many + "\r\n"), HeadError::too_many_fields);
  EXPECT_EQ(request_error_status(HeadError::too_many_fields), 431);
}

// Found by fuzz_request_head: a line feed past the limit was judged (bare LF)
// when the head arrived whole but not when it arrived in two pieces.
TEST(HeadParserRequest, NothingPastTheLimitIsLookedAt) {
  const std::string text = "GET /" + std::string(600, 'a') + "\n";
  HeadScanner whole(512);
  EXPECT_EQ(whole.scan(text).error, HeadError::too_large);
  HeadScanner split(512);
  split.scan(std::string_view(text).substr(0, 300));
  EXPECT_EQ(split.scan(text).error, HeadError::too_large);
}

TEST(HeadParserRequest, ObsFoldIsRefused) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"), HeadError::obs_fold);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n"),
            HeadError::obs_fold);
}

TEST(HeadParserRequest, FieldSyntax) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), HeadError::bad_field) << "space before the colon";
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n"), HeadError::bad_field) << "no colon";
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), HeadError::bad_field) << "no name";
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX(A): v\r\n\r\n"), HeadError::bad_field);
  EXPECT_EQ(request_error(std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36)), HeadError::bad_field);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), HeadError::bad_field) << "bare CR";
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), HeadError::bad_field);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"), HeadError::none) << "obs-text";
}

TEST(HeadParserRequest, RequestLineSyntax) {
  EXPECT_EQ(request_error("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_method);
  EXPECT_EQ(request_error(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_method);
  EXPECT_EQ(request_error("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_start_line);
  EXPECT_EQ(request_error("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), HeadError::bad_version);
  EXPECT_EQ(request_error("GET / http/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_version);
  EXPECT_EQ(request_error("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), HeadError::unsupported_version);
  EXPECT_EQ(request_error_status(HeadError::unsupported_version), 505);
  auto later = parse_request("GET / HTTP/1.7\r\nHost: a\r\n\r\n");
  EXPECT_EQ(later->error, HeadError::none);
  EXPECT_EQ(later->head.version, 11) << "a later HTTP/1 minor is served as 1.1";
}

TEST(HeadParserRequest, TargetSyntaxAndForms) {
  EXPECT_EQ(request_error("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::none);
  EXPECT_EQ(request_error("CONNECT a.com:443 HTTP/1.1\r\nHost: a.com:443\r\n\r\n"), HeadError::none);
  EXPECT_EQ(request_error("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET a.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET ftp://a.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET http://user@a.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
  EXPECT_EQ(request_error("GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n"), HeadError::bad_target);
}

TEST(HeadParserRequest, AbsoluteFormIsRoutedByItsAuthority) {
  auto p = parse_request("GET HTTP://Other.example.com:81/p?q HTTP/1.1\r\nHost: a.example.com\r\n\r\n");
  ASSERT_EQ(p->error, HeadError::none);
  EXPECT_EQ(p->head.form, TargetForm::absolute);
  EXPECT_EQ(p->head.host, "Other.example.com:81");
  EXPECT_EQ(p->head.target_path, "/p?q");
  EXPECT_EQ(p->head.path(), "/p");
}

TEST(HeadParserRequest, ContentLength) {
  auto same = parse_request(with_fields("Content-Length: 5\r\nContent-Length: 05, 5\r\n"));
  EXPECT_EQ(same->error, HeadError::none);
  EXPECT_EQ(same->head.content_length, 5u);
  EXPECT_EQ(request_error(with_fields("Content-Length: 5\r\nContent-Length: 6\r\n")),
            HeadError::conflicting_content_length);
  EXPECT_EQ(request_error(with_fields("Content-Length: 5, 6\r\n")), HeadError::conflicting_content_length);
  for (const char* bad : {"-1", "+5", "5 5", "0x10", "", "5,", "99999999999999999999", "1e3"})
    EXPECT_EQ(request_error(with_fields(std::string("Content-Length: ") + bad + "\r\n")),
              HeadError::bad_content_length)
        << bad;
}

TEST(HeadParserRequest, TransferEncodingMustEndInOneChunked) {
  auto gz = parse_request(with_fields("Transfer-Encoding: gzip, chunked\r\n"));
  ASSERT_EQ(gz->error, HeadError::none);
  EXPECT_EQ(gz->head.body, BodyKind::chunked);
  EXPECT_EQ(gz->head.codings.count, 2);
  for (const char* bad : {"chunked, chunked", "gzip, chunked, chunked", "chunked, gzip", "gzip", "identity",
                          "chunked, identity", "chunked;q=1", "", " , "})
    EXPECT_EQ(request_error(with_fields(std::string("Transfer-Encoding: ") + bad + "\r\n")),
              HeadError::bad_transfer_encoding)
        << bad;
  EXPECT_EQ(request_error(with_fields("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
            HeadError::bad_transfer_encoding);
  EXPECT_EQ(request_error(with_fields("Transfer-Encoding: xchunked\r\n")), HeadError::bad_transfer_encoding);
  EXPECT_EQ(request_error(with_fields("Transfer-Encoding: br, chunked\r\n")), HeadError::unknown_transfer_coding);
  EXPECT_EQ(request_error_status(HeadError::unknown_transfer_coding), 501);
}

TEST(HeadParserRequest, TransferEncodingWithContentLengthIsRefused) {
  EXPECT_EQ(request_error(with_fields("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")),
            HeadError::te_with_content_length);
  EXPECT_EQ(request_error(with_fields("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")),
            HeadError::te_with_content_length);
  EXPECT_EQ(request_error("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
            HeadError::te_in_http10);
}

TEST(HeadParserRequest, ExactlyOneValidHost) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: y\r\n\r\n"), HeadError::missing_host);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), HeadError::duplicate_host);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), HeadError::duplicate_host);
  for (const char* bad : {"a b", "a/b", "a.com:x", "a.com:123456", "[zz]", "a@b", "[::1"})
    EXPECT_EQ(request_error(std::string("GET / HTTP/1.1\r\nHost: ") + bad + "\r\n\r\n"), HeadError::bad_host) << bad;
  for (const char* good : {"a.com", "a.com:80", "[::1]:8080", "10.0.0.1", "x_y.example"})
    EXPECT_EQ(request_error(std::string("GET / HTTP/1.1\r\nHost: ") + good + "\r\n\r\n"), HeadError::none) << good;
  auto empty = parse_request("GET / HTTP/1.1\r\nHost:\r\n\r\n");
  EXPECT_EQ(empty->error, HeadError::none) << "an empty Host is gorouter's empty_host, answered by the proxy";
  EXPECT_TRUE(empty->head.has_host);
  auto old = parse_request("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old->error, HeadError::none);
  EXPECT_FALSE(old->head.has_host);
}

TEST(HeadParserRequest, ConnectionKeepAliveAndUpgrade) {
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\nHost: a\r\n\r\n")->head.keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n")->head.keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: x, close\r\n\r\n")->head.keep_alive);
  auto up = parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_TRUE(up->head.upgrade);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n")->head.upgrade);
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n")->head.upgrade);
  // Found by fuzz_request_head: an empty Upgrade line before the real one.
  auto second = parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade:\r\nUpgrade: ws\r\n\r\n");
  EXPECT_TRUE(second->head.upgrade);
  EXPECT_EQ(second->head.upgrade_protocol, "ws");
  auto listed = parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-One, x-two\r\nConnection: x-one\r\n\r\n");
  EXPECT_EQ(listed->head.connection.count, 2) << "tokens are kept once";
  EXPECT_TRUE(listed->head.connection.lists("X-TWO"));
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\nConnection: ";
  for (int i = 0; i < 20; ++i) many += "x-" + std::to_string(i) + ",";
  EXPECT_EQ(request_error(many + "\r\n\r\n"), HeadError::bad_connection);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n"), HeadError::bad_connection);
}

TEST(HeadParserResponse, FillsTheHead) {
  auto p = parse_response("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 1\r\n\r\nbusy");
  ASSERT_EQ(p->error, HeadError::none);
  EXPECT_EQ(p->head.status, 503);
  EXPECT_EQ(p->head.reason, "Service Unavailable");
  EXPECT_EQ(p->head.version, 10);
  EXPECT_FALSE(p->head.keep_alive);
  EXPECT_EQ(p->head.framing(false), BodyKind::length);
  EXPECT_EQ(p->head.content_length, 4u);
  EXPECT_EQ(p->consumed, p->text.size() - 4);
  EXPECT_EQ(parse_response("HTTP/1.1 200\r\n\r\n")->error, HeadError::none) << "an empty reason may drop its space";
}

TEST(HeadParserResponse, StatusLineSyntax) {
  EXPECT_EQ(response_error("HTTP/1.1 000 Zero\r\n\r\n"), HeadError::bad_status);
  EXPECT_EQ(response_error("HTTP/1.1 099 Low\r\n\r\n"), HeadError::bad_status);
  EXPECT_EQ(response_error("HTTP/1.1 2000 OK\r\n\r\n"), HeadError::bad_start_line);
  EXPECT_EQ(response_error("HTTP/1.1 20 OK\r\n\r\n"), HeadError::bad_status);
  EXPECT_EQ(response_error("HTTP/1.1 200 O\x01K\r\n\r\n"), HeadError::bad_start_line);
  EXPECT_EQ(response_error("HTTX/1.1 200 OK\r\n\r\n"), HeadError::bad_version);
}

TEST(HeadParserResponse, ObsFoldBecomesSpacesInPlace) {
  auto p = parse_response("HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(p->error, HeadError::none);
  EXPECT_EQ(p->head.find("x-long"), "one    two   three") << "CR LF and the fold's whitespace become spaces";
  EXPECT_EQ(p->text.find('\t'), std::string::npos);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\n folded-first\r\n\r\n"), HeadError::bad_field);
}

TEST(HeadParserResponse, FramingVerdicts) {
  auto both = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(both->error, HeadError::none);
  EXPECT_EQ(both->head.framing(false), BodyKind::chunked) << "Transfer-Encoding overrides Content-Length";
  EXPECT_FALSE(both->head.has_content_length) << "so the Content-Length is dropped, never relayed";
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\nContent-Length: 5\r\n\r\n"),
            HeadError::bad_transfer_encoding);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), HeadError::bad_transfer_encoding);
  EXPECT_EQ(response_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), HeadError::te_in_http10);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            HeadError::conflicting_content_length);
  auto eof = parse_response("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(eof->head.framing(false), BodyKind::until_close);
  EXPECT_EQ(eof->head.framing(true), BodyKind::none) << "a response to HEAD has no body";
  for (const char* status : {"100 Continue", "204 No Content", "304 Not Modified"})
    EXPECT_EQ(parse_response(std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 9\r\n\r\n")->head.framing(false),
              BodyKind::none)
        << status;
}

}  // namespace
}  // namespace sy::http
