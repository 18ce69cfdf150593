// Request/response head rewrites (gorouter-compatible header handling) and the
// Beast callback parsers that fill the heads: raw text in, raw text out.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "router/proxy/http_parser.hpp"

namespace sy::proxy {
namespace {

// A parsed request: the text must outlive the head (fields are views into it),
// so both live in one heap object that never moves.
struct ParsedRequest {
  std::string text;
  RequestHead head;
  error_code ec;
  size_t consumed = 0;
  bool header_done = false;
};

std::unique_ptr<ParsedRequest> parse_request(std::string text, uint32_t limit = 64 * 1024) {
  auto p = std::make_unique<ParsedRequest>();
  p->text = std::move(text);
  RequestParser parser(p->head, limit);
  p->consumed = parser.put(boost::asio::buffer(p->text), p->ec);
  p->header_done = parser.is_header_done();
  return p;
}

struct ParsedResponse {
  std::string text;
  ResponseHead head;
  error_code ec;
  size_t consumed = 0;
  bool header_done = false;
};

std::unique_ptr<ParsedResponse> parse_response(std::string text) {
  auto p = std::make_unique<ParsedResponse>();
  p->text = std::move(text);
  ResponseParser parser(p->head);
  p->consumed = parser.put(boost::asio::buffer(p->text), p->ec);
  p->header_done = parser.is_header_done();
  return p;
}

// Parses `text` (must be a complete head) and fails the test otherwise.
std::unique_ptr<ParsedRequest> request(std::string text) {
  auto p = parse_request(std::move(text));
  EXPECT_FALSE(p->ec) << p->ec.message() << "\n" << p->text;
  EXPECT_TRUE(p->header_done) << p->text;
  return p;
}

std::unique_ptr<ParsedResponse> response(std::string text) {
  auto p = parse_response(std::move(text));
  EXPECT_FALSE(p->ec) << p->ec.message() << "\n" << p->text;
  EXPECT_TRUE(p->header_done) << p->text;
  return p;
}

RequestRewrite default_rewrite() {
  RequestRewrite rw;
  rw.client_ip = "10.0.0.9";
  rw.request_id = "rid-1";
  rw.now_ms = 1700000000123;
  rw.instance_id = "10.1.1.1:8080";
  return rw;
}

std::string upstream(const RequestHead& head, const RequestRewrite& rw) {
  std::string out;
  write_upstream_request(head, rw, &out);
  return out;
}

std::string upstream(const std::string& text, const RequestRewrite& rw = default_rewrite()) {
  auto p = request(text);
  return upstream(p->head, rw);
}

std::string client_response(const std::string& text, const ResponseRewrite& rw) {
  auto p = response(text);
  std::string out;
  write_client_response(p->head, rw, &out);
  return out;
}

// All values of header `name` in a written request head (re-parsed with Beast,
// so the output must be a valid HTTP head as well).
std::vector<std::string> request_values(const std::string& written, std::string_view name) {
  auto p = parse_request(written);
  EXPECT_FALSE(p->ec) << p->ec.message() << "\n" << written;
  EXPECT_TRUE(p->header_done) << written;
  EXPECT_EQ(p->consumed, written.size()) << "written head must end with exactly one blank line";
  std::vector<std::string> out;
  for (const Field& f : p->head.fields)
    if (iequals(f.name, name)) out.emplace_back(f.value);
  return out;
}

std::vector<std::string> response_values(const std::string& written, std::string_view name) {
  auto p = parse_response(written);
  EXPECT_FALSE(p->ec) << p->ec.message() << "\n" << written;
  EXPECT_TRUE(p->header_done) << written;
  std::vector<std::string> out;
  for (const Field& f : p->head.fields)
    if (iequals(f.name, name)) out.emplace_back(f.value);
  return out;
}

using Values = std::vector<std::string>;

// ---------------------------------------------------------------- requests

TEST(HttpHeadRequest, AddsRouterHeadersAndPassesTheRestInOrder) {
  std::string out = upstream("GET /p?q=1 HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: curl/8\r\n\r\n");
  EXPECT_EQ(out,
            "GET /p?q=1 HTTP/1.1\r\n"
            "Host: app.example.com\r\n"
            "User-Agent: curl/8\r\n"
            "X-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-Start: 1700000000123\r\n"
            "X-Vcap-Request-Id: rid-1\r\n"
            "X-CF-InstanceID: 10.1.1.1:8080\r\n"
            "\r\n");
}

TEST(HttpHeadRequest, AppendsClientIpToExistingForwardedFor) {
  std::string out = upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n");
  EXPECT_EQ(request_values(out, "x-forwarded-for"), Values{"1.1.1.1, 10.0.0.9"});
}

TEST(HttpHeadRequest, JoinsMultipleForwardedForHeadersBeforeAppending) {
  std::string out = upstream(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nAccept: */*\r\n"
      "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\nX-FORWARDED-FOR: 4.4.4.4\r\n\r\n");
  EXPECT_EQ(request_values(out, "x-forwarded-for"), Values{"1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 10.0.0.9"});
  EXPECT_EQ(request_values(out, "accept"), Values{"*/*"});
}

TEST(HttpHeadRequest, ForwardedProtoSetOnlyWhenAbsent) {
  RequestRewrite rw = default_rewrite();
  rw.forwarded_proto = "https";
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\n\r\n", rw), "x-forwarded-proto"), Values{"https"});
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: ws\r\n\r\n", rw),
                           "x-forwarded-proto"),
            Values{"ws"})
      << "a client value is kept when not forcing";
}

TEST(HttpHeadRequest, ForceForwardedProtoOverwritesClientValue) {
  RequestRewrite rw = default_rewrite();
  rw.forwarded_proto = "https";
  rw.force_forwarded_proto = true;
  std::string out = upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http\r\nx-forwarded-proto: ftp\r\n\r\n", rw);
  EXPECT_EQ(request_values(out, "x-forwarded-proto"), Values{"https"});
}

TEST(HttpHeadRequest, RequestStartSetOnlyWhenAbsent) {
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "x-request-start"), Values{"1700000000123"});
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Start: 42\r\n\r\n"), "x-request-start"),
            Values{"42"});
}

