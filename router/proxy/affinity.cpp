#include "router/proxy/affinity.hpp"

#include <algorithm>

namespace sy::proxy {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(name, value) for each `name=value` of a Cookie header (or each
// attribute of a Set-Cookie line; a bare attribute has an empty value) until
// f returns false.
template <typename F>
void each_pair(std::string_view header, F&& f) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view item = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    std::string_view name = trim(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view() : trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!f(name, value)) return;
  }
}

bool is_session_cookie(std::string_view name, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n == name; });
}

std::string_view cookie_name(std::string_view set_cookie) {
  return trim(set_cookie.substr(0, std::min(set_cookie.find('='), set_cookie.find(';'))));
}

}  // namespace

namespace {

constexpr size_t kGuid = 36;  // 8-4-4-4-12, lower-case hex

// `<guid>` optionally followed by `:<digits>`.
bool parse_guid_index(std::string_view v, bool index_required, std::string_view* guid, std::string_view* index) {
  if (v.size() < kGuid) return false;
  for (size_t i = 0; i < kGuid; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !is_hex(v[i])) return false;
  }
  std::string_view digits;
  if (v.size() > kGuid) {
    if (v[kGuid] != ':') return false;
    digits = v.substr(kGuid + 1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return false;
  } else if (index_required) {
    return false;
  }
  *guid = v.substr(0, kGuid);
  *index = digits;
  return true;
}

}  // namespace

bool parse_app_instance(std::string_view v, std::string_view* guid, std::string_view* index) {
  return parse_guid_index(v, true, guid, index);
}

bool parse_process_instance(std::string_view v, std::string_view* guid, std::string_view* index) {
  return parse_guid_index(v, false, guid, index);
}

std::string_view sticky_instance(const RequestHead& head, const std::vector<std::string>& session_cookies) {
  std::string_view vcap;
  bool session = false;
  for (const Field& f : head.fields) {
    if (f.kind != FieldKind::cookie) continue;
    each_pair(f.value, [&](std::string_view name, std::string_view value) {
      if (name == kVcapCookie) {
        vcap = value;
      } else if (is_session_cookie(name, session_cookies)) {
        session = true;
      }
      return true;
    });
  }
  return session ? vcap : std::string_view();
}

std::string sticky_set_cookie(const ResponseHead& head, const StickyResponse& s) {
  if (s.served.empty()) return {};
  const Field* session = nullptr;
  for (const Field& f : head.fields) {
    if (f.kind != FieldKind::set_cookie) continue;
    const std::string_view name = cookie_name(f.value);
    if (name == kVcapCookie) return {};  // the app manages it
    if (!session && s.session_cookies && is_session_cookie(name, *s.session_cookies)) session = &f;
  }
  const bool moved = !s.requested.empty() && s.requested != s.served;
  if (!session && !moved) return {};

  std::string_view expires, same_site;
  bool secure = s.secure_cookies, partitioned = false, deleting = false;
  if (session) {
    bool first = true;  // the first pair is the cookie itself
    each_pair(session->value, [&](std::string_view name, std::string_view value) {
      if (first) {
        first = false;
      } else if (iequals(name, "expires")) {
        expires = value;
      } else if (iequals(name, "max-age")) {
        deleting = !value.empty() && (value.front() == '-' || value == "0");
      } else if (iequals(name, "secure")) {
        secure = true;
      } else if (iequals(name, "samesite")) {
        same_site = value;
      } else if (iequals(name, "partitioned")) {
        partitioned = true;
      }
      return true;
    });
  }
  std::string line = "Set-Cookie: ";
  line.append(kVcapCookie).append("=").append(s.served);
  line.append("; Path=").append(s.path.empty() ? std::string_view("/") : s.path);
  if (!expires.empty()) line.append("; Expires=").append(expires);
  if (deleting) line.append("; Max-Age=0");
  line.append("; HttpOnly");
  if (secure) line.append("; Secure");
  if (!same_site.empty()) line.append("; SameSite=").append(same_site);
  if (partitioned) line.append("; Partitioned");
  line.append("\r\n");
  return line;
}

}  // namespace sy::proxy
