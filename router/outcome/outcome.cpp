#include "router/outcome/outcome.hpp"

#include <charconv>

namespace sy::outcome {
namespace {

constexpr std::string_view kNoCache = "no-cache, no-store";
constexpr std::string_view kBriefly = "public,max-age=2";

// `s` as an HTTP quoted-string: '"' and '\\' escaped, control bytes dropped.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out + "\"";
}

// The one header a row adds beyond the common ones, if any.
std::string row_header(Failure f, std::string_view host) {
  switch (f) {
    case Failure::edge_unauthorized: return "WWW-Authenticate: Basic realm=" + quoted(host) + "\r\n";
    case Failure::edge_rate_limited: return "Retry-After: 1\r\n";
    default: return "";
  }
}

}  // namespace

const ErrorInfo& error_info(Failure f) {
  using R = Retry;
  // status, reason, router error, cache, detail, bad gateway, retry, closes
  static const ErrorInfo kTable[] = {
      /* bad_request */ {400, "Bad Request", "bad_request", "", "", false, R::never, true},
      /* head_too_large */
      {431, "Request Header Fields Too Large", "max-request-size-exceeded", "", "", false, R::never, true},
      /* not_implemented */ {501, "Not Implemented", "unsupported_transfer_coding", "", "", false, R::never, true},
      /* version_not_supported */
      {505, "HTTP Version Not Supported", "unsupported_http_version", "", "", false, R::never, true},
      /* empty_host */ {400, "Bad Request", "empty_host", kBriefly, "", false, R::never, false},
      /* invalid_app_instance */
      {400, "Bad Request", "invalid_cf_app_instance_header", kNoCache, "", false, R::never, false},
      /* unknown_instance */ {400, "Bad Request", "unknown_route", kNoCache, "", false, R::never, false},
      /* invalid_process_instance */
      {400, "Bad Request", "invalid_cf_process_instance_header", kNoCache, "", false, R::never, false},
      /* unknown_process_instance */ {400, "Bad Request", "unknown_route", kNoCache, "", false, R::never, false},
      /* unknown_route */ {404, "Not Found", "unknown_route", kNoCache, "", false, R::never, false},
      /* no_endpoints */ {503, "Service Unavailable", "no_endpoints", kBriefly, "", false, R::never, false},
      /* connection_limit */
      {503, "Service Unavailable", "Connection Limit Reached", "", "", false, R::never, false},
      /* client_limit */ {503, "Service Unavailable", "client_connection_limit", "", "", false, R::never, true},
      /* edge_unauthorized */ {401, "Unauthorized", "edge_unauthorized", kNoCache, "", false, R::never, false},
      /* edge_forbidden */ {403, "Forbidden", "edge_forbidden", kNoCache, "", false, R::never, false},
      /* edge_rate_limited */
      {429, "Too Many Requests", "edge_rate_limited", kNoCache, "", false, R::never, false},
      /* dial_failed */ {502, "Bad Gateway", "endpoint_failure", "", "dial failed", true, R::always, true},
      /* dial_timeout */ {502, "Bad Gateway", "endpoint_failure", "", "dial timeout", true, R::always, true},
      /* ssl_handshake_error */
      {525, "SSL Handshake Failed", "endpoint_failure", "", "tls handshake failed", false, R::always, true},
      /* ssl_certificate_error */
      {526, "Invalid SSL Certificate", "endpoint_failure", "", "tls certificate", false, R::always, true},
      /* no_tunnel */ {502, "Bad Gateway", "endpoint_failure", "", "no tunnel session", true, R::always, true},
      /* holder_gone */ {502, "Bad Gateway", "tunnel_not_here", "", "", true, R::always, true},
      /* head_not_sent */ {502, "Bad Gateway", "endpoint_failure", "", "write failed", true, R::always, true},
      /* eof_before_response */ {502, "Bad Gateway", "endpoint_failure", "", "EOF", true, R::if_replayable, true},
      /* upstream_failed */ {502, "Bad Gateway", "endpoint_failure", "", "read failed", true, R::never, true},
      /* malformed_response */
      {502, "Bad Gateway", "endpoint_failure", "", "malformed response", true, R::never, true},
      /* backend_timeout */ {504, "Gateway Timeout", "endpoint_failure", "", "timeout", false, R::never, true},
      /* bad_request_body */ {400, "Bad Request", "bad_request", "", "", false, R::never, true},
      /* forwarding_loop */ {502, "Bad Gateway", "forwarding_loop", "", "", true, R::never, true},
      /* tunnel_not_here */ {502, "Bad Gateway", "tunnel_not_here", "", "", false, R::never, true},
      /* client_gone */ {499, "Client Closed Request", "", "", "", false, R::never, true},
  };
  static_assert(sizeof kTable / sizeof kTable[0] == static_cast<size_t>(Failure::client_gone) + 1);
  return kTable[static_cast<size_t>(f)];
}

