#include "tunnel/identity/edge_policy.hpp"

#include "tunnel/identity/identity.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sy::tunnel {
namespace {

constexpr std::string_view kAuthScheme = "sha256:";
constexpr size_t kSaltBytes = 16, kHashBytes = 32;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is refused: the wire form is canonical
}

// Lowercase hex of exactly `n` bytes.
std::optional<std::string> unhex(std::string_view s, size_t n) {
  if (s.size() != 2 * n) return std::nullopt;
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    const int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string sha256_hex(std::string_view salt, std::string_view user_pass) {
  std::string input(salt);
  input += user_pass;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return to_hex(digest, len);
}

// "sha256:<salt>:<hash>" → raw salt and hex hash, or nullopt.
std::optional<std::pair<std::string, std::string_view>> split_auth(std::string_view auth) {
  if (!auth.starts_with(kAuthScheme)) return std::nullopt;
  auth.remove_prefix(kAuthScheme.size());
  const size_t colon = auth.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::optional<std::string> salt = unhex(auth.substr(0, colon), kSaltBytes);
  const std::string_view hash = auth.substr(colon + 1);
  if (!salt || !unhex(hash, kHashBytes)) return std::nullopt;
  return std::pair{std::move(*salt), hash};
}

// A decimal integer without sign or leading zeros, at most `max`.
std::optional<uint64_t> to_uint(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 12 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

// Address text → 4 or 16 bytes (IPv4-mapped IPv6 becomes IPv4), or nullopt.
std::optional<Cidr> parse_address(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf || text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Cidr a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  a.v6 = true;
  return a;
}

bool is_v4_mapped(const Cidr& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a.v6 && std::memcmp(a.bytes.data(), kMapped, 12) == 0;
}

// Moves an IPv4-mapped IPv6 network (prefix >= 96) to its IPv4 form.
void unmap(Cidr& c) {
  if (!is_v4_mapped(c) || c.prefix < 96) return;
  std::memmove(c.bytes.data(), c.bytes.data() + 12, 4);
  std::fill(c.bytes.begin() + 4, c.bytes.end(), 0);
  c.v6 = false;
  c.prefix = static_cast<uint8_t>(c.prefix - 96);
}

// Whether the first `prefix` bits of a and b agree.
bool same_prefix(const uint8_t* a, const uint8_t* b, unsigned prefix) {
  const unsigned whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

std::nullopt_t refuse(std::string* error, std::string message) {
  set_error(error, std::move(message));
  return std::nullopt;
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// "N/s" or "N/m" → per second; refuses 0 and more than 1e6 per second.
std::optional<double> parse_rate(std::string_view text) {
  if (text.size() < 3 || text[text.size() - 2] != '/') return std::nullopt;
  const char unit = text.back();
  if (unit != 's' && unit != 'm') return std::nullopt;
  const uint64_t per_unit = unit == 's' ? 1 : 60;
  const auto n = to_uint(text.substr(0, text.size() - 2), static_cast<uint64_t>(kMaxEdgeRatePerSecond) * per_unit);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<double>(*n) / static_cast<double>(per_unit);
}

uint32_t burst_for(double rate_per_second) {
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(rate_per_second)));
}

// Standard base64 with padding, nothing else (no whitespace, no URL alphabet).
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  const size_t pad = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
  std::string out;
  uint32_t acc = 0;
  for (size_t i = 0; i < in.size() - pad; ++i) {
    const int v = value(in[i]);
    if (v < 0) return std::nullopt;
    acc = acc << 6 | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out += static_cast<char>(acc >> 16 & 0xff), out += static_cast<char>(acc >> 8 & 0xff);
      out += static_cast<char>(acc & 0xff), acc = 0;
    }
  }
  if (pad == 2) out += static_cast<char>(acc >> 4 & 0xff);
  if (pad == 1) out += static_cast<char>(acc >> 10 & 0xff), out += static_cast<char>(acc >> 2 & 0xff);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

// Applies one "key=value" segment of the wire line to `p`.
bool decode_segment(std::string_view seg, EdgePolicy& p, unsigned& seen, std::string* error) {
  const size_t eq = seg.find('=');
  if (eq == std::string_view::npos || eq + 1 == seg.size()) return set_error(error, "segment without a value");
  const std::string_view key = seg.substr(0, eq), value = seg.substr(eq + 1);
  const unsigned bit = key == "auth" ? 1 : key == "allow" ? 2 : key == "rate" ? 4 : 0;
  if (bit == 0) return set_error(error, "unknown key '" + std::string(key) + "'");
  if (seen & bit) return set_error(error, "repeated key '" + std::string(key) + "'");
  seen |= bit;
  if (bit == 1) {
    if (!split_auth(value)) return set_error(error, "bad auth hash (want sha256:<32 hex>:<64 hex>)");
    p.auth = std::string(value);
  } else if (bit == 2) {
    for (size_t at = 0; at <= value.size();) {
      const size_t comma = std::min(value.find(',', at), value.size());
      const std::optional<Cidr> c = parse_cidr(value.substr(at, comma - at));
      if (!c) return set_error(error, "bad CIDR '" + std::string(value.substr(at, comma - at)) + "'");
      if (p.allow.size() == kMaxEdgePolicyCidrs) return set_error(error, "more than 64 CIDRs");
      p.allow.push_back(*c);
      at = comma + 1;
    }
  } else {
    const std::optional<double> r = parse_rate(value);
    if (!r) return set_error(error, "bad rate '" + std::string(value) + "' (want N/s or N/m, at most 1e6/s)");
    p.rate_per_second = *r;
    p.burst = burst_for(*r);
  }
  return true;
}

}  // namespace