TEST(HttpHeadRequest, RequestIdAlwaysReplaced) {
  std::string out =
      upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Vcap-Request-Id: evil\r\nx-vcap-request-id: evil2\r\n\r\n");
  EXPECT_EQ(request_values(out, "x-vcap-request-id"), Values{"rid-1"});
}

TEST(HttpHeadRequest, CfHeadersComeFromTheEndpointOnly) {
  RequestRewrite rw = default_rewrite();
  rw.app_id = "app-guid";
  rw.instance_index = "3";
  rw.instance_id = "instance-guid";
  std::string out = upstream(
      "GET / HTTP/1.1\r\nHost: a\r\nX-CF-ApplicationID: fake-app\r\nx-cf-instanceindex: 99\r\n"
      "X-Cf-InstanceId: fake-instance\r\nX-CF-Proxy-Signature: forged\r\n\r\n",
      rw);
  EXPECT_EQ(request_values(out, "x-cf-applicationid"), Values{"app-guid"});
  EXPECT_EQ(request_values(out, "x-cf-instanceindex"), Values{"3"});
  EXPECT_EQ(request_values(out, "x-cf-instanceid"), Values{"instance-guid"});
  EXPECT_EQ(request_values(out, "x-cf-proxy-signature"), Values{});
}

TEST(HttpHeadRequest, EmptyAppIdAndIndexAreOmittedButInstanceIdIsAlwaysSent) {
  RequestRewrite rw = default_rewrite();
  rw.instance_id = "10.0.0.5:61000";
  std::string out =
      upstream("GET / HTTP/1.1\r\nHost: a\r\nX-CF-ApplicationID: fake-app\r\nX-CF-InstanceIndex: 7\r\n\r\n", rw);
  EXPECT_EQ(request_values(out, "x-cf-applicationid"), Values{}) << "client value removed, none added";
  EXPECT_EQ(request_values(out, "x-cf-instanceindex"), Values{});
  EXPECT_EQ(request_values(out, "x-cf-instanceid"), Values{"10.0.0.5:61000"});
}

