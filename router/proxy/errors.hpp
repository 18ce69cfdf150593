#pragma once
// The one table that maps a routing/proxy failure to what the client sees:
// status, `X-Cf-Routererror`, body "<code> <reason>: <message>\n", caching,
// and which counter it bumps (gorouter's error_handler idea). Pure; any thread.
#include <string>
#include <string_view>

#include "router/http/head_parser.hpp"

namespace sy::proxy {

enum class Failure {
  empty_host,          // 400 empty_host
  bad_request,         // 400 malformed request (no X-Cf-Routererror in gorouter; we send bad_request)
  unknown_route,       // 404 unknown_route
  no_endpoints,        // 503 no_endpoints
  connection_limit,    // 503 Connection Limit Reached (backends.max_conns)
  endpoint_failure,    // 502 endpoint_failure (<reason>)
  backend_timeout,     // 504 endpoint_failure (timeout)
  head_too_large,      // 431 max-request-size-exceeded
  forwarding_loop,     // 502 forwarding_loop (tunnel node forwarded to itself)
  invalid_app_instance,  // 400 invalid_cf_app_instance_header (X-CF-APP-INSTANCE malformed)
  unknown_instance,      // 400 unknown_route (X-CF-APP-INSTANCE names no endpoint of the route)
  invalid_process_instance,  // 400 invalid_cf_process_instance_header
  unknown_process_instance,  // 400 unknown_route (X-CF-PROCESS-INSTANCE names no endpoint of the route)
  not_implemented,     // 501 a transfer coding the router does not know
  version_not_supported,  // 505 HTTP/2 or later on an HTTP/1 connection
  client_limit,        // 503 max_client_connections reached (sent as a new connection is refused)
  // Keep client_limit last, or move error_info's static_assert: its table has
  // one row per value.
};

struct ErrorInfo {
  int status;
  std::string_view reason;        // "Bad Gateway"
  std::string_view router_error;  // X-Cf-Routererror value (endpoint_failure gets "(reason)" appended)
  std::string_view cache_control;  // empty = none
  bool counts_as_bad_gateway;
};

const ErrorInfo& error_info(Failure f);

// The answer to a request head the parser refused.
Failure request_failure(http::HeadError e);

// Full HTTP/1.1 response for `f`. `host` fills the route messages,
// `detail` the endpoint_failure reason ("connection refused", "timeout") or,
// for unknown_instance / unknown_process_instance, the header's value.
// `close` adds `Connection: close`.
std::string error_response(Failure f, std::string_view host, std::string_view detail, std::string_view request_id,
                           bool close);

std::string error_message(Failure f, std::string_view host, std::string_view detail = {});
std::string router_error_value(Failure f, std::string_view detail);

}  // namespace sy::proxy
