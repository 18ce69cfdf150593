#include "tunnel/server/socks_codec.hpp"

#include <arpa/inet.h>

namespace sy::tunnel::socks {

namespace {
uint8_t byte(std::string_view in, size_t i) { return static_cast<uint8_t>(in[i]); }
}  // namespace

Greeting parse_greeting(std::string_view in, bool want_credentials) {
  Greeting g;
  if (in.size() < 2) return g;
  if (byte(in, 0) != kVersion || byte(in, 1) == 0) {
    g.status = Parse::bad;
    return g;
  }
  const size_t n = byte(in, 1);
  if (in.size() < 2 + n) return g;
  const uint8_t wanted = want_credentials ? kUserPass : kNoAuth;
  for (size_t i = 0; i < n; ++i)
    if (byte(in, 2 + i) == wanted) g.method = wanted;
  g.length = 2 + n;
  g.status = Parse::ok;
  return g;
}

Credentials parse_credentials(std::string_view in) {
  Credentials c;
  if (in.size() < 2) return c;
  if (byte(in, 0) != 0x01) {
    c.status = Parse::bad;
    return c;
  }
  const size_t ulen = byte(in, 1);
  if (in.size() < 2 + ulen + 1) return c;
  const size_t plen = byte(in, 2 + ulen);
  if (in.size() < 3 + ulen + plen) return c;
  c.user = std::string(in.substr(2, ulen));
  c.pass = std::string(in.substr(3 + ulen, plen));
  c.length = 3 + ulen + plen;
  c.status = Parse::ok;
  return c;
}

Request parse_request(std::string_view in) {
  Request r;
  if (in.size() < 5) return r;
  if (byte(in, 0) != kVersion || byte(in, 2) != 0) {
    r.status = Parse::bad;
    return r;
  }
  const uint8_t cmd = byte(in, 1), atyp = byte(in, 3);
  size_t addr_len = 0, addr_at = 4;
  if (atyp == 0x01) {
    addr_len = 4;
  } else if (atyp == 0x04) {
    addr_len = 16;
  } else if (atyp == 0x03) {
    addr_len = byte(in, 4);
    addr_at = 5;
  } else {
    r.status = Parse::bad;
    r.reply = kAddressNotSupported;
    return r;
  }
  if (in.size() < addr_at + addr_len + 2) return r;
  r.length = addr_at + addr_len + 2;
  if (cmd != 0x01) {
    r.status = Parse::bad;
    r.reply = kCommandNotSupported;
    return r;
  }
  const std::string_view addr = in.substr(addr_at, addr_len);
  if (atyp == 0x03) {
    if (addr.empty()) return r.status = Parse::bad, r;
    r.host = std::string(addr);
  } else {
    char text[INET6_ADDRSTRLEN];
    ::inet_ntop(atyp == 0x01 ? AF_INET : AF_INET6, addr.data(), text, sizeof text);
    r.host = text;
  }
  r.port = static_cast<uint16_t>(byte(in, addr_at + addr_len) << 8 | byte(in, addr_at + addr_len + 1));
  r.status = r.port == 0 ? Parse::bad : Parse::ok;
  return r;
}

std::array<char, 10> reply(uint8_t code) {
  return {static_cast<char>(kVersion), static_cast<char>(code), 0, 0x01, 0, 0, 0, 0, 0, 0};
}

}  // namespace sy::tunnel::socks