std::string_view failure_name(Failure f) {
  static constexpr std::string_view kNames[] = {
      "bad_request",        "head_too_large",   "not_implemented",     "version_not_supported",
      "empty_host",         "invalid_app_instance", "unknown_instance", "invalid_process_instance",
      "unknown_process_instance", "unknown_route", "no_endpoints",     "connection_limit",
      "client_limit",       "edge_unauthorized", "edge_forbidden",    "edge_rate_limited",
      "dial_failed",        "dial_timeout",     "ssl_handshake_error", "ssl_certificate_error",
      "no_tunnel",          "holder_gone",      "head_not_sent",       "eof_before_response",
      "upstream_failed",    "malformed_response", "backend_timeout",   "bad_request_body",
      "forwarding_loop",    "tunnel_not_here",  "client_gone",
  };
  static_assert(sizeof kNames / sizeof kNames[0] == static_cast<size_t>(Failure::client_gone) + 1);
  return kNames[static_cast<size_t>(f)];
}

Failure request_failure(http::HeadError e) {
  switch (http::request_error_status(e)) {
    case 431: return Failure::head_too_large;
    case 501: return Failure::not_implemented;
    case 505: return Failure::version_not_supported;
    default: return e == http::HeadError::missing_host ? Failure::empty_host : Failure::bad_request;
  }
}

bool keeps_client(Failure f, bool client_keep_alive, bool unread_body) {
  return !error_info(f).closes_client && client_keep_alive && !unread_body;
}

std::string error_message(Failure f, std::string_view host, std::string_view detail) {
  std::string h(host);
  switch (f) {
    case Failure::empty_host: return "Request had empty Host header";
    case Failure::bad_request:
    case Failure::bad_request_body: return "Malformed request";
    case Failure::head_too_large: return "Request header fields too large";
    case Failure::not_implemented: return "Transfer-Encoding not implemented";
    case Failure::version_not_supported: return "HTTP version not supported";
    case Failure::unknown_route: return "Requested route ('" + h + "') does not exist.";
    case Failure::no_endpoints: return "Requested route ('" + h + "') has no available endpoints.";
    case Failure::connection_limit: return "Requested route ('" + h + "') has reached the connection limit.";
    case Failure::client_limit: return "Too many client connections.";
    case Failure::edge_unauthorized: return "Requested route ('" + h + "') requires authentication.";
    case Failure::edge_forbidden: return "Requested route ('" + h + "') does not accept requests from this address.";
    case Failure::edge_rate_limited: return "Requested route ('" + h + "') has exceeded its request rate.";
    case Failure::backend_timeout: return "Registered endpoint failed to respond in time.";
    case Failure::tunnel_not_here:
    case Failure::holder_gone: return "The tunnel for this route is not held by this node.";
    case Failure::forwarding_loop: return "Request was forwarded by a node that does not own the route.";
    case Failure::invalid_app_instance: return "Invalid X-CF-App-Instance Header";
    case Failure::invalid_process_instance: return "Invalid X-CF-Process-Instance Header";
    case Failure::unknown_instance:
    case Failure::unknown_process_instance: {  // detail: "<guid>[:<index>]", already validated
      const size_t colon = detail.find(':');
      const std::string index = colon == std::string_view::npos ? "" : std::string(detail.substr(colon + 1));
      return "Requested instance ('" + index + "') with " +
             (f == Failure::unknown_process_instance ? "process guid ('" : "guid ('") +
             std::string(detail.substr(0, colon)) + "') does not exist for route ('" + h + "')";
    }
    case Failure::client_gone: return "";
    default: return "Registered endpoint failed to handle the request.";
  }
}

std::string router_error_value(Failure f, std::string_view detail) {
  const ErrorInfo& info = error_info(f);
  std::string v(info.router_error);
  const bool fixed = f == Failure::backend_timeout;  // always "(timeout)", as gorouter
  if (v == "endpoint_failure") v += " (" + std::string(detail.empty() || fixed ? info.detail : detail) + ")";
  return v;
}

std::string error_response(Failure f, std::string_view host, std::string_view detail, std::string_view request_id,
                           bool close) {
  const ErrorInfo& info = error_info(f);
  char status[4];
  std::to_chars(status, status + sizeof status, info.status);
  const std::string status_line = std::string(status, 3) + " " + std::string(info.reason);
  std::string body = status_line + ": " + error_message(f, host, detail) + "\n";
  std::string out;
  out.reserve(256 + body.size());
  out += "HTTP/1.1 " + status_line + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n";
  out += "X-Cf-Routererror: " + router_error_value(f, detail) + "\r\n";
  if (!info.cache_control.empty()) out += "Cache-Control: " + std::string(info.cache_control) + "\r\n";
  out += row_header(f, host);
  if (!request_id.empty()) out += "X-Vcap-Request-Id: " + std::string(request_id) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace sy::outcome