std::optional<Cidr> parse_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<Cidr> c = parse_address(text.substr(0, slash));
  if (!c) return std::nullopt;
  const unsigned width = c->v6 ? 128 : 32;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const std::optional<uint64_t> p = to_uint(text.substr(slash + 1), width);
    if (!p) return std::nullopt;
    prefix = static_cast<unsigned>(*p);
  }
  c->prefix = static_cast<uint8_t>(prefix);
  for (unsigned bit = prefix; bit < width; ++bit)  // mask host bits
    c->bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  unmap(*c);
  return c;
}

std::string to_string(const Cidr& cidr) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(cidr.v6 ? AF_INET6 : AF_INET, cidr.bytes.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(cidr.prefix);
}

bool contains(const Cidr& cidr, std::string_view ip) {
  std::optional<Cidr> a = parse_address(ip);
  if (!a) return false;
  if (is_v4_mapped(*a)) {
    a->prefix = 128;
    unmap(*a);
  }
  return a->v6 == cidr.v6 && same_prefix(a->bytes.data(), cidr.bytes.data(), cidr.prefix);
}

std::optional<EdgePolicy> make_edge_policy(std::string_view basic_auth, const std::vector<std::string>& allow,
                                           std::string_view rate, std::string* error) {
  EdgePolicy p;
  if (!basic_auth.empty()) {
    const size_t colon = basic_auth.find(':');
    if (colon == 0 || colon == std::string_view::npos || !printable(basic_auth))
      return refuse(error, "--basic-auth wants user:pass (user not empty, printable ASCII)");
    unsigned char salt[kSaltBytes];
    if (RAND_bytes(salt, sizeof salt) != 1) return refuse(error, "RAND_bytes failed");
    const std::string_view raw(reinterpret_cast<const char*>(salt), sizeof salt);
    p.auth = std::string(kAuthScheme) + to_hex(salt, sizeof salt) + ":" + sha256_hex(raw, basic_auth);
  }
  if (allow.size() > kMaxEdgePolicyCidrs) return refuse(error, "more than 64 --allow");
  for (const std::string& text : allow) {
    const std::optional<Cidr> c = parse_cidr(text);
    if (!c) return refuse(error, "bad --allow '" + text + "' (want a CIDR or an address)");
    p.allow.push_back(*c);
  }
  if (!rate.empty()) {
    const std::optional<double> r = parse_rate(rate);
    if (!r) return refuse(error, "bad --rate '" + std::string(rate) + "' (want N/s or N/m, at most 1e6/s)");
    p.rate_per_second = *r;
    p.burst = burst_for(*r);
  }
  if (encode_edge_policy(p).size() > kMaxEdgePolicyBytes)
    return refuse(error, "policy too long for the wire (over 2048 bytes)");
  return p;
}