TEST(HttpHeadRequest, HopByHopHeadersRemoved) {
  std::string out = upstream(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nProxy-Authorization: Basic Zm9v\r\n"
      "TE: gzip\r\nUpgrade: h2c\r\nX-Keep: yes\r\n\r\n");
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "upgrade"})
    EXPECT_EQ(request_values(out, name), Values{}) << name;
  EXPECT_EQ(request_values(out, "x-keep"), Values{"yes"});
}

TEST(HttpHeadRequest, TeTrailersIsKept) {
  EXPECT_EQ(request_values(upstream("POST / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nContent-Length: 0\r\n\r\n"), "te"),
            Values{"trailers"});
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nte: Trailers\r\n\r\n"), "te"), Values{"Trailers"});
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nTE: trailers, deflate\r\n\r\n"), "te"), Values{})
      << "any other TE value is hop-by-hop";
}

TEST(HttpHeadRequest, HeadersNamedInConnectionRemoved) {
  std::string out = upstream(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Custom ,\tx-other\r\nConnection: X-Third\r\n"
      "X-Custom: 1\r\nX-Other: 2\r\nX-Third: 3\r\nX-Keep: 4\r\n\r\n");
  EXPECT_EQ(request_values(out, "x-custom"), Values{});
  EXPECT_EQ(request_values(out, "x-other"), Values{});
  EXPECT_EQ(request_values(out, "x-third"), Values{}) << "tokens of every Connection header count";
  EXPECT_EQ(request_values(out, "x-keep"), Values{"4"});
  EXPECT_EQ(request_values(out, "connection"), Values{});
}

TEST(HttpHeadRequest, ProtectedHeadersSurviveConnectionListing) {
  std::string out = upstream(
      "GET / HTTP/1.1\r\nHost: a\r\n"
      "Connection: X-Forwarded-For, X-Forwarded-Proto, B3, X-B3, X-B3-SpanID, X-B3-TraceID, X-Request-Start, "
      "X-Forwarded-Client-Cert\r\n"
      "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\nB3: b3v\r\nX-B3: xb3v\r\nX-B3-SpanID: span\r\n"
      "X-B3-TraceID: trace\r\nX-Request-Start: 99\r\nX-Forwarded-Client-Cert: cert\r\n\r\n");
  EXPECT_EQ(request_values(out, "x-forwarded-for"), Values{"1.1.1.1, 10.0.0.9"});
  EXPECT_EQ(request_values(out, "x-forwarded-proto"), Values{"https"});
  EXPECT_EQ(request_values(out, "b3"), Values{"b3v"});
  EXPECT_EQ(request_values(out, "x-b3"), Values{"xb3v"});
  EXPECT_EQ(request_values(out, "x-b3-spanid"), Values{"span"});
  EXPECT_EQ(request_values(out, "x-b3-traceid"), Values{"trace"});
  EXPECT_EQ(request_values(out, "x-request-start"), Values{"99"});
  EXPECT_EQ(request_values(out, "x-forwarded-client-cert"), Values{"cert"});
}

