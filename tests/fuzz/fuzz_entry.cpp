// Fuzz harness: what the tunnel entries read from outsiders (SPEC §7) — the
// SOCKS5 greeting, RFC 1929 credentials and CONNECT request, an agent's edge
// policy line and declared address. Invariants, trapped:
//   - a parse never claims more bytes than it was given; `ok` consumes
//     something; every strict prefix of an `ok` message is `more` (a message
//     arriving in pieces parses the same);
//   - a CONNECT request that parses names a host and a port > 0;
//   - an edge policy that decodes re-encodes to a line that decodes to the
//     same policy, within the wire's bounds;
//   - a canonical address is a fixed point, and its route-table name is
//     lower-case [a-z0-9-.] ending in ".addr.<domain>".
// Input: 1 byte selecting the parser, then its bytes.
#include <string>

#include "tests/fuzz/harness.hpp"
#include "tunnel/identity/edge_policy.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/socks_codec.hpp"

namespace sy::fuzz {
namespace {

template <typename Parse>
void check_pieces(std::string_view in, Parse parse) {
  const auto whole = parse(in);
  SY_FUZZ_CHECK(whole.length <= in.size());
  if (whole.status != tunnel::socks::Parse::ok) return;
  SY_FUZZ_CHECK(whole.length > 0);
  for (size_t n = 0; n < whole.length; ++n) SY_FUZZ_CHECK(parse(in.substr(0, n)).status != tunnel::socks::Parse::ok);
}

void check_policy(std::string_view text) {
  std::optional<tunnel::EdgePolicy> p = tunnel::decode_edge_policy(text, nullptr);
  if (!p) return;
  const std::string again = tunnel::encode_edge_policy(*p);
  SY_FUZZ_CHECK(again.size() <= tunnel::kMaxEdgePolicyBytes);
  std::optional<tunnel::EdgePolicy> q = tunnel::decode_edge_policy(again, nullptr);
  SY_FUZZ_CHECK(q.has_value());
  SY_FUZZ_CHECK(q->auth == p->auth && q->allow == p->allow && q->rate_per_second == p->rate_per_second);
  (void)tunnel::ip_allowed(*p, "10.1.2.3");
  (void)tunnel::credentials_match(*p, "Basic YTpi");
}

void check_address(std::string_view text) {
  std::optional<std::string> a = tunnel::canonical_address(text);
  if (!a) return;
  SY_FUZZ_CHECK(tunnel::canonical_address(*a) == a);
  const std::string host = tunnel::address_host(*a, "t.example");
  SY_FUZZ_CHECK(host.ends_with(".addr.t.example"));
  for (char c : host) SY_FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
}

}  // namespace

int fuzz_entry(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in = as_view(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      check_pieces(in, [](std::string_view s) { return tunnel::socks::parse_greeting(s, true); });
      break;
    case 1:
      check_pieces(in, [](std::string_view s) { return tunnel::socks::parse_credentials(s); });
      break;
    case 2: {
      check_pieces(in, [](std::string_view s) { return tunnel::socks::parse_request(s); });
      tunnel::socks::Request r = tunnel::socks::parse_request(in);
      if (r.status == tunnel::socks::Parse::ok) SY_FUZZ_CHECK(!r.host.empty() && r.port > 0);
      break;
    }
    case 3:
      check_policy(in);
      break;
    default:
      check_address(in);
  }
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_entry)
