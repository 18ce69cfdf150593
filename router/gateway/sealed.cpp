// Sealed addresses: parsing, opening and sealing (see sealed.hpp). Pure; any thread.
#include "router/gateway/sealed.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

#include "common/names/hostname.hpp"

namespace sy::gateway {
namespace {

constexpr std::string_view kMagic = "Salted__";
constexpr size_t kSaltSize = 8;
constexpr size_t kBlock = 16;
constexpr size_t kMaxPlain = 300;  // "[v6]:port" or a 253-byte name and a port, with room

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

struct Derived {
  std::array<unsigned char, 32> key{};
  std::array<unsigned char, 16> iv{};
};

std::optional<Derived> derive(Derivation d, const unsigned char* salt, std::string_view secret) {
  Derived out;
  const EVP_MD* md = d == Derivation::sha256 ? EVP_sha256() : EVP_md5();
  const int n = EVP_BytesToKey(EVP_aes_256_cbc(), md, salt, reinterpret_cast<const unsigned char*>(secret.data()),
                               static_cast<int>(secret.size()), 1, out.key.data(), out.iv.data());
  if (n != static_cast<int>(out.key.size())) return std::nullopt;
  return out;
}

// AES-256-CBC with PKCS#7 padding; nullopt when the padding does not check.
std::optional<std::string> crypt(bool encrypt, const Derived& k, std::string_view in) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k.key.data(), k.iv.data(), encrypt ? 1 : 0) != 1)
    return std::nullopt;
  std::string out(in.size() + kBlock, '\0');
  int n = 0, tail = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) != 1)
    return std::nullopt;
  if (EVP_CipherFinal_ex(ctx.get(), o + n, &tail) != 1) return std::nullopt;
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

}  // namespace

std::optional<Target> parse_host_port(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::optional<uint16_t> port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  Target t;
  t.port = *port;
  unsigned char addr[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    t.host = std::string(host.substr(1, host.size() - 2));
    t.kind = Target::Kind::ipv6;
    if (::inet_pton(AF_INET6, t.host.c_str(), addr) != 1) return std::nullopt;
    return t;
  }
  t.host = std::string(host);
  if (::inet_pton(AF_INET, t.host.c_str(), addr) == 1) {
    t.kind = Target::Kind::ipv4;
    return t;
  }
  t.kind = Target::Kind::name;
  if (!names::valid_dns_name(t.host)) return std::nullopt;  // also refuses a bare v6 literal
  // All digits and dots but not an address (999.1.1.1): not a name either.
  if (t.host.find_first_not_of("0123456789.") == std::string::npos) return std::nullopt;
  return t;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    const int v = b64_value(text[i]);
    if (v < 0) return std::nullopt;  // '=' inside, whitespace, another alphabet
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
    }
  }
  if (pad == 1) {
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  } else if (pad == 2) {
    out.push_back(static_cast<char>(acc >> 4));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<Opened> open_sealed(std::string_view line, std::string_view secret) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::optional<std::string> raw = base64_decode(line);
  if (!raw || raw->size() < kMagic.size() + kSaltSize + kBlock) return std::nullopt;
  if (std::string_view(*raw).substr(0, kMagic.size()) != kMagic) return std::nullopt;
  const std::string_view body = std::string_view(*raw).substr(kMagic.size() + kSaltSize);
  if (body.size() % kBlock != 0 || body.size() > kMaxPlain + kBlock) return std::nullopt;
  const auto* salt = reinterpret_cast<const unsigned char*>(raw->data() + kMagic.size());
  for (Derivation d : {Derivation::sha256, Derivation::md5}) {
    const std::optional<Derived> k = derive(d, salt, secret);
    if (!k) continue;
    const std::optional<std::string> plain = crypt(false, *k, body);
    if (!plain) continue;  // padding did not check: the other derivation, or the wrong secret
    std::optional<Target> target = parse_host_port(*plain);
    if (!target) continue;  // padding checked by chance (1 in 256): garbage
    return Opened{std::move(*target), d};
  }
  return std::nullopt;
}

std::optional<std::string> seal(std::string_view host_port, std::string_view secret) {
  if (secret.empty() || !parse_host_port(host_port)) return std::nullopt;
  unsigned char salt[kSaltSize];
  if (RAND_bytes(salt, sizeof salt) != 1) return std::nullopt;
  const std::optional<Derived> k = derive(Derivation::sha256, salt, secret);
  if (!k) return std::nullopt;
  const std::optional<std::string> cipher = crypt(true, *k, host_port);
  if (!cipher) return std::nullopt;
  std::string raw(kMagic);
  raw.append(reinterpret_cast<const char*>(salt), sizeof salt);
  raw += *cipher;
  return base64_encode(raw);
}

}  // namespace sy::gateway
