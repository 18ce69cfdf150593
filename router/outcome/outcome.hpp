#pragma once
// The outcome table: every way a request can fail — refused as malformed,
// unroutable, an endpoint that cannot be reached, an upstream that fails
// after the request reached it, a timeout, a forwarding loop — is one
// `Failure`, and its row says everything the proxy does about it: the status
// and `X-Cf-Routererror` the client sees (body "<code> <reason>: <message>\n",
// gorouter's error_handler), whether another attempt may follow and on what
// condition, and whether the client connection closes. The response head is
// rendered from that same row, so what the proxy does and what the client is
// told cannot disagree. Pure; any thread.
#include <cstdint>
#include <string>
#include <string_view>

#include "router/http/head_parser.hpp"

namespace sy::outcome {

enum class Failure : uint8_t {
  // The request itself, answered before any endpoint is tried.
  bad_request,               // 400 malformed head
  head_too_large,            // 431 max-request-size-exceeded
  not_implemented,           // 501 a transfer coding the router does not know
  version_not_supported,     // 505 HTTP/2 or later on an HTTP/1 connection
  empty_host,                // 400 empty_host
  invalid_app_instance,      // 400 invalid_cf_app_instance_header
  unknown_instance,          // 400 unknown_route (X-CF-APP-INSTANCE names no endpoint of the route)
  invalid_process_instance,  // 400 invalid_cf_process_instance_header
  unknown_process_instance,  // 400 unknown_route (X-CF-PROCESS-INSTANCE names none)
  // Routing.
  unknown_route,     // 404 unknown_route
  no_endpoints,      // 503 no_endpoints
  connection_limit,  // 503 every endpoint at backends.max_conns
  client_limit,      // 503 max_client_connections (sent as a new connection is refused)
  // A tunnel's edge policy (the agent's --allow / --basic-auth / --rate):
  // answered once the route is known, before any endpoint is tried.
  edge_unauthorized,  // 401 edge_unauthorized, with WWW-Authenticate: Basic realm="<host>"
  edge_forbidden,     // 403 edge_forbidden: the client's address is not on the allow-list
  edge_rate_limited,  // 429 edge_rate_limited, with Retry-After: 1
  // Reaching an endpoint: nothing reached the application, so another
  // endpoint may serve the request, whatever its method.
  dial_failed,      // 502 endpoint_failure (connection refused / reset / unreachable)
  dial_timeout,     // 502 endpoint_failure (dial timeout)
  // gorouter's TLS answers: 525 when the handshake failed (a backend that
  // does not speak TLS, a protocol alert), 526 when the backend's certificate
  // did not verify or names another instance (gorouter answers 503 to a SAN
  // mismatch; 526 says what went wrong).
  ssl_handshake_error,    // 525 endpoint_failure (tls: ...)
  ssl_certificate_error,  // 526 endpoint_failure (tls: ...)
  no_tunnel,        // 502 endpoint_failure (no tunnel session)
  holder_gone,      // 502 tunnel_not_here: the node forwarded to answered that it holds the tunnel no more
  head_not_sent,    // 502 endpoint_failure: the request head could not be written
  // After the request reached the application.
  eof_before_response,  // 502 endpoint_failure (EOF): retried only for a replayable request
  upstream_failed,      // 502 endpoint_failure (<cause>) while the response head was awaited
  malformed_response,   // 502 endpoint_failure (malformed response: ...)
  backend_timeout,      // 504 endpoint_failure (timeout)
  bad_request_body,     // 400 the client's chunked body broke its grammar
  forwarding_loop,      // 502 forwarding_loop: a request came back to the node that sent it
  tunnel_not_here,      // 502 tunnel_not_here: a forwarded request for a tunnel this node does not hold
  client_gone,          // nothing to answer: the client went away
};

// When a failed attempt may be followed by another (backends.max_attempts,
// never the same endpoint twice).
enum class Retry : uint8_t {
  never,
  always,         // nothing reached the application
  if_replayable,  // idempotent, no body, nothing of the body consumed
};

struct ErrorInfo {
  int status;
  std::string_view reason;          // "Bad Gateway"
  std::string_view router_error;    // X-Cf-Routererror; endpoint_failure gets " (<detail>)"
  std::string_view cache_control;   // empty = none
  std::string_view detail;          // default detail for endpoint_failure
  bool counts_as_bad_gateway;
  Retry retry;
  bool closes_client;  // the client connection closes after this answer
};

const ErrorInfo& error_info(Failure f);
// The row's name in snake case ("dial_timeout"): a metrics label.
std::string_view failure_name(Failure f);

// The answer to a request head the parser refused.
Failure request_failure(http::HeadError e);

// Whether a client connection stays open after answering `f`: the row
// allows it, the client asked for keep-alive, and no unread request body is
// left on the connection.
bool keeps_client(Failure f, bool client_keep_alive, bool unread_body);

// Full HTTP/1.1 response for `f`. `host` fills the route messages,
// `detail` the endpoint_failure reason ("connection refused") or, for
// unknown_instance / unknown_process_instance, the header's value.
// `close` adds `Connection: close` (from keeps_client()). The edge rows add
// their own header: WWW-Authenticate (401, realm = `host`) or Retry-After (429).
std::string error_response(Failure f, std::string_view host, std::string_view detail, std::string_view request_id,
                           bool close);

std::string error_message(Failure f, std::string_view host, std::string_view detail = {});
std::string router_error_value(Failure f, std::string_view detail);

}  // namespace sy::outcome
