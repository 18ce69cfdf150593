#pragma once
// Per-tunnel edge policy (issue 13 part 3): what an agent declares about who
// may reach its tunnel — basic auth, client address allow-list, request rate —
// as one wire line carried in the handshake header `Switchyard-Tunnel-Policy`
// and then in the node's `router.register` tags (`edge_policy: <same text>`),
// so every node, including ones that never saw the agent, enforces it alike.
//
// Threading: everything here is pure and callable from any thread, except
// EdgeRateLimiter, which holds state and is thread-safe (one mutex, taken
// once per request to a rate-limited tunnel).
//
// The password never leaves the agent: only "sha256:<salt hex>:<hash hex>",
// hash = SHA-256(salt || "user:pass") over the 16 raw salt bytes, is stored
// and sent. Comparison of the hash is constant-time (CRYPTO_memcmp).
#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sy::tunnel {

// An IPv4 or IPv6 network. Parsing masks host bits below the prefix
// ("10.1.2.3/8" is 10.0.0.0/8, as ip(8)/iptables do) and a bare address is a
// host route (/32, /128). An IPv6 network inside ::ffff:0:0/96 with a prefix
// of at least 96 is stored as its IPv4 equivalent ("::ffff:10.0.0.0/104" is
// 10.0.0.0/8), so IPv4 clients, seen as plain or as IPv4-mapped addresses,
// match it; other IPv6 networks (including ::/0) match only IPv6 clients.
// Refused: zone ids ("fe80::1%eth0"), brackets, spaces, a prefix out of range
// (> 32 / > 128), with a sign or a leading zero ("/08"), and anything
// inet_pton(3) refuses (IPv4 must be four decimal octets).
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4; host bits are zero
  uint8_t prefix = 0;               // 0..32 (IPv4) or 0..128 (IPv6)
  bool operator==(const Cidr&) const = default;
};

std::optional<Cidr> parse_cidr(std::string_view text);
// Canonical text, always with the prefix: "10.0.0.0/8", "fd00::/8", "::1/128".
std::string to_string(const Cidr& cidr);
// `ip` as text (IPv4, IPv6 or IPv4-mapped IPv6, no brackets or port). An
// address that does not parse is contained in nothing.
bool contains(const Cidr& cidr, std::string_view ip);

inline constexpr std::string_view kEdgePolicyHeader = "Switchyard-Tunnel-Policy";
inline constexpr std::string_view kEdgePolicyTag = "edge_policy";
inline constexpr size_t kMaxEdgePolicyBytes = 2048;  // of the encoded line
inline constexpr size_t kMaxEdgePolicyCidrs = 64;
inline constexpr double kMaxEdgeRatePerSecond = 1e6;

struct EdgePolicy {
  std::string auth;         // "" or "sha256:<32 hex salt>:<64 hex hash>", lowercase hex
  std::vector<Cidr> allow;  // empty = any address
  double rate_per_second = 0;  // 0 = no limit
  uint32_t burst = 0;          // derived from the rate: max(1, ceil(rate_per_second)); not on the wire
  bool empty() const { return auth.empty() && allow.empty() && rate_per_second == 0; }
  bool operator==(const EdgePolicy&) const = default;
};

// Agent side, from its flags: `basic_auth` "user:pass" or "" (user 1+ bytes
// without ':', both printable ASCII 0x20–0x7e; the password may be empty),
// `allow` CIDRs (at most 64), `rate` "" or "N/s" / "N/m" (N a decimal
// integer > 0 without leading zeros, at most 1e6 per second). The salt is 16
// bytes from RAND_bytes. Also refuses a policy whose encoding would exceed
// kMaxEdgePolicyBytes (e.g. 64 long IPv6 networks), so every node accepts
// what the agent sends. nullopt with `*error` (when given) set on refusal.
std::optional<EdgePolicy> make_edge_policy(std::string_view basic_auth, const std::vector<std::string>& allow,
                                           std::string_view rate, std::string* error);

// One header-safe and NATS-tag-safe line of [a-z0-9:;=,./] with only the keys
// present, in this order: "auth=sha256:<salt>:<hash>;allow=10.0.0.0/8,fd00::/8;rate=100/s".
// "" for an empty policy. The rate is written "N/s" when it is a whole number
// per second, else "N/m".
std::string encode_edge_policy(const EdgePolicy& policy);
// Strict inverse: "" is the empty policy; refused are unknown or repeated
// keys, empty segments or values, whitespace, a malformed hash, a bad CIDR,
// more than 64 CIDRs, a bad rate and input over kMaxEdgePolicyBytes.
// decode(encode(p)) == p for every policy make_edge_policy() returns, and
// encode(decode(s)) == s for every s that encode_edge_policy() produced.
std::optional<EdgePolicy> decode_edge_policy(std::string_view text, std::string* error);

enum class EdgeVerdict : uint8_t { allow, unauthorized, forbidden, rate_limited };

// Empty allow-list = any address; otherwise some CIDR must contain the
// client's address (an address that does not parse is refused).
bool ip_allowed(const EdgePolicy& policy, std::string_view client_ip);
// `authorization_header`: the Authorization value, "Basic <base64(user:pass)>"
// (scheme case-insensitive, standard padded base64). True when the policy has
// no auth; false for a missing header, another scheme, bad base64, or other
// credentials.
bool credentials_match(const EdgePolicy& policy, std::string_view authorization_header);
// forbidden (address) before unauthorized (credentials): a client outside the
// allow-list learns nothing about the credentials. The rate limiter is
// separate (EdgeRateLimiter), applied by the caller to allowed requests.
EdgeVerdict check_edge_request(const EdgePolicy& policy, std::string_view client_ip,
                               std::string_view authorization_header);

// Token buckets keyed by tunnel id: `burst` tokens at most, refilled at
// `rate_per_second`; a key's first request finds a full bucket. The rate and
// burst are read on every call (a re-registered policy takes effect at once).
// rate_per_second <= 0 means no limit: always true and nothing is stored.
//
// Bounded: at most kMaxKeys buckets. A new key beyond that evicts the least
// recently used one (O(1)); an evicted key that comes back starts full again,
// which only favours the tunnel that has been idle longest.
//
// Thread-safe. `now` is a parameter (tests use a manual clock); a `now` older
// than the bucket's last refill adds nothing.
class EdgeRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxKeys = 4096;

  bool take(std::string_view key, double rate_per_second, uint32_t burst, Clock::time_point now);
  size_t size() const;  // keys held (for tests and metrics)

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
    std::list<const std::string*>::iterator lru;  // into lru_; points at this bucket's key
  };

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets_;
  std::list<const std::string*> lru_;  // most recently used first; node keys never move
};

}  // namespace sy::tunnel
