// Fuzz harness: the registry message parser (sy::route::parse_route_message)
// and the two host/uri helpers the request path uses (parse_uri,
// normalize_host), all on the same input.
//
// Invariants:
//   - a parsed message has at least one uri, no two equal, each a valid route
//     key that parses back to itself; a port in 1..65535; a valid host; tags
//     sorted (the registry compares them);
//   - a ParseError's detail is short (it is logged; never the payload);
//   - parse_uri's result is lower-case, its path empty or "/..." without a
//     trailing slash, and parsing its str() again gives the same key;
//   - normalize_host gives a lower-case host without a port, and is idempotent.
#include <algorithm>
#include <string>
#include <variant>

#include "common/names/hostname.hpp"
#include "router/route/route_message.hpp"
#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

using route::Uri;

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_uri(const Uri& uri) {
  SY_FUZZ_CHECK(!uri.host.empty());
  SY_FUZZ_CHECK(!has_upper(uri.host) && !has_upper(uri.path));
  SY_FUZZ_CHECK(uri.path.empty() || (uri.path.front() == '/' && uri.path.back() != '/'));
  Uri again;
  SY_FUZZ_CHECK(route::parse_uri(uri.str(), &again));
  SY_FUZZ_CHECK(again == uri);
}

void check_message(const route::RouteMessage& msg) {
  SY_FUZZ_CHECK(!msg.uris.empty());
  for (size_t i = 0; i < msg.uris.size(); ++i) {
    check_uri(msg.uris[i]);
    for (size_t j = i + 1; j < msg.uris.size(); ++j) SY_FUZZ_CHECK(!(msg.uris[i] == msg.uris[j]));
  }
  SY_FUZZ_CHECK(msg.endpoint.port >= 1);  // uint16_t: <= 65535 by type
  SY_FUZZ_CHECK(names::valid_hostname(msg.endpoint.host));
  SY_FUZZ_CHECK(std::is_sorted(msg.endpoint.meta.tags.begin(), msg.endpoint.meta.tags.end()));
  const std::string& rs = msg.endpoint.meta.route_service_url;
  SY_FUZZ_CHECK(rs.empty() || rs.rfind("https", 0) == 0);
}

void check_normalize_host(std::string_view input) {
  std::string host;
  const bool ok = names::normalize_host(input, &host);
  SY_FUZZ_CHECK(ok == !host.empty());
  if (!ok) return;
  SY_FUZZ_CHECK(!has_upper(host));
  SY_FUZZ_CHECK(host.size() <= input.size());
  if (host.front() != '[') SY_FUZZ_CHECK(host.find(':') == std::string::npos);
  std::string again;
  SY_FUZZ_CHECK(names::normalize_host(host, &again) && again == host);
}

}  // namespace

int fuzz_route_message(const uint8_t* data, size_t size) {
  const std::string_view input = as_view(data, size);
  auto parsed = route::parse_route_message(input);
  if (auto* msg = std::get_if<route::RouteMessage>(&parsed)) {
    check_message(*msg);
  } else {
    SY_FUZZ_CHECK(std::get<route::ParseError>(parsed).detail.size() <= 128);
  }
  Uri uri;
  if (route::parse_uri(input, &uri)) check_uri(uri);
  check_normalize_host(input);
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_route_message)
