#include "tests/support/forwarded_check.hpp"

#include <algorithm>
#include <string_view>

namespace sy::test {
namespace {

// Headers a proxy writes itself or replaces: they may appear, change or go.
bool proxy_owned(std::string_view name) {
  static constexpr std::string_view kOwned[] = {
      "connection",       "keep-alive",         "proxy-connection",  "te",
      "upgrade",          "transfer-encoding",  "content-length",    "expect",
      "proxy-authorization", "proxy-authenticate", "x-forwarded-for", "x-forwarded-proto",
      "x-request-start",  "x-vcap-request-id",  "x-cf-applicationid", "x-cf-instanceindex",
      "x-cf-instanceid",  "x-cf-app-instance",  "x-cf-process-instance", "x-cf-proxy-signature",
      "host"};
  return std::any_of(std::begin(kOwned), std::end(kOwned), [&](std::string_view o) { return equal_nocase(o, name); });
}

// Headers the client listed in Connection are hop-by-hop: a proxy drops them.
bool listed_in_connection(const FramedRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (!equal_nocase(n, "connection")) continue;
    std::string_view list = v;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view token = list.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (equal_nocase(token, name)) return true;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return false;
}

std::vector<std::string> values(const FramedRequest& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers)
    if (equal_nocase(n, name)) out.push_back(v);
  return out;
}

std::string header_difference(const FramedRequest& sent, const FramedRequest& seen) {
  for (const auto& [name, value] : sent.headers) {
    if (proxy_owned(name) || listed_in_connection(sent, name)) continue;
    if (values(sent, name) != values(seen, name))
      return "header " + name + " sent as '" + printable(value) + "', forwarded as '" + printable(seen.header(name)) + "'";
  }
  for (const auto& [name, value] : seen.headers) {
    if (proxy_owned(name)) continue;
    if (listed_in_connection(sent, name)) return "header " + name + " was listed in Connection but forwarded";
    if (sent.count(name) == 0) return "foreign header " + name + ": '" + printable(value) + "'";
  }
  return "";
}

}  // namespace

std::string forwarding_difference(const FramedRequest& sent, const FramedRequest& seen) {
  if (!seen.ambiguities.empty()) return "the backend could read it two ways: " + seen.ambiguities[0];
  if (seen.method != sent.method) return "method " + sent.method + " forwarded as " + printable(seen.method);
  if (seen.target != sent.origin_target())
    return "target " + printable(sent.target) + " forwarded as " + printable(seen.target);
  if (seen.count("host") != 1 || seen.host() != sent.host())
    return "Host '" + printable(sent.host()) + "' forwarded as '" + printable(seen.header("host")) + "' (" +
           std::to_string(seen.count("host")) + " lines)";
  if (seen.body != sent.body)
    return "body of " + std::to_string(sent.body.size()) + " bytes forwarded as " + std::to_string(seen.body.size()) +
           " bytes '" + printable(seen.body.substr(0, 80)) + "'";
  return header_difference(sent, seen);
}

std::string match_forwarded(const std::vector<FramedRequest>& sent, const std::vector<FramedRequest>& seen) {
  size_t next = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    std::string first_difference;
    size_t j = next;
    for (; j < sent.size(); ++j) {
      const std::string difference = forwarding_difference(sent[j], seen[i]);
      if (difference.empty()) break;
      if (first_difference.empty()) first_difference = difference;
    }
    if (j == sent.size()) {
      return "backend request " + std::to_string(i + 1) + " (" + printable(seen[i].describe()) +
             ") is not one the client sent" + (first_difference.empty() ? "" : ": " + first_difference);
    }
    next = j + 1;
  }
  return "";
}

}  // namespace sy::test
