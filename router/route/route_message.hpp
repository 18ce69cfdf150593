#pragma once
// Parsing of gorouter registry messages (`router.register` /
// `router.unregister`). Pure functions: no state, no I/O, callable from any
// thread (they run on nats.c's delivery thread).
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/names/uri.hpp"
#include "router/route/endpoint.hpp"

namespace sy::route {

// Registered uris (gorouter's RouteKey) are parsed by the shared rules.
using names::Uri;
using names::parse_uri;

struct RouteMessage {
  EndpointSpec endpoint;
  std::vector<Uri> uris;
};

// Why a message was dropped; also the `cause` label of the invalid-message counter.
enum class InvalidCause {
  not_json,        // not parseable JSON (or empty)
  not_object,      // JSON but not an object
  wrong_type,      // a known field has the wrong JSON type
  missing_host,
  invalid_host,
  missing_port,    // neither port nor tls_port
  invalid_port,    // outside 1..65535
  missing_uris,    // absent or empty
  invalid_uri,     // not a plain host[/path]
  invalid_route_service_url,  // must start with https (gorouter rule)
  too_large,       // payload over kMaxMessageBytes
};
inline constexpr int kInvalidCauseCount = 11;
const char* to_string(InvalidCause cause);

inline constexpr size_t kMaxMessageBytes = 256 * 1024;

struct ParseError {
  InvalidCause cause;
  std::string detail;  // short, safe to log (never the whole payload)
};

std::variant<RouteMessage, ParseError> parse_route_message(std::string_view payload);



}  // namespace sy::route