TEST(HttpHeadRequest, BodyFramingHeadersKept) {
  std::string cl = upstream("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(request_values(cl, "content-length"), Values{"5"});
  std::string te = upstream("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(request_values(te, "transfer-encoding"), Values{"chunked"});
  EXPECT_TRUE(te.ends_with("\r\n\r\n")) << "only the head is written, never the body";
  EXPECT_EQ(te.find("hello"), std::string::npos);
}

TEST(HttpHeadRequest, FilterListRemovesMoreHeadersCaseInsensitively) {
  std::vector<std::string> filter = {"x-secret", "x-internal-token"};
  RequestRewrite rw = default_rewrite();
  rw.filter = &filter;
  std::string out =
      upstream("GET / HTTP/1.1\r\nHost: a\r\nX-Secret: s\r\nX-INTERNAL-TOKEN: t\r\nX-Public: p\r\n\r\n", rw);
  EXPECT_EQ(request_values(out, "x-secret"), Values{});
  EXPECT_EQ(request_values(out, "x-internal-token"), Values{});
  EXPECT_EQ(request_values(out, "x-public"), Values{"p"});
}

TEST(HttpHeadRequest, UpgradeRequestKeepsConnectionUpgrade) {
  auto p = request(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(p->head.upgrade);
  std::string out = upstream(p->head, default_rewrite());
  EXPECT_EQ(request_values(out, "connection"), Values{"Upgrade"});
  EXPECT_EQ(request_values(out, "upgrade"), Values{"websocket"});
  EXPECT_EQ(request_values(out, "sec-websocket-key"), Values{"dGhlIHNhbXBsZSBub25jZQ=="});
  EXPECT_EQ(request_values(out, "sec-websocket-version"), Values{"13"});
}

TEST(HttpHeadRequest, Http10GetsConnectionClose) {
  std::string out = upstream("GET /old HTTP/1.0\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(out.starts_with("GET /old HTTP/1.0\r\n")) << out;
  EXPECT_EQ(request_values(out, "connection"), Values{"close"});
}

TEST(HttpHeadRequest, CloseRewriteAddsConnectionCloseOtherwiseNone) {
  RequestRewrite rw = default_rewrite();
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", rw), "connection"),
            Values{})
      << "the client's own Connection header is hop-by-hop";
  rw.close = true;
  EXPECT_EQ(request_values(upstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", rw), "connection"),
            Values{"close"});
}

TEST(HttpHeadRequest, RequestLinePassesMethodAndTargetUnchanged) {
  EXPECT_TRUE(upstream("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("OPTIONS * HTTP/1.1\r\n"));
  EXPECT_TRUE(upstream("GET http://a.example.com/p%20q?x=%2F&y HTTP/1.1\r\nHost: a\r\n\r\n")
                  .starts_with("GET http://a.example.com/p%20q?x=%2F&y HTTP/1.1\r\n"));
  EXPECT_TRUE(upstream("PURGE /Cache//Path/../x?A=B HTTP/1.1\r\nHost: a\r\n\r\n")
                  .starts_with("PURGE /Cache//Path/../x?A=B HTTP/1.1\r\n"));
}

TEST(HttpHeadRequest, ExtraHeadersAppendedBeforeTheBlankLine) {
  RequestRewrite rw = default_rewrite();
  rw.extra_headers = "X-Forwarded-Client-Cert: abc\r\nX-Extra: 1\r\n";
  std::string out = upstream("GET / HTTP/1.1\r\nHost: a\r\n\r\n", rw);
  EXPECT_TRUE(out.ends_with("X-Forwarded-Client-Cert: abc\r\nX-Extra: 1\r\n\r\n")) << out;
  EXPECT_EQ(request_values(out, "x-extra"), Values{"1"});
}

// A client can name Content-Length in Connection; dropping it while the body
// is relayed raw leaves the backend reading the body as the next request
// (request smuggling). The framing headers must be kept, as the contract says.
TEST(HttpHeadRequest, ConnectionListedContentLengthIsStripped) {
  auto p = request("POST /u HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(p->head.content_length, 5u) << "the router relays a 5-byte body";
  std::string out = upstream(p->head, default_rewrite());
  EXPECT_EQ(request_values(out, "content-length"), Values{"5"});
}

TEST(HttpHeadRequest, ConnectionListedTransferEncodingIsStripped) {
  auto p = request(
      "POST /u HTTP/1.1\r\nHost: a\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(p->head.chunked) << "the router relays a chunked body";
  std::string out = upstream(p->head, default_rewrite());
  EXPECT_EQ(request_values(out, "transfer-encoding"), Values{"chunked"});
}

// `Connection: Upgrade` without an `Upgrade` header is not an upgrade request
// (gorouter/Go only switch to upgrade mode when Upgrade has a value); the
// router forwards a bogus empty `Upgrade:` header instead.
TEST(HttpHeadRequest, ConnectionUpgradeWithoutUpgradeHeaderSendsEmptyUpgrade) {
  auto p = request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_FALSE(p->head.upgrade) << "no Upgrade header: not an upgrade request";
  std::string out = upstream(p->head, default_rewrite());
  EXPECT_EQ(request_values(out, "upgrade"), Values{}) << out;
}

// ---------------------------------------------------------------- responses

TEST(HttpHeadResponse, RemovesHopByHopAndAddsRequestId) {
  std::string out = client_response(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Backend-Private\r\n"
      "Keep-Alive: timeout=5\r\nX-Backend-Private: p\r\nContent-Length: 2\r\n\r\nok",
      ResponseRewrite{"rid-1", false, false, {}});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 2\r\n"
            "X-Vcap-Request-Id: rid-1\r\n"
            "\r\n");
}

TEST(HttpHeadResponse, AllHopByHopHeadersRemoved) {
  std::string out = client_response(
      "HTTP/1.1 200 OK\r\nProxy-Authenticate: Basic\r\nProxy-Connection: close\r\nUpgrade: h2\r\nTE: gzip\r\n"
      "Proxy-Authorization: x\r\nKeep-Alive: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      ResponseRewrite{"rid-1", false, false, {}});
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "upgrade"})
    EXPECT_EQ(response_values(out, name), Values{}) << name;
  EXPECT_EQ(response_values(out, "content-length"), Values{"0"});
}

TEST(HttpHeadResponse, BackendRequestIdIsKept) {
  std::string out = client_response("HTTP/1.1 204 No Content\r\nx-vcap-request-id: from-backend\r\n\r\n",
                                    ResponseRewrite{"rid-1", false, false, {}});
  EXPECT_EQ(response_values(out, "x-vcap-request-id"), Values{"from-backend"});
}

TEST(HttpHeadResponse, CloseAddsConnectionClose) {
  std::string out = client_response("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
                                    ResponseRewrite{"rid-1", true, false, {}});
  EXPECT_EQ(response_values(out, "connection"), Values{"close"});
  auto reparsed = response(out);
  EXPECT_FALSE(reparsed->head.keep_alive);
}

TEST(HttpHeadResponse, StatusLineAndReasonPassThrough) {
  std::string out =
      client_response("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n", ResponseRewrite{"", false, false, {}});
  EXPECT_EQ(out, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n") << "no request id to add when empty";
}

TEST(HttpHeadResponse, SwitchingProtocolsKeepsUpgradeHeadersWhenAsked) {
  const std::string backend =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  EXPECT_EQ(client_response(backend, ResponseRewrite{"rid-1", false, true, {}}),
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Vcap-Request-Id: rid-1\r\n\r\n");
  std::string stripped = client_response(backend, ResponseRewrite{"rid-1", false, false, {}});
  EXPECT_EQ(response_values(stripped, "connection"), Values{});
  EXPECT_EQ(response_values(stripped, "upgrade"), Values{});
}

TEST(HttpHeadResponse, KeepUpgradeStillRemovesOtherHopByHop) {
  std::string out = client_response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nKeep-Alive: 5\r\n\r\n",
      ResponseRewrite{"rid-1", false, true, {}});
  EXPECT_EQ(response_values(out, "keep-alive"), Values{});
  EXPECT_EQ(response_values(out, "upgrade"), Values{"websocket"});
}

TEST(HttpHeadResponse, ChunkedFramingKept) {
  std::string out = client_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    ResponseRewrite{"rid-1", false, false, {}});
  EXPECT_EQ(response_values(out, "transfer-encoding"), Values{"chunked"});
}

// The response body is relayed raw with its chunked framing; dropping
// Transfer-Encoding because the backend listed it in Connection makes the
// client read chunk syntax as body bytes until close.
TEST(HttpHeadResponse, ConnectionListedTransferEncodingIsStripped) {
  std::string out = client_response(
      "HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n",
      ResponseRewrite{"rid-1", false, false, {}});
  EXPECT_EQ(response_values(out, "transfer-encoding"), Values{"chunked"});
}

// ---------------------------------------------------------------- RequestHead helpers

TEST(HttpHeadHelpers, PathStripsQueryAndAbsoluteForm) {
  RequestHead h;
  h.target = "/a/b?x=1";
  EXPECT_EQ(h.path(), "/a/b");
  h.target = "/a#frag";
  EXPECT_EQ(h.path(), "/a");
  h.target = "http://host.example.com/p/q?z";
  EXPECT_EQ(h.path(), "/p/q");
  h.target = "http://host.example.com";
  EXPECT_EQ(h.path(), "/");
  h.target = "*";
  EXPECT_EQ(h.path(), "/");
}

TEST(HttpHeadHelpers, IdempotentMethodsAndKeys) {
  auto get = request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(get->head.idempotent());
  auto post = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(post->head.idempotent());
  auto keyed = request("POST / HTTP/1.1\r\nHost: a\r\nIdempotency-Key: k\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(keyed->head.idempotent());
}

TEST(HttpHeadHelpers, FindIsCaseInsensitiveAndClearResets) {
  auto p = request("GET / HTTP/1.1\r\nHost: a\r\nX-Thing: one\r\nx-thing: two\r\n\r\n");
  EXPECT_EQ(p->head.find("X-THING"), "one");
  EXPECT_EQ(p->head.find("absent"), "");
  p->head.clear();
  EXPECT_TRUE(p->head.fields.empty());
  EXPECT_FALSE(p->head.has_host);
  EXPECT_EQ(p->head.method, "");
  EXPECT_FALSE(p->head.content_length.has_value());
}

TEST(HttpHeadHelpers, HopByHopNames) {
  for (const char* n : {"Connection", "keep-alive", "PROXY-CONNECTION", "Proxy-Authenticate", "Proxy-Authorization",
                        "Upgrade", "TE"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
  for (const char* n : {"Content-Length", "Transfer-Encoding", "Host", "X-Forwarded-For", "Tee"})
    EXPECT_FALSE(is_hop_by_hop(n)) << n;
}

// ---------------------------------------------------------------- Beast parsers

TEST(HttpHeadParser, FillsRequestHead) {
  auto p = request(
      "POST /submit?x=1 HTTP/1.1\r\nHost: App.Example.com:8080\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world");
  EXPECT_EQ(p->head.method, "POST");
  EXPECT_EQ(p->head.target, "/submit?x=1");
  EXPECT_EQ(p->head.version, 11);
  ASSERT_EQ(p->head.fields.size(), 3u);
  EXPECT_EQ(p->head.fields[0].name, "Host");
  EXPECT_EQ(p->head.fields[2].value, "1");
  EXPECT_TRUE(p->head.has_host);
  EXPECT_EQ(p->head.host, "App.Example.com:8080");
  EXPECT_TRUE(p->head.keep_alive);
  EXPECT_FALSE(p->head.chunked);
  EXPECT_EQ(p->head.content_length, 11u);
  EXPECT_TRUE(p->head.has_body());
  EXPECT_EQ(p->consumed, p->text.size() - 11) << "put stops after the head; the body is relayed separately";
}

TEST(HttpHeadParser, KeepAliveAndChunkedFlags) {
  EXPECT_FALSE(request("GET / HTTP/1.0\r\nHost: a\r\n\r\n")->head.keep_alive);
  EXPECT_TRUE(request("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")->head.keep_alive);
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")->head.keep_alive);
  auto chunked = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(chunked->head.chunked);
  EXPECT_TRUE(chunked->head.has_body());
  auto none = request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(none->head.has_body());
  EXPECT_FALSE(none->head.content_length.has_value());
}

TEST(HttpHeadParser, MissingAndDuplicateHost) {
  auto missing = request("GET / HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(missing->head.has_host);
  auto dup = request("GET / HTTP/1.1\r\nHost: first\r\nHost: second\r\n\r\n");
  EXPECT_TRUE(dup->head.has_host);
  EXPECT_EQ(dup->head.host, "first");
}

TEST(HttpHeadParser, ChunkedAndContentLengthConflictRejected) {
  auto te_first = parse_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(te_first->ec, http::error::bad_content_length);
  auto cl_first = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(cl_first->ec, http::error::bad_transfer_encoding);
  auto resp = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(resp->ec) << "responses are checked too";
}

TEST(HttpHeadParser, ConflictingContentLengthsRejected) {
  auto p = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
  EXPECT_EQ(p->ec, http::error::multiple_content_length);
  auto dup_chunked =
      parse_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(dup_chunked->ec, http::error::bad_transfer_encoding);
}

TEST(HttpHeadParser, HeaderOverLimit) {
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(300, 'x') + "\r\n\r\n";
  EXPECT_EQ(parse_request(big, 128)->ec, http::error::header_limit);
  EXPECT_FALSE(parse_request(big, 1024)->ec) << "the same head fits a larger limit";
  std::string partial = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(300, 'x');
  EXPECT_EQ(parse_request(partial, 128)->ec, http::error::header_limit) << "no need to wait for the end";
  EXPECT_EQ(parse_request(partial, 1024)->ec, http::error::need_more);
}

TEST(HttpHeadParser, IncompleteHeadNeedsMore) {
  const std::string full = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t n = 1; n < full.size(); ++n) {
    auto p = parse_request(full.substr(0, n));
    EXPECT_EQ(p->ec, http::error::need_more) << n;
    EXPECT_FALSE(p->header_done) << n;
  }
}

TEST(HttpHeadParser, PipelinedSecondRequestNotConsumed) {
  const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET /two HTTP/1.1\r\nHost: b\r\n\r\n";
  auto p = request(first + second);
  EXPECT_EQ(p->consumed, first.size());
  EXPECT_EQ(p->head.target, "/one");
  EXPECT_EQ(p->head.fields.size(), 1u) << "second request's fields not collected";
  auto next = request(p->text.substr(p->consumed));
  EXPECT_EQ(next->head.target, "/two");
  EXPECT_EQ(next->head.host, "b");
}

TEST(HttpHeadParser, PipelinedAfterContentLengthBodyConsumesOnlyTheHead) {
  const std::string first = "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  auto p = request(first + "abcGET /two HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_EQ(p->consumed, first.size());
}

TEST(HttpHeadParser, FillsResponseHead) {
  auto p = response("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 1\r\n\r\nbusy");
  EXPECT_EQ(p->head.status, 503);
  EXPECT_EQ(p->head.reason, "Service Unavailable");
  EXPECT_EQ(p->head.version, 10);
  EXPECT_FALSE(p->head.keep_alive);
  EXPECT_EQ(p->head.content_length, 4u);
  EXPECT_EQ(p->head.find("retry-after"), "1");
  EXPECT_EQ(p->consumed, p->text.size() - 4);
  auto chunked = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(chunked->head.chunked);
  EXPECT_TRUE(chunked->head.keep_alive);
}

}  // namespace
}  // namespace sy::proxy
