#pragma once
// Sealed addresses (SPEC §7, seed 004 = xindong/frontd's protocol): the line a
// client sends the gateway is base64 of `openssl enc -aes-256-cbc -salt`
// output ("Salted__" + 8-byte salt + AES-256-CBC ciphertext) of "host:port"
// under the gateway's secret. Key and IV come from EVP_BytesToKey with one
// iteration: SHA-256 (openssl enc's default since 1.1) or MD5 (`-md md5`, the
// older default; the seed's own example line is MD5) — both are tried.
//
// Pure functions, no I/O; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::gateway {

// A target as sealed: `host` is an IPv4 literal, an IPv6 literal (without
// its brackets) or a lower-cased DNS name; `port` 1..65535.
struct Target {
  enum class Kind : uint8_t { ipv4, ipv6, name };
  std::string host;
  uint16_t port = 0;
  Kind kind = Kind::name;
  bool operator==(const Target&) const = default;
};

enum class Derivation : uint8_t { sha256, md5 };

struct Opened {
  Target target;
  Derivation derivation = Derivation::sha256;
};

// "1.2.3.4:80", "[::1]:80" or "db.example:5432" (port 1..65535, digits only;
// nothing else). nullopt otherwise.
std::optional<Target> parse_host_port(std::string_view text);

// Opens one line (without its '\n'; a trailing '\r' is stripped): strict
// base64 (standard alphabet, '=' padding, no whitespace), "Salted__" and a
// salt, then each derivation in turn until one decrypts with valid padding
// to a valid host:port. nullopt = cannot decrypt (answered 401).
std::optional<Opened> open_sealed(std::string_view line, std::string_view secret);

// What `echo -n HOST_PORT | openssl enc -e -aes-256-cbc -a -A -salt -k SECRET`
// prints (SHA-256 derivation, a random salt; base64 on one line, no '\n').
// nullopt if `host_port` is not valid (parse_host_port) or the secret is empty.
std::optional<std::string> seal(std::string_view host_port, std::string_view secret);

// Strict base64 (exposed for the tests).
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace sy::gateway
