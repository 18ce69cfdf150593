// Router error responses: status, X-Cf-Routererror, body text, headers and
// framing, checked as exact bytes and by re-parsing with the strict parser.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "router/outcome/outcome.hpp"
#include "tests/support/http_text.hpp"

namespace sy::outcome {
namespace {

// A complete error response: head by the strict parser, body = the rest.
struct Parsed {
  std::unique_ptr<test::ParsedResponse> response;
  const http::ResponseHead& head;
  std::string body;
  explicit Parsed(std::unique_ptr<test::ParsedResponse> r)
      : response(std::move(r)), head(response->head), body(response->text.substr(response->consumed)) {}
};

std::unique_ptr<Parsed> parse(std::string text) {
  auto r = test::parse_response(std::move(text));
  EXPECT_EQ(r->error, http::HeadError::none) << http::to_string(r->error);
  EXPECT_TRUE(r->complete);
  return std::make_unique<Parsed>(std::move(r));
}

int count(const http::ResponseHead& h, std::string_view name) {
  int n = 0;
  for (const http::Field& f : h.fields) n += http::iequals(f.name, name);
  return n;
}

TEST(ErrorsResponse, UnknownRouteExactBytes) {
  const std::string body = "404 Not Found: Requested route ('app.example.com') does not exist.\n";
  EXPECT_EQ(error_response(Failure::unknown_route, "app.example.com", "", "rid-1", false),
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Cf-Routererror: unknown_route\r\n"
            "Cache-Control: no-cache, no-store\r\n"
            "X-Vcap-Request-Id: rid-1\r\n"
            "Content-Length: 67\r\n"
            "\r\n" +
                body);
  EXPECT_EQ(body.size(), 67u);
}

struct Case {
  Failure failure;
  int status;
  std::string reason;
  std::string router_error;
  std::string body;
};

TEST(ErrorsResponse, EveryFailureHasStatusRouterErrorAndBody) {
  const Case cases[] = {
      {Failure::empty_host, 400, "Bad Request", "empty_host", "400 Bad Request: Request had empty Host header\n"},
      {Failure::unknown_route, 404, "Not Found", "unknown_route",
       "404 Not Found: Requested route ('h.example.com') does not exist.\n"},
      {Failure::no_endpoints, 503, "Service Unavailable", "no_endpoints",
       "503 Service Unavailable: Requested route ('h.example.com') has no available endpoints.\n"},
      {Failure::dial_failed, 502, "Bad Gateway", "endpoint_failure (connection refused)",
       "502 Bad Gateway: Registered endpoint failed to handle the request.\n"},
      {Failure::backend_timeout, 504, "Gateway Timeout", "endpoint_failure (timeout)",
       "504 Gateway Timeout: Registered endpoint failed to respond in time.\n"},
      {Failure::head_too_large, 431, "Request Header Fields Too Large", "max-request-size-exceeded",
       "431 Request Header Fields Too Large: Request header fields too large\n"},
      {Failure::invalid_app_instance, 400, "Bad Request", "invalid_cf_app_instance_header",
       "400 Bad Request: Invalid X-CF-App-Instance Header\n"},
      {Failure::invalid_process_instance, 400, "Bad Request", "invalid_cf_process_instance_header",
       "400 Bad Request: Invalid X-CF-Process-Instance Header\n"},
      {Failure::not_implemented, 501, "Not Implemented", "unsupported_transfer_coding",
       "501 Not Implemented: Transfer-Encoding not implemented\n"},
      {Failure::version_not_supported, 505, "HTTP Version Not Supported", "unsupported_http_version",
       "505 HTTP Version Not Supported: HTTP version not supported\n"},
      {Failure::client_limit, 503, "Service Unavailable", "client_connection_limit",
       "503 Service Unavailable: Too many client connections.\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.router_error);
    std::string text = error_response(c.failure, "h.example.com", "connection refused", "rid-9", false);
    auto p = parse(text);
    EXPECT_TRUE(text.starts_with("HTTP/1.1 " + std::to_string(c.status) + " " + c.reason + "\r\n")) << text;
    EXPECT_EQ(p->head.status, c.status);
    EXPECT_EQ(p->head.reason, c.reason);
    EXPECT_EQ(p->head.find("x-cf-routererror"), c.router_error);
    EXPECT_EQ(router_error_value(c.failure, "connection refused"), c.router_error);
    EXPECT_EQ(p->head.find("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(p->head.find("x-content-type-options"), "nosniff");
    EXPECT_EQ(p->head.find("x-vcap-request-id"), "rid-9");
    EXPECT_EQ(p->body, c.body);
    ASSERT_TRUE(p->head.has_content_length);
    EXPECT_EQ(p->head.content_length, p->body.size());
    EXPECT_EQ(count(p->head, "x-cf-routererror"), 1);
    EXPECT_EQ(count(p->head, "content-length"), 1);
    EXPECT_EQ(error_info(c.failure).status, c.status);
  }
}

TEST(ErrorsResponse, EveryFailureIsAWellFramedResponse) {
  for (Failure f : {Failure::empty_host, Failure::bad_request, Failure::unknown_route, Failure::no_endpoints,
                    Failure::connection_limit, Failure::dial_failed, Failure::backend_timeout,
                    Failure::head_too_large, Failure::forwarding_loop, Failure::invalid_app_instance,
                    Failure::invalid_process_instance, Failure::not_implemented, Failure::version_not_supported, Failure::client_limit,
                    Failure::edge_unauthorized, Failure::edge_forbidden, Failure::edge_rate_limited}) {
    const ErrorInfo& info = error_info(f);
    SCOPED_TRACE(std::string(info.router_error));
    auto p = parse(error_response(f, "x.example.com", "reset", "rid", false));
    EXPECT_EQ(p->head.status, info.status);
    EXPECT_FALSE(p->head.find("x-cf-routererror").empty());
    EXPECT_EQ(p->head.content_length, p->body.size());
    std::string prefix = std::to_string(info.status) + " " + std::string(info.reason) + ": ";
    EXPECT_TRUE(p->body.starts_with(prefix)) << p->body;
    EXPECT_TRUE(p->body.ends_with("\n"));
    EXPECT_EQ(p->body, prefix + error_message(f, "x.example.com") + "\n");
  }
}

// The parser's refusals map to the statuses it names (431, 501, 505, else
// 400), each a full row of the table.
TEST(ErrorsResponse, RequestHeadErrorsMapToTheirStatus) {
  EXPECT_EQ(error_info(request_failure(http::HeadError::too_many_fields)).status, 431);
  EXPECT_EQ(error_info(request_failure(http::HeadError::unknown_transfer_coding)).status, 501);
  EXPECT_EQ(error_info(request_failure(http::HeadError::unsupported_version)).status, 505);
  EXPECT_EQ(error_info(request_failure(http::HeadError::missing_host)).router_error, "empty_host");
  EXPECT_EQ(error_info(request_failure(http::HeadError::te_with_content_length)).status, 400);
}

TEST(ErrorsResponse, UnknownRouteIsNotCacheable) {
  auto p = parse(error_response(Failure::unknown_route, "a.com", "", "", false));
  EXPECT_EQ(p->head.find("cache-control"), "no-cache, no-store");
}

TEST(ErrorsResponse, EndpointFailureDetailVaries) {
  EXPECT_EQ(router_error_value(Failure::dial_failed, "tls handshake"), "endpoint_failure (tls handshake)");
  EXPECT_EQ(router_error_value(Failure::backend_timeout, "ignored"), "endpoint_failure (timeout)");
  EXPECT_EQ(router_error_value(Failure::backend_timeout, ""), "endpoint_failure (timeout)");
  EXPECT_EQ(router_error_value(Failure::no_endpoints, "ignored"), "no_endpoints");
  auto p = parse(error_response(Failure::dial_failed, "a.com", "connection reset", "", false));
  EXPECT_EQ(p->head.find("x-cf-routererror"), "endpoint_failure (connection reset)");
}

TEST(ErrorsResponse, CloseAddsConnectionClose) {
  auto closing = parse(error_response(Failure::no_endpoints, "a.com", "", "rid", true));
  EXPECT_EQ(closing->head.find("connection"), "close");
  EXPECT_FALSE(closing->head.keep_alive);
  auto keeping = parse(error_response(Failure::no_endpoints, "a.com", "", "rid", false));
  EXPECT_EQ(count(keeping->head, "connection"), 0);
  EXPECT_TRUE(keeping->head.keep_alive);
}

TEST(ErrorsResponse, RequestIdOmittedWhenEmpty) {
  auto p = parse(error_response(Failure::empty_host, "", "", "", false));
  EXPECT_EQ(count(p->head, "x-vcap-request-id"), 0);
  EXPECT_EQ(p->body, "400 Bad Request: Request had empty Host header\n");
}

TEST(ErrorsResponse, BadGatewayCounting) {
  EXPECT_TRUE(error_info(Failure::dial_failed).counts_as_bad_gateway);
  EXPECT_FALSE(error_info(Failure::unknown_route).counts_as_bad_gateway);
  EXPECT_FALSE(error_info(Failure::empty_host).counts_as_bad_gateway);
}

// One row decides retry and close, for the proxy and for the head it renders.
TEST(OutcomeTable, RetryRules) {
  for (Failure f : {Failure::dial_failed, Failure::dial_timeout, Failure::ssl_handshake_error,
                    Failure::ssl_certificate_error, Failure::no_tunnel,
                    Failure::holder_gone, Failure::head_not_sent})
    EXPECT_EQ(error_info(f).retry, Retry::always) << router_error_value(f, "");
  EXPECT_EQ(error_info(Failure::eof_before_response).retry, Retry::if_replayable);
  for (Failure f : {Failure::upstream_failed, Failure::malformed_response, Failure::backend_timeout,
                    Failure::forwarding_loop, Failure::bad_request_body, Failure::unknown_route})
    EXPECT_EQ(error_info(f).retry, Retry::never) << router_error_value(f, "");
}

TEST(OutcomeTable, BadGatewayAndTimeoutCloseTheClientA404DoesNot) {
  EXPECT_FALSE(keeps_client(Failure::dial_failed, true, false));
  EXPECT_FALSE(keeps_client(Failure::backend_timeout, true, false));
  EXPECT_TRUE(keeps_client(Failure::unknown_route, true, false));
  EXPECT_FALSE(keeps_client(Failure::unknown_route, false, false)) << "the client asked to close";
  EXPECT_FALSE(keeps_client(Failure::unknown_route, true, true)) << "an unread body stays on the connection";
  EXPECT_FALSE(keeps_client(Failure::bad_request, true, false));
}

TEST(OutcomeTable, TunnelAndLoopRows) {
  EXPECT_EQ(error_info(Failure::tunnel_not_here).status, 502);
  EXPECT_EQ(router_error_value(Failure::tunnel_not_here, ""), "tunnel_not_here");
  EXPECT_EQ(error_info(Failure::tunnel_not_here).retry, Retry::never) << "a forwarded request has nowhere else to go";
  EXPECT_EQ(router_error_value(Failure::holder_gone, ""), "tunnel_not_here");
  EXPECT_EQ(error_info(Failure::holder_gone).retry, Retry::always) << "the forwarding node tries another holder";
  EXPECT_EQ(router_error_value(Failure::forwarding_loop, ""), "forwarding_loop");
  EXPECT_EQ(router_error_value(Failure::no_tunnel, ""), "endpoint_failure (no tunnel session)");
  EXPECT_EQ(router_error_value(Failure::dial_timeout, ""), "endpoint_failure (dial timeout)");
}

// X-CF-APP-INSTANCE naming no endpoint: gorouter's 400 with unknown_route
// and the instance, guid and route in the message.
TEST(ErrorsResponse, UnknownInstanceNamesInstanceGuidAndRoute) {
  auto p = parse(error_response(Failure::unknown_instance, "dora.example.com",
                                "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:1", "rid", false));
  EXPECT_EQ(p->head.status, 400);
  EXPECT_EQ(p->head.find("x-cf-routererror"), "unknown_route");
  EXPECT_EQ(p->head.find("cache-control"), "no-cache, no-store");
  EXPECT_EQ(p->body,
            "400 Bad Request: Requested instance ('1') with guid ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') does not "
            "exist for route ('dora.example.com')\n");
  auto process = parse(error_response(Failure::unknown_process_instance, "dora.example.com",
                                      "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "rid", false));
  EXPECT_EQ(process->head.find("x-cf-routererror"), "unknown_route");
  EXPECT_EQ(process->body,
            "400 Bad Request: Requested instance ('') with process guid ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') "
            "does not exist for route ('dora.example.com')\n");
}

// A tunnel's edge policy: answered before any endpoint is tried, never
// retried, not a bad gateway, and the connection stays when the client
// allows. Each row's head is checked byte for byte.
TEST(EdgeRows, UnauthorizedExactBytesCarryTheBasicChallenge) {
  const std::string body = "401 Unauthorized: Requested route ('app.example.com') requires authentication.\n";
  const std::string text = error_response(Failure::edge_unauthorized, "app.example.com", "", "rid-1", false);
  EXPECT_EQ(text,
            "HTTP/1.1 401 Unauthorized\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Cf-Routererror: edge_unauthorized\r\n"
            "Cache-Control: no-cache, no-store\r\n"
            "WWW-Authenticate: Basic realm=\"app.example.com\"\r\n"
            "X-Vcap-Request-Id: rid-1\r\n"
            "Content-Length: 79\r\n"
            "\r\n" +
                body);
  EXPECT_EQ(body.size(), 79u);
  auto p = parse(text);
  EXPECT_EQ(p->head.status, 401);
  EXPECT_EQ(p->head.find("www-authenticate"), "Basic realm=\"app.example.com\"");
  EXPECT_EQ(p->body, body);
}

TEST(EdgeRows, ForbiddenExactBytes) {
  const std::string body =
      "403 Forbidden: Requested route ('app.example.com') does not accept requests from this address.\n";
  const std::string text = error_response(Failure::edge_forbidden, "app.example.com", "", "rid-2", true);
  EXPECT_EQ(text,
            "HTTP/1.1 403 Forbidden\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Cf-Routererror: edge_forbidden\r\n"
            "Cache-Control: no-cache, no-store\r\n"
            "X-Vcap-Request-Id: rid-2\r\n"
            "Content-Length: 95\r\n"
            "Connection: close\r\n"
            "\r\n" +
                body);
  EXPECT_EQ(body.size(), 95u);
  auto p = parse(text);
  EXPECT_EQ(count(p->head, "www-authenticate"), 0);
  EXPECT_EQ(count(p->head, "retry-after"), 0);
}

TEST(EdgeRows, RateLimitedExactBytesCarryRetryAfter) {
  const std::string body = "429 Too Many Requests: Requested route ('app.example.com') has exceeded its request rate.\n";
  const std::string text = error_response(Failure::edge_rate_limited, "app.example.com", "", "", false);
  EXPECT_EQ(text,
            "HTTP/1.1 429 Too Many Requests\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Cf-Routererror: edge_rate_limited\r\n"
            "Cache-Control: no-cache, no-store\r\n"
            "Retry-After: 1\r\n"
            "Content-Length: 90\r\n"
            "\r\n" +
                body);
  EXPECT_EQ(body.size(), 90u);
  auto p = parse(text);
  EXPECT_EQ(p->head.find("retry-after"), "1");
  EXPECT_EQ(count(p->head, "www-authenticate"), 0);
}

TEST(EdgeRows, RealmIsAQuotedString) {
  // A Host the parser let through must not break out of the quoted realm.
  const std::string text = error_response(Failure::edge_unauthorized, "a\"b\\c.example.com", "", "", false);
  EXPECT_NE(text.find("WWW-Authenticate: Basic realm=\"a\\\"b\\\\c.example.com\"\r\n"), std::string::npos) << text;
  auto p = parse(error_response(Failure::edge_unauthorized, "", "", "", false));
  EXPECT_EQ(p->head.find("www-authenticate"), "Basic realm=\"\"");
}

TEST(EdgeRows, NeverRetriedNotBadGatewayKeepTheClient) {
  for (Failure f : {Failure::edge_unauthorized, Failure::edge_forbidden, Failure::edge_rate_limited}) {
    SCOPED_TRACE(std::string(failure_name(f)));
    const ErrorInfo& info = error_info(f);
    EXPECT_EQ(info.retry, Retry::never);
    EXPECT_FALSE(info.counts_as_bad_gateway);
    EXPECT_FALSE(info.closes_client);
    EXPECT_TRUE(keeps_client(f, true, false));
    EXPECT_FALSE(keeps_client(f, true, true)) << "an unread body still closes";
    EXPECT_FALSE(keeps_client(f, false, false));
    EXPECT_EQ(router_error_value(f, "ignored"), failure_name(f)) << "the row name is the X-Cf-Routererror";
  }
  EXPECT_EQ(error_info(Failure::edge_unauthorized).status, 401);
  EXPECT_EQ(error_info(Failure::edge_forbidden).status, 403);
  EXPECT_EQ(error_info(Failure::edge_rate_limited).status, 429);
}

// Every row, by index up to client_gone (the bound of the Failure-indexed
// arrays in worker_stats, proxy_context and the dashboard feed), has a
// distinct name and a status.
TEST(OutcomeTable, EveryRowHasADistinctNameAndAStatus) {
  std::set<std::string_view> names;
  for (size_t i = 0; i <= static_cast<size_t>(Failure::client_gone); ++i) {
    const Failure f = static_cast<Failure>(i);
    EXPECT_FALSE(failure_name(f).empty()) << i;
    EXPECT_TRUE(names.insert(failure_name(f)).second) << failure_name(f);
    EXPECT_GE(error_info(f).status, 400) << failure_name(f);
  }
  EXPECT_EQ(failure_name(Failure::edge_unauthorized), "edge_unauthorized");
  EXPECT_EQ(failure_name(Failure::edge_forbidden), "edge_forbidden");
  EXPECT_EQ(failure_name(Failure::edge_rate_limited), "edge_rate_limited");
  EXPECT_EQ(failure_name(Failure::dial_failed), "dial_failed") << "rows after the edge rows keep their names";
  EXPECT_EQ(failure_name(Failure::client_gone), "client_gone");
}

}  // namespace
}  // namespace sy::outcome
