#include "common/names/hostname.hpp"

#include <arpa/inet.h>

namespace sy::names {

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.find(':') != std::string_view::npos) {  // only an IPv6 literal may hold colons
    unsigned char addr[16];
    return inet_pton(AF_INET6, std::string(host).c_str(), addr) == 1;
  }
  for (char c : host)
    if (!host_char(lower(c))) return false;
  return true;
}

bool valid_dns_name(std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  char prev = '.';
  for (char& c : name) {
    c = lower(c);
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (alnum || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool valid_host_port(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) return false;
  long port = 0;
  for (char c : text.substr(colon + 1))
    if (c < '0' || c > '9' || (port = port * 10 + (c - '0')) > 65535) return false;
  return port >= 1;
}

bool normalize_host(std::string_view host, std::string* out) {
  out->clear();
  if (!host.empty() && host.front() == '[') {  // IPv6 literal: keep up to ']'
    const size_t end = host.find(']');
    host = host.substr(0, end == std::string_view::npos ? host.size() : end + 1);
  } else if (const size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  out->reserve(host.size());
  for (char c : host) out->push_back(lower(c));
  return !out->empty();
}

}  // namespace sy::names
