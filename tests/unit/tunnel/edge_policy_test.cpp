// Per-tunnel edge policy (issue 13 part 3): CIDRs, the agent's flags, the
// wire line every node decodes, the per-request checks and the rate limiter
// (a manual clock; nothing sleeps).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <thread>

#include "tunnel/identity/edge_policy.hpp"

namespace sy::tunnel {
namespace {

using namespace std::chrono_literals;
using Clock = EdgeRateLimiter::Clock;

std::string b64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool lower_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string basic(std::string_view user_pass) { return "Basic " + b64(user_pass); }

std::string cidr_text(std::string_view text) {
  const std::optional<Cidr> c = parse_cidr(text);
  return c ? to_string(*c) : "<refused>";
}

EdgePolicy make(std::string_view auth, const std::vector<std::string>& allow, std::string_view rate) {
  std::string error;
  std::optional<EdgePolicy> p = make_edge_policy(auth, allow, rate, &error);
  EXPECT_TRUE(p.has_value()) << error;
  return p.value_or(EdgePolicy{});
}

// "::1/128" in full form, with `extra` (at most 24) leading zeros spread
// over its eight groups: 19 + extra bytes.
std::string padded_loopback(size_t extra) {
  std::string out;
  for (int g = 0; g < 8; ++g) {
    const size_t z = std::min<size_t>(3, extra);
    extra -= z;
    out += std::string(z, '0') + (g == 7 ? "1/128" : "0:");
  }
  return out;
}

// "allow=" and 64 of those, `length` bytes in all (1285..2821).
std::string padded_allow_line(size_t length) {
  std::string text = "allow=";
  size_t extra = length - (6 + 64 * 19 + 63);
  for (int i = 0; i < 64; ++i) {
    const size_t e = std::min<size_t>(24, extra);
    extra -= e;
    text += (i ? "," : "") + padded_loopback(e);
  }
  return text;
}

// --- CIDRs ---------------------------------------------------------------

TEST(EdgeCidr, ParsesIpv4NetworksAndHosts) {
  EXPECT_EQ(cidr_text("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(cidr_text("192.168.1.7"), "192.168.1.7/32") << "a bare address is a host route";
  EXPECT_EQ(cidr_text("192.168.1.7/32"), "192.168.1.7/32");
  EXPECT_EQ(cidr_text("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(cidr_text("10.1.2.3/8"), "10.0.0.0/8") << "host bits are masked";
  EXPECT_EQ(cidr_text("192.168.3.255/23"), "192.168.2.0/23");
  EXPECT_EQ(cidr_text("255.255.255.255/1"), "128.0.0.0/1");
  const Cidr c = *parse_cidr("10.0.0.0/8");
  EXPECT_FALSE(c.v6);
  EXPECT_EQ(c.prefix, 8);
}

TEST(EdgeCidr, ParsesIpv6NetworksAndHosts) {
  EXPECT_EQ(cidr_text("fd00::/8"), "fd00::/8");
  EXPECT_EQ(cidr_text("::1"), "::1/128");
  EXPECT_EQ(cidr_text("::/0"), "::/0");
  EXPECT_EQ(cidr_text("2001:db8::1/64"), "2001:db8::/64") << "host bits are masked";
  EXPECT_EQ(cidr_text("2001:DB8:0:0:0:0:0:1/128"), "2001:db8::1/128") << "canonical lowercase, compressed";
  EXPECT_EQ(cidr_text("fd12:3456:789a:bcde:ffff:ffff:ffff:ffff/65"), "fd12:3456:789a:bcde:8000::/65");
  const Cidr c = *parse_cidr("fd00::/8");
  EXPECT_TRUE(c.v6);
  EXPECT_EQ(c.prefix, 8);
}

TEST(EdgeCidr, Ipv4MappedNetworksAreStoredAsIpv4) {
  EXPECT_EQ(cidr_text("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  EXPECT_EQ(cidr_text("::ffff:10.1.2.3"), "10.1.2.3/32");
  EXPECT_EQ(cidr_text("::ffff:0:0/96"), "0.0.0.0/0");
  EXPECT_TRUE(parse_cidr("::ffff:0:0/95")->v6) << "wider than the mapped block: stays IPv6";
}

TEST(EdgeCidr, RefusesGarbage) {
  const std::string with_nul("10.0.0.1\0/8", 11);
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", "/8", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "::1/0128", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/+8",
        "10.0.0.0/8/8", "10.0.0.0/1234567890123", "10.0.0/8", "10.0.0.256", "10.0.0.0.0", "1.2.3.4a", "abc",
        " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0 /8", "fe80::1%eth0", "[::1]", "[::1]/128", "10.0.0.1:80",
        ":::1", "fd00::/8,10.0.0.0/8", std::string_view(with_nul)})
    EXPECT_FALSE(parse_cidr(bad).has_value()) << "'" << bad << "'";
}

TEST(EdgeCidr, ContainsIpv4) {
  const Cidr net = *parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(contains(net, "10.0.0.0"));
  EXPECT_TRUE(contains(net, "10.255.255.255"));
  EXPECT_FALSE(contains(net, "11.0.0.0"));
  EXPECT_FALSE(contains(net, "9.255.255.255"));
  const Cidr odd = *parse_cidr("192.168.2.0/23");
  EXPECT_TRUE(contains(odd, "192.168.3.255"));
  EXPECT_FALSE(contains(odd, "192.168.4.0"));
  EXPECT_FALSE(contains(odd, "192.168.1.255"));
  const Cidr host = *parse_cidr("192.168.1.7");
  EXPECT_TRUE(contains(host, "192.168.1.7"));
  EXPECT_FALSE(contains(host, "192.168.1.6"));
  EXPECT_FALSE(contains(host, "192.168.1.8"));
  const Cidr any = *parse_cidr("0.0.0.0/0");
  EXPECT_TRUE(contains(any, "1.2.3.4"));
  EXPECT_TRUE(contains(any, "255.255.255.255"));
  EXPECT_FALSE(contains(any, "::1")) << "an IPv4 network holds no IPv6 address";
  EXPECT_FALSE(contains(any, "2001:db8::1"));
}

TEST(EdgeCidr, ContainsIpv6) {
  const Cidr ula = *parse_cidr("fd00::/8");
  EXPECT_TRUE(contains(ula, "fd12:3456::1"));
  EXPECT_TRUE(contains(ula, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(contains(ula, "fe00::1"));
  EXPECT_FALSE(contains(ula, "fc00::1"));
  const Cidr loop = *parse_cidr("::1");
  EXPECT_TRUE(contains(loop, "::1"));
  EXPECT_TRUE(contains(loop, "0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(contains(loop, "::2"));
  EXPECT_FALSE(contains(loop, "127.0.0.1"));
  const Cidr half = *parse_cidr("2001:db8::/65");
  EXPECT_TRUE(contains(half, "2001:db8::7fff:ffff:ffff:ffff"));
  EXPECT_FALSE(contains(half, "2001:db8::8000:0:0:0"));
  const Cidr any6 = *parse_cidr("::/0");
  EXPECT_TRUE(contains(any6, "2001:db8::1"));
  EXPECT_FALSE(contains(any6, "10.0.0.1")) << "::/0 is every IPv6 address, not IPv4 clients";
  EXPECT_FALSE(contains(any6, "::ffff:10.0.0.1")) << "a mapped client is an IPv4 client";
}

TEST(EdgeCidr, MappedClientsMatchIpv4Networks) {
  const Cidr net = *parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(contains(net, "::ffff:10.1.2.3"));
  EXPECT_TRUE(contains(net, "::FFFF:10.1.2.3"));
  EXPECT_TRUE(contains(net, "0:0:0:0:0:ffff:a01:203"));
  EXPECT_FALSE(contains(net, "::ffff:11.1.2.3"));
  EXPECT_FALSE(contains(net, "::10.1.2.3")) << "IPv4-compatible (not mapped) is an IPv6 address";
  const Cidr host = *parse_cidr("192.168.1.7/32");
  EXPECT_TRUE(contains(host, "::ffff:192.168.1.7"));
  const Cidr mapped = *parse_cidr("::ffff:10.0.0.0/104");
  EXPECT_TRUE(contains(mapped, "10.9.9.9")) << "a mapped network holds plain IPv4 clients";
  EXPECT_TRUE(contains(mapped, "::ffff:10.9.9.9"));
}

TEST(EdgeCidr, UnparsableClientAddressIsInNothing) {
  const Cidr any = *parse_cidr("0.0.0.0/0"), any6 = *parse_cidr("::/0");
  for (std::string_view bad : {"", "10.0.0.1:80", "[::1]", "garbage", "10.0.0.1 ", "fe80::1%eth0", "localhost"}) {
    EXPECT_FALSE(contains(any, bad)) << bad;
    EXPECT_FALSE(contains(any6, bad)) << bad;
  }
}

// --- The agent's flags and the wire line ------------------------------------

TEST(EdgePolicyWire, MakeEncodeDecodeRoundTrip) {
  const EdgePolicy p = make("ops:s3cret", {"10.0.0.0/8", "fd00::/8", "192.168.1.7"}, "100/s");
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.rate_per_second, 100);
  EXPECT_EQ(p.burst, 100u);
  ASSERT_EQ(p.allow.size(), 3u);
  const std::string wire = encode_edge_policy(p);
  // auth=sha256:<32 hex>:<64 hex>;allow=...;rate=100/s
  ASSERT_EQ(wire.size(), 12 + 32 + 1 + 64 + std::string_view(";allow=10.0.0.0/8,fd00::/8,192.168.1.7/32;rate=100/s").size())
      << wire;
  EXPECT_TRUE(wire.starts_with("auth=sha256:")) << wire;
  EXPECT_TRUE(lower_hex(wire.substr(12, 32))) << wire;
  EXPECT_EQ(wire[44], ':') << wire;
  EXPECT_TRUE(lower_hex(wire.substr(45, 64))) << wire;
  EXPECT_EQ(wire.substr(109), ";allow=10.0.0.0/8,fd00::/8,192.168.1.7/32;rate=100/s");
  std::string error;
  const std::optional<EdgePolicy> back = decode_edge_policy(wire, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, p);
  EXPECT_EQ(encode_edge_policy(*back), wire);
  EXPECT_TRUE(credentials_match(*back, basic("ops:s3cret"))) << "a node that never saw the agent checks alike";
}

TEST(EdgePolicyWire, OnlyThePresentKeys) {
  EXPECT_EQ(encode_edge_policy(make("", {}, "5/s")), "rate=5/s");
  EXPECT_EQ(encode_edge_policy(make("", {"::1"}, "")), "allow=::1/128");
  EXPECT_TRUE(encode_edge_policy(make("a:b", {}, "")).starts_with("auth=sha256:"));
  EXPECT_EQ(encode_edge_policy(make("a:b", {}, "")).find(';'), std::string::npos);
  const EdgePolicy none = make("", {}, "");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(encode_edge_policy(none), "");
  const std::optional<EdgePolicy> decoded = decode_edge_policy("", nullptr);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->empty());
  EXPECT_EQ(encode_edge_policy(make("", {"10.0.0.0/8"}, "2/s")), "allow=10.0.0.0/8;rate=2/s");
}

TEST(EdgePolicyWire, RatesPerSecondAndPerMinute) {
  const EdgePolicy ten = make("", {}, "600/m");
  EXPECT_EQ(ten.rate_per_second, 10);
  EXPECT_EQ(ten.burst, 10u);
  EXPECT_EQ(encode_edge_policy(ten), "rate=10/s") << "a whole number per second is written per second";
  const EdgePolicy odd = make("", {}, "100/m");
  EXPECT_DOUBLE_EQ(odd.rate_per_second, 100.0 / 60);
  EXPECT_EQ(odd.burst, 2u) << "ceil(1.67)";
  EXPECT_EQ(encode_edge_policy(odd), "rate=100/m");
  EXPECT_EQ(*decode_edge_policy("rate=100/m", nullptr), odd) << "exact: the same double";
  EXPECT_EQ(make("", {}, "1/m").burst, 1u) << "at least one token";
  EXPECT_EQ(make("", {}, "1000000/s").burst, 1000000u);
  EXPECT_EQ(make("", {}, "60000000/m").rate_per_second, 1e6);
  std::string error;
  for (std::string_view bad : {"0/s", "0/m", "1000001/s", "60000001/m", "10/h", "10", "-1/s", "+1/s", "1.5/s",
                               "010/s", "/s", "1/", "1 /s", "1/S", "99999999999999999999/s"}) {
    error.clear();
    EXPECT_FALSE(make_edge_policy("", {}, bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(EdgePolicyWire, MakeRefusesBadFlags) {
  std::string error;
  for (std::string_view bad : {":pass", "nopass", "us\ter:p", "user:p\x7f", "user:p\xc3\xa4", "us\ner:p"}) {
    error.clear();
    EXPECT_FALSE(make_edge_policy(bad, {}, "", &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_TRUE(make_edge_policy("user:", {}, "", nullptr)) << "only the user must be non-empty";
  EXPECT_TRUE(make_edge_policy("user:pa:ss", {}, "", nullptr)) << "the first ':' ends the user";
  EXPECT_TRUE(make_edge_policy("a user:a pass", {}, "", nullptr)) << "spaces are printable";
  error.clear();
  EXPECT_FALSE(make_edge_policy("", {"10.0.0.0/8", "10.0.0.0/33"}, "", &error));
  EXPECT_NE(error.find("10.0.0.0/33"), std::string::npos) << error;
  std::vector<std::string> many(65, "10.0.0.1");
  EXPECT_FALSE(make_edge_policy("", many, "", &error)) << "more than 64 CIDRs";
  many.pop_back();
  EXPECT_TRUE(make_edge_policy("", many, "", &error)) << error;
}

TEST(EdgePolicyWire, MakeRefusesAPolicyTooLongForTheWire) {
  std::vector<std::string> long_v6;
  for (int i = 0; i < 64; ++i) long_v6.push_back("fd00:1111:2222:3333:4444:5555:6666:" + std::to_string(1000 + i));
  std::string error;
  EXPECT_FALSE(make_edge_policy("", long_v6, "", &error)) << "64 x ~44 bytes > 2048";
  EXPECT_NE(error.find("2048"), std::string::npos) << error;
}

TEST(EdgePolicyWire, SaltIsRandomAndTheHashIsSha256OfSaltAndCredentials) {
  const EdgePolicy a = make("ops:s3cret", {}, ""), b = make("ops:s3cret", {}, "");
  EXPECT_NE(a.auth, b.auth) << "a fresh 16-byte salt each time";
  EXPECT_TRUE(credentials_match(a, basic("ops:s3cret")));
  EXPECT_TRUE(credentials_match(b, basic("ops:s3cret")));
  // Recompute hex(SHA-256(salt || "user:pass")) independently.
  ASSERT_EQ(a.auth.size(), 7 + 32 + 1 + 64u);
  std::string salt;
  for (size_t i = 0; i < 16; ++i) salt += static_cast<char>(std::stoi(a.auth.substr(7 + 2 * i, 2), nullptr, 16));
  const std::string input = salt + "ops:s3cret";
  unsigned char digest[32];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr), 1);
  char hex[65];
  for (int i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  EXPECT_EQ(a.auth.substr(40), std::string(hex, 64));
}

TEST(EdgePolicyWire, TheEncodedPolicyDoesNotCarryThePassword) {
  const std::string password = "Correct-Horse-Battery-Staple-42";
  const std::string wire = encode_edge_policy(make("ops:" + password, {"10.0.0.0/8"}, "1/s"));
  EXPECT_EQ(wire.find(password), std::string::npos);
  EXPECT_EQ(wire.find("Correct"), std::string::npos);
  EXPECT_EQ(wire.find(b64("ops:" + password)), std::string::npos);
  std::string hex_password;
  for (unsigned char c : password) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", c);
    hex_password += h;
  }
  EXPECT_EQ(wire.find(hex_password), std::string::npos);
  EXPECT_EQ(wire.find("ops"), std::string::npos) << "nor the user";
  EXPECT_TRUE(credentials_match(*decode_edge_policy(wire, nullptr), basic("ops:" + password)));
}

TEST(EdgePolicyWire, TheLineIsHeaderAndTagSafe) {
  const std::string wire = encode_edge_policy(make("u:p", {"10.0.0.0/8", "::ffff:1.2.3.4", "fd00::/8"}, "7/m"));
  for (char c : wire) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::string_view(":;=,./").find(c) != std::string_view::npos;
    EXPECT_TRUE(ok) << "'" << c << "' in " << wire;
  }
}

TEST(EdgePolicyWire, DecodeRejectsEachBadForm) {
  const std::string salt(32, 'a'), hash(64, 'b');
  const std::string auth = "auth=sha256:" + salt + ":" + hash;
  ASSERT_TRUE(decode_edge_policy(auth, nullptr)) << "the base form is valid";
  ASSERT_TRUE(decode_edge_policy("rate=1/s;allow=::1/128;" + auth, nullptr)) << "any key order";
  const std::vector<std::string> bad = {
      "foo=1",  // unknown key
      "Auth=sha256:" + salt + ":" + hash,
      "rate=1/s;rate=2/s",  // duplicates
      "allow=10.0.0.0/8;allow=::1",
      auth + ";" + auth,
      "allow=10.0.0.0/33",  // bad CIDRs
      "allow=",
      "allow=10.0.0.0/8,",
      "allow=,10.0.0.0/8",
      "allow=10.0.0.0/8,,::1",
      "allow=10.0.0.0/8, ::1",
      "auth=sha256:" + salt + ":" + hash.substr(1),  // bad hash format
      "auth=sha256:" + salt.substr(2) + ":" + hash,
      "auth=sha256:" + std::string(32, 'A') + ":" + hash,
      "auth=sha256:" + salt + ":" + std::string(63, 'b') + "g",
      "auth=sha256:" + salt + hash,
      "auth=md5:" + salt + ":" + hash,
      "auth=sha256:" + salt + ":" + hash + ":",
      "auth=password",
      "auth=",
      ";",  // framing
      "rate=1/s;",
      ";rate=1/s",
      "rate=1/s;;allow=::1/128",
      " rate=1/s",
      "rate=1/s ",
      "rate = 1/s",
      "rate",
      "rate=",
      "=1/s",
      "rate=0/s",  // bad rate
      "rate=1.5/s",
      "rate=2000000/s",
  };
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(decode_edge_policy(text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(EdgePolicyWire, DecodeBoundsLengthAndCidrCount) {
  std::string list;
  for (int i = 0; i < 64; ++i) list += (i ? ",10.0.0." : "10.0.0.") + std::to_string(i) + "/32";
  std::string error;
  const std::optional<EdgePolicy> sixty_four = decode_edge_policy("allow=" + list, &error);
  ASSERT_TRUE(sixty_four) << error;
  EXPECT_EQ(sixty_four->allow.size(), 64u);
  EXPECT_FALSE(decode_edge_policy("allow=" + list + ",10.0.1.0/32", &error)) << "65 CIDRs";
  EXPECT_NE(error.find("64"), std::string::npos) << error;

  // A valid line of exactly 2048 bytes is accepted and one of 2049 refused:
  // 64 times ::1/128 written out with zero-padded groups to reach the length.
  std::string at_limit = padded_allow_line(2048), over = padded_allow_line(2049);
  ASSERT_EQ(at_limit.size(), 2048u);
  ASSERT_EQ(over.size(), 2049u);
  error.clear();
  const std::optional<EdgePolicy> big = decode_edge_policy(at_limit, &error);
  ASSERT_TRUE(big) << error;
  EXPECT_EQ(big->allow.size(), 64u);
  EXPECT_EQ(to_string(big->allow.back()), "::1/128");
  EXPECT_FALSE(decode_edge_policy(over, &error));
  EXPECT_NE(error.find("2048"), std::string::npos) << error;
}

// --- Enforcement -------------------------------------------------------------

TEST(EdgeCredentials, RightWrongAndMalformed) {
  const EdgePolicy p = make("ops:s3cret", {}, "");
  EXPECT_TRUE(credentials_match(p, basic("ops:s3cret")));
  EXPECT_TRUE(credentials_match(p, "basic " + b64("ops:s3cret"))) << "scheme is case-insensitive";
  EXPECT_TRUE(credentials_match(p, "BASIC " + b64("ops:s3cret")));
  EXPECT_TRUE(credentials_match(p, "  Basic   " + b64("ops:s3cret") + " ")) << "optional whitespace";
  EXPECT_FALSE(credentials_match(p, basic("ops:s3cre")));
  EXPECT_FALSE(credentials_match(p, basic("ops:s3cret ")));
  EXPECT_FALSE(credentials_match(p, basic("ops:S3cret")));
  EXPECT_FALSE(credentials_match(p, basic("root:s3cret"))) << "wrong user";
  EXPECT_FALSE(credentials_match(p, basic("Ops:s3cret")));
  EXPECT_FALSE(credentials_match(p, "")) << "no header";
  EXPECT_FALSE(credentials_match(p, "Basic"));
  EXPECT_FALSE(credentials_match(p, "Basic "));
  EXPECT_FALSE(credentials_match(p, "Bearer " + b64("ops:s3cret"))) << "other scheme";
  EXPECT_FALSE(credentials_match(p, "Digest username=\"ops\""));
  EXPECT_FALSE(credentials_match(p, "Basicx " + b64("ops:s3cret")));
  EXPECT_FALSE(credentials_match(p, b64("ops:s3cret"))) << "no scheme";
  EXPECT_FALSE(credentials_match(p, "Basic !!!!")) << "bad base64";
  EXPECT_FALSE(credentials_match(p, "Basic b3BzOnMzY3JldA")) << "unpadded base64 is refused";
  EXPECT_EQ(b64("ops:s3cret"), "b3BzOnMzY3JldA==");
  EXPECT_FALSE(credentials_match(p, "Basic b3BzOnMzY3Jl=dA="));
  EXPECT_FALSE(credentials_match(p, "Basic b3BzOnMz Y3JldA=="));
  EXPECT_FALSE(credentials_match(p, "Basic ===="));
  EXPECT_FALSE(credentials_match(p, basic("ops"))) << "no ':'";
  EXPECT_FALSE(credentials_match(p, "Basic " + std::string(8192, 'A'))) << "over-long";
}

TEST(EdgeCredentials, EveryDigitOfTheHashCounts) {
  EdgePolicy p = make("ops:s3cret", {}, "");
  ASSERT_TRUE(credentials_match(p, basic("ops:s3cret")));
  for (size_t at : {p.auth.size() - 1, size_t{45}, size_t{80}}) {
    EdgePolicy tampered = p;
    tampered.auth[at] = tampered.auth[at] == '0' ? '1' : '0';
    EXPECT_FALSE(credentials_match(tampered, basic("ops:s3cret"))) << "hash digit " << at;
  }
  EdgePolicy other_salt = p;
  other_salt.auth[7] = other_salt.auth[7] == '0' ? '1' : '0';
  EXPECT_FALSE(credentials_match(other_salt, basic("ops:s3cret"))) << "the salt is part of the hash";
  EdgePolicy broken = p;
  broken.auth.pop_back();
  EXPECT_FALSE(credentials_match(broken, basic("ops:s3cret"))) << "a malformed stored hash matches nothing";
}

TEST(EdgeCredentials, NothingMayFollowTheBase64) {
  const EdgePolicy p = make("ops:pass1", {}, "");  // 9 bytes: 12 base64 digits, no padding
  ASSERT_EQ(b64("ops:pass1").size(), 12u);
  ASSERT_TRUE(credentials_match(p, basic("ops:pass1")));
  EXPECT_FALSE(credentials_match(p, basic("ops:pass1") + "A"));
  EXPECT_FALSE(credentials_match(p, basic("ops:pass1") + "AA"));
  EXPECT_FALSE(credentials_match(p, basic("ops:pass1") + "="));
  EXPECT_FALSE(credentials_match(p, basic("ops:pass1") + "AA=="));
  EXPECT_FALSE(credentials_match(p, basic("ops:pass1") + " x"));
}

TEST(EdgeCredentials, PasswordsWithColonsAndEmptyOnes) {
  const EdgePolicy colon = make("ops:pa:ss", {}, "");
  EXPECT_TRUE(credentials_match(colon, basic("ops:pa:ss")));
  EXPECT_FALSE(credentials_match(colon, basic("ops:pa")));
  EXPECT_FALSE(credentials_match(colon, basic("ops:pa:")));
  const EdgePolicy empty = make("ops:", {}, "");
  EXPECT_TRUE(credentials_match(empty, basic("ops:")));
  EXPECT_FALSE(credentials_match(empty, basic("ops: ")));
  EXPECT_FALSE(credentials_match(empty, basic("ops")));
}

TEST(EdgeCredentials, NoAuthInThePolicyNeedsNoHeader) {
  const EdgePolicy p = make("", {"10.0.0.0/8"}, "");
  EXPECT_TRUE(credentials_match(p, ""));
  EXPECT_TRUE(credentials_match(p, "Bearer anything"));
}

TEST(EdgeCheck, IpAllowed) {
  EXPECT_TRUE(ip_allowed(EdgePolicy{}, "203.0.113.9")) << "empty list = any";
  EXPECT_TRUE(ip_allowed(EdgePolicy{}, "2001:db8::1"));
  const EdgePolicy p = make("", {"10.0.0.0/8", "fd00::/8", "192.168.1.7"}, "");
  EXPECT_TRUE(ip_allowed(p, "10.20.30.40"));
  EXPECT_TRUE(ip_allowed(p, "::ffff:10.20.30.40"));
  EXPECT_TRUE(ip_allowed(p, "fd00::1"));
  EXPECT_TRUE(ip_allowed(p, "192.168.1.7"));
  EXPECT_FALSE(ip_allowed(p, "192.168.1.8"));
  EXPECT_FALSE(ip_allowed(p, "11.0.0.1"));
  EXPECT_FALSE(ip_allowed(p, "fe80::1"));
  EXPECT_FALSE(ip_allowed(p, "")) << "an unknown address fails closed";
  EXPECT_FALSE(ip_allowed(p, "not-an-ip"));
}

TEST(EdgeCheck, ForbiddenBeforeUnauthorized) {
  const EdgePolicy p = make("ops:s3cret", {"10.0.0.0/8"}, "1/s");
  const std::string good = basic("ops:s3cret"), bad = basic("ops:nope");
  EXPECT_EQ(check_edge_request(p, "11.0.0.1", good), EdgeVerdict::forbidden);
  EXPECT_EQ(check_edge_request(p, "11.0.0.1", bad), EdgeVerdict::forbidden) << "an outsider learns nothing of auth";
  EXPECT_EQ(check_edge_request(p, "11.0.0.1", ""), EdgeVerdict::forbidden);
  EXPECT_EQ(check_edge_request(p, "10.0.0.1", ""), EdgeVerdict::unauthorized);
  EXPECT_EQ(check_edge_request(p, "10.0.0.1", bad), EdgeVerdict::unauthorized);
  EXPECT_EQ(check_edge_request(p, "10.0.0.1", good), EdgeVerdict::allow);
  EXPECT_EQ(check_edge_request(p, "10.0.0.1", good), EdgeVerdict::allow) << "the rate is not checked here";
  EXPECT_EQ(check_edge_request(EdgePolicy{}, "", ""), EdgeVerdict::allow);
  const EdgePolicy auth_only = make("ops:s3cret", {}, "");
  EXPECT_EQ(check_edge_request(auth_only, "203.0.113.1", ""), EdgeVerdict::unauthorized);
  EXPECT_EQ(check_edge_request(auth_only, "203.0.113.1", good), EdgeVerdict::allow);
}

// --- The rate limiter (manual clock) ----------------------------------------

TEST(EdgeLimiter, BurstThenRefuse) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.take("t", 10, 10, t0)) << i;
  EXPECT_FALSE(limiter.take("t", 10, 10, t0));
  EXPECT_FALSE(limiter.take("t", 10, 10, t0));
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(EdgeLimiter, RefillsOverManualTimeUpToTheBurst) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take("t", 10, 10, t0));
  ASSERT_FALSE(limiter.take("t", 10, 10, t0));
  EXPECT_FALSE(limiter.take("t", 10, 10, t0 + 50ms)) << "half a token";
  EXPECT_TRUE(limiter.take("t", 10, 10, t0 + 100ms)) << "one token after 100 ms at 10/s";
  EXPECT_FALSE(limiter.take("t", 10, 10, t0 + 100ms));
  int granted = 0;
  for (int i = 0; i < 20; ++i) granted += limiter.take("t", 10, 10, t0 + 1h);
  EXPECT_EQ(granted, 10) << "an idle hour refills to the burst, no more";
}

TEST(EdgeLimiter, PerMinuteRatesRefillFractionally) {
  EdgeRateLimiter limiter;
  const EdgePolicy p = make("", {}, "100/m");  // 1.67/s, burst 2
  const Clock::time_point t0{};
  EXPECT_TRUE(limiter.take("t", p.rate_per_second, p.burst, t0));
  EXPECT_TRUE(limiter.take("t", p.rate_per_second, p.burst, t0));
  EXPECT_FALSE(limiter.take("t", p.rate_per_second, p.burst, t0));
  EXPECT_FALSE(limiter.take("t", p.rate_per_second, p.burst, t0 + 590ms));
  EXPECT_TRUE(limiter.take("t", p.rate_per_second, p.burst, t0 + 610ms)) << "one token per 0.6 s";
}

TEST(EdgeLimiter, KeysAreIndependent) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0{};
  ASSERT_TRUE(limiter.take("a", 1, 1, t0));
  EXPECT_FALSE(limiter.take("a", 1, 1, t0));
  EXPECT_TRUE(limiter.take("b", 1, 1, t0)) << "b has its own bucket";
  EXPECT_FALSE(limiter.take("b", 1, 1, t0));
  EXPECT_FALSE(limiter.take("a", 1, 1, t0));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(EdgeLimiter, NoRateMeansNoLimitAndNoState) {
  EdgeRateLimiter limiter;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.take("t", 0, 0, Clock::time_point{}));
  EXPECT_TRUE(limiter.take("t", -1, 5, Clock::time_point{}));
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(EdgeLimiter, ClockGoingBackAddsNothingAndALowerBurstClamps) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0 = Clock::time_point{} + 10s;
  ASSERT_TRUE(limiter.take("t", 1, 1, t0));
  EXPECT_FALSE(limiter.take("t", 1, 1, t0 - 5s)) << "an older now refills nothing";
  EXPECT_FALSE(limiter.take("t", 1, 1, t0 + 500ms)) << "and did not move the refill point back";
  EXPECT_TRUE(limiter.take("t", 1, 1, t0 + 1s));
  // An older `now` neither refills nor drains: the token left is still there.
  ASSERT_TRUE(limiter.take("v", 1, 2, t0));
  EXPECT_TRUE(limiter.take("v", 1, 2, t0 - 5s)) << "one of two tokens left";
  EXPECT_FALSE(limiter.take("v", 1, 2, t0));
  // A re-registered policy with a smaller burst takes effect at once.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.take("u", 100, 100, t0));
  EXPECT_TRUE(limiter.take("u", 100, 2, t0));
  EXPECT_TRUE(limiter.take("u", 100, 2, t0));
  EXPECT_FALSE(limiter.take("u", 100, 2, t0)) << "95 tokens clamped to 2";
  EXPECT_TRUE(limiter.take("z", 5, 0, t0)) << "burst 0 is treated as 1";
  EXPECT_FALSE(limiter.take("z", 5, 0, t0));
}

TEST(EdgeLimiter, BoundedAtMaxKeysEvictingTheLeastRecentlyUsed) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0{};
  ASSERT_TRUE(limiter.take("drained", 1, 1, t0));
  ASSERT_FALSE(limiter.take("drained", 1, 1, t0));
  for (size_t i = 1; i < EdgeRateLimiter::kMaxKeys; ++i) limiter.take("k" + std::to_string(i), 1, 1, t0);
  ASSERT_EQ(limiter.size(), EdgeRateLimiter::kMaxKeys);
  EXPECT_FALSE(limiter.take("drained", 1, 1, t0)) << "still held, and now the most recent";
  limiter.take("k4096", 1, 1, t0);  // the 4097th key
  EXPECT_EQ(limiter.size(), EdgeRateLimiter::kMaxKeys) << "the 4097th key does not grow the table";
  EXPECT_FALSE(limiter.take("drained", 1, 1, t0)) << "k1, the least recently used, went instead";
  EXPECT_TRUE(limiter.take("k1", 1, 1, t0)) << "k1 was evicted: it comes back with a full bucket";
  for (size_t i = 0; i < 3 * EdgeRateLimiter::kMaxKeys; ++i) limiter.take("n" + std::to_string(i), 1, 1, t0);
  EXPECT_EQ(limiter.size(), EdgeRateLimiter::kMaxKeys);
  EXPECT_TRUE(limiter.take("drained", 1, 1, t0)) << "evicted by newer keys: starts full";
}

TEST(EdgeLimiter, ConcurrentTakersNeverExceedTheBurst) {
  EdgeRateLimiter limiter;
  const Clock::time_point t0{};
  std::atomic<int> granted{0}, granted_own{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        granted += limiter.take("shared", 1, 100, t0);
        granted_own += limiter.take("own" + std::to_string(t), 1, 10, t0);
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(granted.load(), 100);
  EXPECT_EQ(granted_own.load(), 40);
  EXPECT_EQ(limiter.size(), 5u);
}

}  // namespace
}  // namespace sy::tunnel