std::string encode_edge_policy(const EdgePolicy& policy) {
  std::string out;
  if (!policy.auth.empty()) out += "auth=" + policy.auth;
  for (size_t i = 0; i < policy.allow.size(); ++i)
    out += (i == 0 ? (out.empty() ? "allow=" : ";allow=") : ",") + to_string(policy.allow[i]);
  if (policy.rate_per_second > 0) {
    out += out.empty() ? "rate=" : ";rate=";
    const double r = policy.rate_per_second;
    if (r == std::floor(r)) out += std::to_string(static_cast<uint64_t>(r)) + "/s";
    else out += std::to_string(static_cast<uint64_t>(std::llround(r * 60))) + "/m";
  }
  return out;
}

std::optional<EdgePolicy> decode_edge_policy(std::string_view text, std::string* error) {
  if (text.size() > kMaxEdgePolicyBytes) return refuse(error, "policy over 2048 bytes");
  EdgePolicy p;
  unsigned seen = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t semi = std::min(text.find(';', at), text.size());
    if (!decode_segment(text.substr(at, semi - at), p, seen, error)) return std::nullopt;
    if (semi + 1 == text.size()) return refuse(error, "trailing ';'");
    at = semi + 1;
  }
  return p;
}

bool ip_allowed(const EdgePolicy& policy, std::string_view client_ip) {
  if (policy.allow.empty()) return true;
  return std::any_of(policy.allow.begin(), policy.allow.end(), [&](const Cidr& c) { return contains(c, client_ip); });
}

bool credentials_match(const EdgePolicy& policy, std::string_view authorization_header) {
  if (policy.auth.empty()) return true;
  const auto auth = split_auth(policy.auth);
  const std::string_view value = trim(authorization_header);
  const size_t space = value.find(' ');
  if (!auth || value.size() > 4096 || space == std::string_view::npos) return false;
  if (!iequals(value.substr(0, space), "basic")) return false;
  std::optional<std::string> user_pass = base64_decode(trim(value.substr(space + 1)));
  if (!user_pass || user_pass->find(':') == std::string::npos) return false;
  const std::string got = sha256_hex(auth->first, *user_pass);
  OPENSSL_cleanse(user_pass->data(), user_pass->size());
  return got.size() == auth->second.size() && CRYPTO_memcmp(got.data(), auth->second.data(), got.size()) == 0;
}

EdgeVerdict check_edge_request(const EdgePolicy& policy, std::string_view client_ip,
                               std::string_view authorization_header) {
  if (!ip_allowed(policy, client_ip)) return EdgeVerdict::forbidden;
  if (!credentials_match(policy, authorization_header)) return EdgeVerdict::unauthorized;
  return EdgeVerdict::allow;
}

bool EdgeRateLimiter::take(std::string_view key, double rate_per_second, uint32_t burst, Clock::time_point now) {
  if (!(rate_per_second > 0)) return true;
  const double cap = std::max<uint32_t>(burst, 1);
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxKeys) {  // evict the least recently used
      buckets_.erase(buckets_.find(*lru_.back()));
      lru_.pop_back();
    }
    it = buckets_.emplace(std::string(key), Bucket{cap, now, {}}).first;
    lru_.push_front(&it->first);
    it->second.lru = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  if (now > b.last) {
    b.tokens += std::chrono::duration<double>(now - b.last).count() * rate_per_second;
    b.last = now;
  }
  b.tokens = std::min(b.tokens, cap);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

size_t EdgeRateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace sy::tunnel
