#include "common/names/uri.hpp"

#include "common/names/hostname.hpp"

namespace sy::names {
namespace {

// RFC 3986 pchar plus '/', minus '?' and '#'.
bool path_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/%").find(c) != std::string_view::npos;
}

}  // namespace

bool parse_uri(std::string_view text, Uri* out) {
  if (text.empty() || text.size() > 1024) return false;
  size_t slash = text.find('/');
  std::string_view host = text.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
  if (host.empty() || host.size() > 253) return false;
  out->host.clear();
  for (size_t i = 0; i < host.size(); ++i) {
    char c = lower(host[i]);
    bool wildcard = c == '*' && i == 0 && host.size() > 2 && host[1] == '.';
    if (!host_char(c) && !wildcard) return false;
    out->host += c;
  }
  if (out->host.front() == '.' || out->host.back() == '.' || out->host.find("..") != std::string::npos) return false;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out->path.clear();
  for (char c : path) {
    if (!path_char(c)) return false;
    out->path += lower(c);
  }
  return true;
}

}  // namespace sy::names
