#pragma once
// Host-name rules every binary shares: what a backend host, a DNS name, a
// host:port or a request's Host may look like, and how a Host header becomes
// a route-table key. Pure; any thread.
#include <string>
#include <string_view>

namespace sy::names {

// A registered backend host: letters, digits, '-', '_', '.' (case-folded),
// or an IPv6 literal without brackets; 1..253 bytes.
bool valid_hostname(std::string_view host);

// A DNS name (RFC 1123 labels of [a-z0-9-], 1..63 each, 253 in all);
// lower-cases `name` in place.
bool valid_dns_name(std::string& name);

// "host:port" or "[v6]:port" with a port in 1..65535.
bool valid_host_port(std::string_view text);

// A request's Host header as a route key: the port stripped (an IPv6
// literal keeps its brackets) and lower-cased. False when nothing is left.
bool normalize_host(std::string_view host_header, std::string* out);

// Lower-cases one ASCII letter; anything else as is.
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A byte of a host name as valid_hostname() accepts it (after lower()).
inline bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace sy::names
