#pragma once
// SOCKS5 as the entry speaks it (RFC 1928, username/password RFC 1929):
// the three client messages parsed from whatever has arrived, and the
// replies. Only CONNECT; no GSSAPI. Pure; any thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::tunnel::socks {

inline constexpr uint8_t kVersion = 5;
inline constexpr uint8_t kNoAuth = 0x00, kUserPass = 0x02, kNoAcceptable = 0xff;
// Reply codes (RFC 1928 §6).
inline constexpr uint8_t kSucceeded = 0x00, kGeneralFailure = 0x01, kNotAllowed = 0x02, kHostUnreachable = 0x04,
                         kConnectionRefused = 0x05, kCommandNotSupported = 0x07, kAddressNotSupported = 0x08;

enum class Parse : uint8_t { more, bad, ok };

// VER NMETHODS METHODS...: the method the entry picks (user/pass when it
// has credentials, else no-auth), or kNoAcceptable.
struct Greeting {
  Parse status = Parse::more;
  size_t length = 0;
  uint8_t method = kNoAcceptable;
};
Greeting parse_greeting(std::string_view in, bool want_credentials);

// RFC 1929: VER(1) ULEN UNAME PLEN PASSWD.
struct Credentials {
  Parse status = Parse::more;
  size_t length = 0;
  std::string user, pass;
};
Credentials parse_credentials(std::string_view in);

// VER CMD RSV ATYP DST.ADDR DST.PORT. `reply` is the code to refuse with
// when status is bad (a command or address type the entry does not take).
struct Request {
  Parse status = Parse::more;
  size_t length = 0;
  uint8_t reply = kGeneralFailure;
  std::string host;  // a name, or an IP literal (IPv6 without brackets)
  uint16_t port = 0;
};
Request parse_request(std::string_view in);

// VER REP RSV ATYP=IPv4 0.0.0.0:0 (the bound address tells a client nothing here).
std::array<char, 10> reply(uint8_t code);

}  // namespace sy::tunnel::socks
