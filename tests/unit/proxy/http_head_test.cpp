// Request/response head rewrites (gorouter-compatible header handling) and the
// Beast callback parsers that fill the heads: raw text in, raw text out.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "router/proxy/http_head.hpp"
#include "tests/support/http_text.hpp"

namespace sy::proxy {
namespace {

using test::parse_request;
using test::parse_response;
using test::ParsedRequest;
using test::ParsedResponse;

// Parses `text` (must be a complete, valid head) and fails the test otherwise.
std::unique_ptr<ParsedRequest> request(std::string text) {
  auto p = parse_request(std::move(text));
  EXPECT_EQ(p->error, http::HeadError::none) << http::to_string(p->error) << "\n" << p->text;
  EXPECT_TRUE(p->complete) << p->text;
  return p;
}

std::unique_ptr<ParsedResponse> response(std::string text) {
  auto p = parse_response(std::move(text));
  EXPECT_EQ(p->error, http::HeadError::none) << http::to_string(p->error) << "\n" << p->text;
  EXPECT_TRUE(p->complete) << p->text;
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

// All values of header `name` in a written request head (re-parsed by the
// strict parser, so the output must be a valid HTTP head as well).
std::vector<std::string> request_values(const std::string& written, std::string_view name) {
  auto p = parse_request(written);
  EXPECT_EQ(p->error, http::HeadError::none) << http::to_string(p->error) << "\n" << written;
  EXPECT_TRUE(p->complete) << written;
  EXPECT_EQ(p->consumed, written.size()) << "written head must end with exactly one blank line";
  std::vector<std::string> out;
  for (const Field& f : p->head.fields)
    if (iequals(f.name, name)) out.emplace_back(f.value);
  return out;
}

std::vector<std::string> response_values(const std::string& written, std::string_view name) {
  auto p = parse_response(written);
  EXPECT_EQ(p->error, http::HeadError::none) << http::to_string(p->error) << "\n" << written;
  EXPECT_TRUE(p->complete) << written;
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

// forwarded_client_cert: always_forward leaves the client's header; forward
// and sanitize_set strip it (the session decides when); sanitize_set with a
// certificate adds the router's own value.
TEST(HttpHeadRequest, ForwardedClientCertKeptStrippedOrSet) {
  const std::string forged = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Client-Cert: forged\r\n\r\n";
  RequestRewrite rw = default_rewrite();
  EXPECT_EQ(request_values(upstream(forged, rw), "x-forwarded-client-cert"), Values{"forged"});
  rw.strip_client_cert = true;
  EXPECT_EQ(request_values(upstream(forged, rw), "x-forwarded-client-cert"), Values{});
  rw.client_cert = "MIIBcert";
  EXPECT_EQ(request_values(upstream(forged, rw), "x-forwarded-client-cert"), Values{"MIIBcert"});
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
  EXPECT_TRUE(upstream("GET /p%20q?x=%2F&y HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("GET /p%20q?x=%2F&y HTTP/1.1\r\n"));
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
  ASSERT_EQ(p->head.body, http::BodyKind::chunked) << "the router relays a chunked body";
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
      ResponseRewrite{"rid-1", false, false, {}, false});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "X-Vcap-Request-Id: rid-1\r\n"
            "Content-Length: 2\r\n"
            "\r\n");
}

TEST(HttpHeadResponse, AllHopByHopHeadersRemoved) {
  std::string out = client_response(
      "HTTP/1.1 200 OK\r\nProxy-Authenticate: Basic\r\nProxy-Connection: close\r\nUpgrade: h2\r\nTE: gzip\r\n"
      "Proxy-Authorization: x\r\nKeep-Alive: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      ResponseRewrite{"rid-1", false, false, {}, false});
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "upgrade"})
    EXPECT_EQ(response_values(out, name), Values{}) << name;
  EXPECT_EQ(response_values(out, "content-length"), Values{"0"});
}

TEST(HttpHeadResponse, BackendRequestIdIsKept) {
  std::string out = client_response("HTTP/1.1 204 No Content\r\nx-vcap-request-id: from-backend\r\n\r\n",
                                    ResponseRewrite{"rid-1", false, false, {}, false});
  EXPECT_EQ(response_values(out, "x-vcap-request-id"), Values{"from-backend"});
}

TEST(HttpHeadResponse, CloseAddsConnectionClose) {
  std::string out = client_response("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
                                    ResponseRewrite{"rid-1", true, false, {}, false});
  EXPECT_EQ(response_values(out, "connection"), Values{"close"});
  auto reparsed = response(out);
  EXPECT_FALSE(reparsed->head.keep_alive);
}

TEST(HttpHeadResponse, StatusLineAndReasonPassThrough) {
  std::string out =
      client_response("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n", ResponseRewrite{"", false, false, {}, false});
  EXPECT_EQ(out, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n") << "no request id to add when empty";
  EXPECT_EQ(client_response("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", ResponseRewrite{"", false, false, {}, false}),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
      << "the router's own version, not the backend's";
}

TEST(HttpHeadResponse, SwitchingProtocolsKeepsUpgradeHeadersWhenAsked) {
  const std::string backend =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  EXPECT_EQ(client_response(backend, ResponseRewrite{"rid-1", false, true, {}, false}),
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Vcap-Request-Id: rid-1\r\n\r\n");
  std::string stripped = client_response(backend, ResponseRewrite{"rid-1", false, false, {}, false});
  EXPECT_EQ(response_values(stripped, "connection"), Values{});
  EXPECT_EQ(response_values(stripped, "upgrade"), Values{});
}

TEST(HttpHeadResponse, KeepUpgradeStillRemovesOtherHopByHop) {
  std::string out = client_response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nKeep-Alive: 5\r\n\r\n",
      ResponseRewrite{"rid-1", false, true, {}, false});
  EXPECT_EQ(response_values(out, "keep-alive"), Values{});
  EXPECT_EQ(response_values(out, "upgrade"), Values{"websocket"});
}

TEST(HttpHeadResponse, ChunkedFramingKept) {
  std::string out = client_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    ResponseRewrite{"rid-1", false, false, {}, false});
  EXPECT_EQ(response_values(out, "transfer-encoding"), Values{"chunked"});
}

// The response body is relayed raw with its chunked framing; dropping
// Transfer-Encoding because the backend listed it in Connection makes the
// client read chunk syntax as body bytes until close.
TEST(HttpHeadResponse, ConnectionListedTransferEncodingIsStripped) {
  std::string out = client_response(
      "HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n",
      ResponseRewrite{"rid-1", false, false, {}, false});
  EXPECT_EQ(response_values(out, "transfer-encoding"), Values{"chunked"});
}

// ---------------------------------------------------------------- RequestHead helpers

TEST(HttpHeadHelpers, PathStripsQueryAndAbsoluteForm) {
  EXPECT_EQ(request("GET /a/b?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")->head.path(), "/a/b");
  EXPECT_EQ(request("GET http://host.example.com/p/q?z HTTP/1.1\r\nHost: a\r\n\r\n")->head.path(), "/p/q");
  EXPECT_EQ(request("GET http://host.example.com HTTP/1.1\r\nHost: a\r\n\r\n")->head.path(), "/");
  EXPECT_EQ(request("GET http://host.example.com?q HTTP/1.1\r\nHost: a\r\n\r\n")->head.path(), "/");
  EXPECT_EQ(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")->head.path(), "*");
}

// RFC 9112 §3.2.2: an absolute-form target's authority is the host; the
// backend gets origin-form and the Host the request was routed by.
TEST(HttpHeadRequest, AbsoluteFormGoesOutAsOriginFormWithItsHost) {
  std::string out = upstream("GET http://b.example.com/p?q=1 HTTP/1.1\r\nHost: a.example.com\r\n\r\n");
  EXPECT_TRUE(out.starts_with("GET /p?q=1 HTTP/1.1\r\n")) << out;
  EXPECT_EQ(request_values(out, "host"), Values{"b.example.com"});
  std::string bare = upstream("GET http://b.example.com?q HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(bare.starts_with("GET /?q HTTP/1.1\r\n")) << bare;
}

// The router writes its own framing lines from the parser's verdict.
TEST(HttpHeadRequest, FramingLinesAreTheRoutersOwn) {
  std::string cl = upstream("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 005, 5\r\n\r\n");
  EXPECT_EQ(request_values(cl, "content-length"), Values{"5"});
  std::string te = upstream("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: GZIP\r\ntransfer-encoding: , Chunked\r\n\r\n");
  EXPECT_EQ(request_values(te, "transfer-encoding"), Values{"gzip, chunked"});
}

TEST(HttpHeadRequest, HostSurvivesConnectionListing) {
  std::string out = upstream("GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: Host, X-Drop\r\nX-Drop: 1\r\n\r\n");
  EXPECT_EQ(request_values(out, "host"), Values{"a.example.com"});
  EXPECT_EQ(request_values(out, "x-drop"), Values{});
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
  EXPECT_EQ(p->head.body, http::BodyKind::none);
}

TEST(HttpHeadHelpers, HopByHopNames) {
  for (const char* n : {"Connection", "keep-alive", "PROXY-CONNECTION", "Proxy-Authenticate", "Proxy-Authorization",
                        "Upgrade", "TE"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
  for (const char* n : {"Content-Length", "Transfer-Encoding", "Host", "X-Forwarded-For", "Tee"})
    EXPECT_FALSE(is_hop_by_hop(n)) << n;
}

}  // namespace
}  // namespace sy::proxy
