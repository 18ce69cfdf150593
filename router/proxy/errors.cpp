#include "router/proxy/errors.hpp"

#include <iterator>

namespace sy::proxy {

const ErrorInfo& error_info(Failure f) {
  static const ErrorInfo kTable[] = {
      /* empty_host */ {400, "Bad Request", "empty_host", "public,max-age=2", false},
      /* bad_request */ {400, "Bad Request", "bad_request", "", false},
      /* unknown_route */ {404, "Not Found", "unknown_route", "no-cache, no-store", false},
      /* no_endpoints */ {503, "Service Unavailable", "no_endpoints", "public,max-age=2", false},
      /* connection_limit */ {503, "Service Unavailable", "Connection Limit Reached", "", false},
      /* endpoint_failure */ {502, "Bad Gateway", "endpoint_failure", "", true},
      /* backend_timeout */ {504, "Gateway Timeout", "endpoint_failure", "", false},
      /* head_too_large */ {431, "Request Header Fields Too Large", "max-request-size-exceeded", "", false},
      /* forwarding_loop */ {502, "Bad Gateway", "forwarding_loop", "", true},
      /* invalid_app_instance */ {400, "Bad Request", "invalid_cf_app_instance_header", "no-cache, no-store", false},
      /* unknown_instance */ {400, "Bad Request", "unknown_route", "no-cache, no-store", false},
      /* invalid_process_instance */
      {400, "Bad Request", "invalid_cf_process_instance_header", "no-cache, no-store", false},
      /* unknown_process_instance */ {400, "Bad Request", "unknown_route", "no-cache, no-store", false},
      /* not_implemented */ {501, "Not Implemented", "unsupported_transfer_coding", "", false},
      /* version_not_supported */ {505, "HTTP Version Not Supported", "unsupported_http_version", "", false},
      /* client_limit */ {503, "Service Unavailable", "client_connection_limit", "", false},
  };
  // One row per Failure, in order: a missing row is read past the table's end.
  static_assert(std::size(kTable) == static_cast<size_t>(Failure::client_limit) + 1);
  return kTable[static_cast<int>(f)];
}

Failure request_failure(http::HeadError e) {
  switch (http::request_error_status(e)) {
    case 431: return Failure::head_too_large;
    case 501: return Failure::not_implemented;
    case 505: return Failure::version_not_supported;
    default: return e == http::HeadError::missing_host ? Failure::empty_host : Failure::bad_request;
  }
}

std::string error_message(Failure f, std::string_view host, std::string_view detail) {
  std::string h(host);
  switch (f) {
    case Failure::empty_host: return "Request had empty Host header";
    case Failure::bad_request: return "Malformed request";
    case Failure::unknown_route: return "Requested route ('" + h + "') does not exist.";
    case Failure::no_endpoints: return "Requested route ('" + h + "') has no available endpoints.";
    case Failure::connection_limit: return "Requested route ('" + h + "') has reached the connection limit.";
    case Failure::endpoint_failure: return "Registered endpoint failed to handle the request.";
    case Failure::backend_timeout: return "Registered endpoint failed to respond in time.";
    case Failure::head_too_large: return "Request header fields too large";
    case Failure::forwarding_loop: return "Request was forwarded by a node that does not own the route.";
    case Failure::invalid_app_instance: return "Invalid X-CF-App-Instance Header";
    case Failure::not_implemented: return "Transfer-Encoding not implemented";
    case Failure::version_not_supported: return "HTTP version not supported";
    case Failure::client_limit: return "Too many client connections.";
    case Failure::invalid_process_instance: return "Invalid X-CF-Process-Instance Header";
    case Failure::unknown_instance:
    case Failure::unknown_process_instance: {  // detail: "<guid>[:<index>]", already validated
      const size_t colon = detail.find(':');
      const std::string index = colon == std::string_view::npos ? "" : std::string(detail.substr(colon + 1));
      return "Requested instance ('" + index + "') with " +
             (f == Failure::unknown_process_instance ? "process guid ('" : "guid ('") +
             std::string(detail.substr(0, colon)) + "') does not exist for route ('" + h + "')";
    }
  }
  return "";
}

std::string router_error_value(Failure f, std::string_view detail) {
  const ErrorInfo& info = error_info(f);
  std::string v(info.router_error);
  if (f == Failure::backend_timeout) return v + " (timeout)";
  if (f == Failure::endpoint_failure) v += " (" + std::string(detail.empty() ? "unknown" : detail) + ")";
  return v;
}

std::string error_response(Failure f, std::string_view host, std::string_view detail, std::string_view request_id,
                           bool close) {
  const ErrorInfo& info = error_info(f);
  std::string body =
      std::to_string(info.status) + " " + std::string(info.reason) + ": " + error_message(f, host, detail) + "\n";
  std::string out;
  out.reserve(256 + body.size());
  out += "HTTP/1.1 " + std::to_string(info.status) + " " + std::string(info.reason) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n";
  out += "X-Cf-Routererror: " + router_error_value(f, detail) + "\r\n";
  if (!info.cache_control.empty()) out += "Cache-Control: " + std::string(info.cache_control) + "\r\n";
  if (!request_id.empty()) out += "X-Vcap-Request-Id: " + std::string(request_id) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace sy::proxy
