// Fuzz harness: sy::proxy::parse_proxy_header (PROXY protocol v1 and v2).
//
// Besides not crashing, the parser must be a stable incremental decoder,
// because the session calls it on a growing buffer and acts on the first
// answer that is not need_more:
//   - ok: 0 < length <= input size; a v1 header is at most 107 bytes, a v2
//     header is exactly 16 + its length field; the header alone parses the
//     same (nothing past `length` was looked at);
//   - the source is either empty (port 0: use the socket peer) or a textual
//     IPv4/IPv6 address — it ends up in X-Forwarded-For;
//   - over the prefixes of the input the answers go need_more* then stay
//     fixed: a prefix that is ok (invalid) stays ok with the same fields
//     (invalid) however many bytes follow, so a valid header is never
//     refused because it arrived in pieces.
#include <arpa/inet.h>

#include <algorithm>
#include <string>

#include "router/proxy/proxy_protocol.hpp"
#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

using proxy::ProxyHeader;
using Status = ProxyHeader::Status;

// Longest input whose every prefix is parsed (quadratic work).
constexpr size_t kMaxPrefixCheck = 1024;

bool same(const ProxyHeader& a, const ProxyHeader& b) {
  return a.status == b.status && a.length == b.length && a.source_ip == b.source_ip &&
         a.source_port == b.source_port;
}

bool textual_ip(const std::string& ip) {
  unsigned char addr[16];
  if (ip.find('\0') != std::string::npos) return false;
  return inet_pton(AF_INET, ip.c_str(), addr) == 1 || inet_pton(AF_INET6, ip.c_str(), addr) == 1;
}

void check_ok(std::string_view input, const ProxyHeader& h) {
  SY_FUZZ_CHECK(h.length > 0 && h.length <= input.size());
  const bool v2 = input.size() >= 16 && input.substr(0, 6) != "PROXY ";
  if (v2) {
    const size_t declared = (static_cast<size_t>(static_cast<unsigned char>(input[14])) << 8) |
                            static_cast<unsigned char>(input[15]);
    SY_FUZZ_CHECK(h.length == 16 + declared);
  } else {
    SY_FUZZ_CHECK(h.length <= 107);
    SY_FUZZ_CHECK(input.substr(h.length - 2, 2) == "\r\n");
  }
  SY_FUZZ_CHECK(h.source_ip.empty() ? h.source_port == 0 : textual_ip(h.source_ip));
  SY_FUZZ_CHECK(same(proxy::parse_proxy_header(input.substr(0, h.length)), h));
}

void check_prefixes(std::string_view input, const ProxyHeader& whole) {
  const size_t n = std::min(input.size(), kMaxPrefixCheck);
  ProxyHeader decided;  // the first answer that was not need_more
  for (size_t k = 0; k <= n; ++k) {
    const ProxyHeader h = k == input.size() ? whole : proxy::parse_proxy_header(input.substr(0, k));
    if (decided.status == Status::need_more) {
      decided = h;
    } else {
      SY_FUZZ_CHECK(same(h, decided));
    }
  }
  if (decided.status != Status::need_more) SY_FUZZ_CHECK(same(whole, decided));
}

}  // namespace

int fuzz_proxy_protocol(const uint8_t* data, size_t size) {
  const std::string_view input = as_view(data, size);
  const ProxyHeader whole = proxy::parse_proxy_header(input);
  if (whole.status == Status::ok) check_ok(input, whole);
  if (whole.status != Status::ok) SY_FUZZ_CHECK(whole.length == 0 && whole.source_ip.empty());
  check_prefixes(input, whole);
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_proxy_protocol)
