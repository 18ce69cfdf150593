#pragma once
// Who is who in the tunnel protocol (SPEC §5.2, §5.3): tunnel ids, labels
// and the host names they map to, the agents' stateless tokens, and the
// signed header one node adds when it forwards a request to the node that
// holds a tunnel. Pure functions over strings; any thread.
//
// Every comparison of a secret-derived value is constant-time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::tunnel {

// 1–64 of [A-Za-z0-9._-] (typically a UUID).
bool valid_tunnel_id(std::string_view id);
// A DNS label we give out: 1–63 of [a-z0-9-], not starting or ending with '-'.
bool valid_label(std::string_view label);
// "<label>.<domain>", or the gost rule without a label: the first 16 hex
// digits of md5(id), then ".<domain>".
std::string tunnel_host(std::string_view id, std::string_view label, std::string_view domain);

// Tokens: "<exp>.<hex(HMAC-SHA256(secret, "<id>|<label>|<exp>"))>", exp in
// Unix seconds (0 = never).
std::string mint_token(std::string_view secret, std::string_view id, std::string_view label, int64_t exp);

enum class TokenCheck : uint8_t { ok, malformed, bad_signature, expired };
// Verifies against every secret (the first mints, all verify: rotation
// without downtime). `now_unix` is a parameter.
TokenCheck check_token(const std::vector<std::string>& secrets, std::string_view token, std::string_view id,
                       std::string_view label, int64_t now_unix);

// Switchyard-Forwarded-Node: "<node_id>; ts=<unix s>; sig=<hex>", sig =
// HMAC-SHA256(first secret, "<node_id>|<ts>|<X-Vcap-Request-Id>").
inline constexpr std::string_view kForwardedNodeHeader = "Switchyard-Forwarded-Node";
std::string forwarded_node_value(std::string_view secret, std::string_view node_id, int64_t ts,
                                 std::string_view request_id);

struct ForwardedNode {
  std::string_view node_id;  // as named in the header ("" when malformed)
  bool verified = false;     // the signature checks out under some secret and ts is within 30 s
};
// Parses (and, with secrets, verifies) a received header value.
ForwardedNode parse_forwarded_node(std::string_view value, const std::vector<std::string>& secrets,
                                   std::string_view request_id, int64_t now_unix);

// A declared address (SPEC §7, `--advertise-address`): "IP:PORT" or
// "[v6]:PORT" written canonically (inet_ntop's form), nullopt if the text is
// not an IP literal and a port 1..65535.
std::optional<std::string> canonical_address(std::string_view text);
std::optional<std::string> canonical_address(std::string_view ip, uint16_t port);
// The route-table name a tunnel with a declared address is also registered
// under, so any node finds it by address: each '.', ':' and ']' of the
// canonical address as '-', "v6-" in front of an IPv6 one, then
// ".addr.<domain>": 10.1.2.3:22 -> 10-1-2-3-22.addr.<domain>,
// [fd00::1]:22 -> v6-fd00--1--22.addr.<domain>.
std::string address_host(std::string_view canonical, std::string_view domain);

// "host:port" or "[v6]:port" (port 1..65535, brackets only around an IPv6
// literal) into its parts; false otherwise.
bool split_host_port(std::string_view text, std::string* host, uint16_t* port);
// Lower-case hex of `n` bytes.
std::string to_hex(const unsigned char* p, size_t n);

// The route-table name every TCP tunnel is also registered under, so each
// node finds all of them with one lookup (and opens their ports too).
std::string tcp_directory(std::string_view domain);

// Parses a token lifetime such as "30d", "12h", "90m", "3600s" or "0" (never).
std::optional<int64_t> parse_ttl_seconds(std::string_view text);

}  // namespace sy::tunnel
