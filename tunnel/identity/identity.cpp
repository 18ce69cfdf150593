#include "tunnel/identity/identity.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>

#include <arpa/inet.h>

#include <charconv>

namespace sy::tunnel {
namespace {

std::string hmac_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &len);
  return to_hex(mac, len);
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string token_message(std::string_view id, std::string_view label, int64_t exp) {
  return std::string(id) + "|" + std::string(label) + "|" + std::to_string(exp);
}

}  // namespace

bool valid_tunnel_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::string tunnel_host(std::string_view id, std::string_view label, std::string_view domain) {
  if (!label.empty()) return std::string(label) + "." + std::string(domain);
  unsigned char digest[MD5_DIGEST_LENGTH];
  EVP_Digest(id.data(), id.size(), digest, nullptr, EVP_md5(), nullptr);
  return to_hex(digest, 8) + "." + std::string(domain);
}

std::string mint_token(std::string_view secret, std::string_view id, std::string_view label, int64_t exp) {
  return std::to_string(exp) + "." + hmac_hex(secret, token_message(id, label, exp));
}

TokenCheck check_token(const std::vector<std::string>& secrets, std::string_view token, std::string_view id,
                       std::string_view label, int64_t now_unix) {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return TokenCheck::malformed;
  const std::optional<int64_t> exp = to_int(token.substr(0, dot));
  const std::string_view sig = token.substr(dot + 1);
  if (!exp || sig.size() != 64) return TokenCheck::malformed;
  bool signed_ok = false;
  for (const std::string& secret : secrets) signed_ok |= same(sig, hmac_hex(secret, token_message(id, label, *exp)));
  if (!signed_ok) return TokenCheck::bad_signature;
  if (*exp != 0 && *exp < now_unix) return TokenCheck::expired;
  return TokenCheck::ok;
}

std::string forwarded_node_value(std::string_view secret, std::string_view node_id, int64_t ts,
                                 std::string_view request_id) {
  const std::string message = std::string(node_id) + "|" + std::to_string(ts) + "|" + std::string(request_id);
  return std::string(node_id) + "; ts=" + std::to_string(ts) + "; sig=" + hmac_hex(secret, message);
}

ForwardedNode parse_forwarded_node(std::string_view value, const std::vector<std::string>& secrets,
                                   std::string_view request_id, int64_t now_unix) {
  ForwardedNode out;
  const size_t semi = value.find(';');
  out.node_id = value.substr(0, semi);
  while (!out.node_id.empty() && out.node_id.back() == ' ') out.node_id.remove_suffix(1);
  if (semi == std::string_view::npos || secrets.empty()) return out;
  const size_t ts_at = value.find("ts=", semi), sig_at = value.find("sig=", semi);
  if (ts_at == std::string_view::npos || sig_at == std::string_view::npos) return out;
  std::string_view ts_text = value.substr(ts_at + 3, value.find(';', ts_at) - ts_at - 3);
  const std::optional<int64_t> ts = to_int(ts_text);
  const std::string_view sig = value.substr(sig_at + 4);
  if (!ts || *ts > now_unix + 30 || *ts < now_unix - 30) return out;
  const std::string message = std::string(out.node_id) + "|" + std::to_string(*ts) + "|" + std::string(request_id);
  for (const std::string& secret : secrets) out.verified |= same(sig, hmac_hex(secret, message));
  return out;
}

std::optional<int64_t> parse_ttl_seconds(std::string_view text) {
  if (text == "0") return 0;
  if (text.size() < 2) return std::nullopt;
  const char unit = text.back();
  const std::optional<int64_t> n = to_int(text.substr(0, text.size() - 1));
  if (!n) return std::nullopt;
  switch (unit) {
    case 's': return *n;
    case 'm': return *n * 60;
    case 'h': return *n * 3600;
    case 'd': return *n * 86400;
    default: return std::nullopt;
  }
}

std::optional<std::string> canonical_address(std::string_view ip, uint16_t port) {
  if (port == 0 || ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(ip);
  unsigned char raw[16];
  char buf[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, text.c_str(), raw) == 1) {
    ::inet_ntop(AF_INET, raw, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port);
  }
  if (::inet_pton(AF_INET6, text.c_str(), raw) != 1) return std::nullopt;
  ::inet_ntop(AF_INET6, raw, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(port);
}

std::optional<std::string> canonical_address(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view ip = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
    if (ip.find(':') == std::string_view::npos) return std::nullopt;  // brackets are for IPv6 only
  } else if (ip.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs its brackets
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return std::nullopt;
  return canonical_address(ip, static_cast<uint16_t>(port));
}

std::string address_host(std::string_view canonical, std::string_view domain) {
  // Every separator becomes one '-' ("::" stays "--"), so the name maps back
  // to one address; an IPv6 address gets "v6-" in front (a label may not
  // start with '-', as "::1" would).
  std::string out = canonical.starts_with('[') ? "v6-" : "";
  for (char c : canonical.substr(canonical.starts_with('[') ? 1 : 0)) {
    const bool sep = c == '.' || c == ':' || c == ']';
    out.push_back(sep ? '-' : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c));
  }
  return out + ".addr." + std::string(domain);
}

std::string tcp_directory(std::string_view domain) { return "tcp.entries." + std::string(domain); }

std::string to_hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

bool split_host_port(std::string_view text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) return false;
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace sy::tunnel
