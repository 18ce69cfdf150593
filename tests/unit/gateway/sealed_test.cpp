// router/gateway/sealed: opening the lines `openssl enc -aes-256-cbc -a -salt`
// makes (vectors made with OpenSSL 3.0.19's CLI, pasted as literals), the
// seed's own example, what must be refused, and seal() round trips.
#include "router/gateway/sealed.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sy::gateway {
namespace {

constexpr const char* kSecret = "p0S8rX680*48";

// echo -n "127.0.0.1:62863" | openssl enc -e -aes-256-cbc -a -salt -k 'p0S8rX680*48'
constexpr const char* kSha256Line = "U2FsdGVkX1/CcgPACpj49y2K1Eeh59cFx07LrJA2/uM=";
// ... the same with -md md5
constexpr const char* kMd5Line = "U2FsdGVkX19QgAWD0ERiB/Ht7fOwNgZ3+6ESqODoXZo=";
// seed 004's example (openssl enc -d ... -md md5 gives 127.0.0.1:62863; the SHA-256 derivation says "bad decrypt")
constexpr const char* kSeedLine = "U2FsdGVkX19KIJ9OQJKT/yHGMrS+5SsBAAjetomptQ0=";

Target v4(const std::string& host, uint16_t port) { return Target{host, port, Target::Kind::ipv4}; }

TEST(SealedOpen, OpensslSha256Line) {
  const std::optional<Opened> o = open_sealed(kSha256Line, kSecret);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->target, v4("127.0.0.1", 62863));
  EXPECT_EQ(o->derivation, Derivation::sha256);
}

TEST(SealedOpen, OpensslMd5Line) {
  const std::optional<Opened> o = open_sealed(kMd5Line, kSecret);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->target, v4("127.0.0.1", 62863));
  EXPECT_EQ(o->derivation, Derivation::md5);
}

TEST(SealedOpen, SeedExampleIsMd5To127001Port62863) {
  const std::optional<Opened> o = open_sealed(kSeedLine, kSecret);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->target, v4("127.0.0.1", 62863));
  EXPECT_EQ(o->derivation, Derivation::md5);
  // With its '\r' (a client ending the line with CRLF).
  EXPECT_TRUE(open_sealed(std::string(kSeedLine) + "\r", kSecret));
}

TEST(SealedOpen, OtherOpensslVectors) {
  // [::1]:8080 and db.internal.example:5432, SHA-256 derivation.
  const std::optional<Opened> v6 = open_sealed("U2FsdGVkX1+2IFZDADy3kS06fNoHOgeLfzRE5G5RIO0=", kSecret);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->target, (Target{"::1", 8080, Target::Kind::ipv6}));
  const std::optional<Opened> name =
      open_sealed("U2FsdGVkX18OStsKjsSo4NntkGoNO1omb7ByP+T+G+YAq7NwY+qh/FikUeKgqr69", kSecret);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->target, (Target{"db.internal.example", 5432, Target::Kind::name}));
}

TEST(SealedOpen, WrongSecretCannotDecrypt) {
  EXPECT_FALSE(open_sealed(kSha256Line, "p0S8rX680*49"));
  EXPECT_FALSE(open_sealed(kMd5Line, "another"));
  EXPECT_FALSE(open_sealed(kSeedLine, ""));
}

TEST(SealedOpen, MalformedLinesAreRefused) {
  EXPECT_FALSE(open_sealed("", kSecret));
  EXPECT_FALSE(open_sealed("not base64 at all!", kSecret));
  EXPECT_FALSE(open_sealed("U2FsdGVkX1/CcgPACpj49y2K1Eeh59cFx07LrJA2/uM", kSecret));    // padding lost
  EXPECT_FALSE(open_sealed("U2FsdGVkX1/CcgPACpj49y2K1Eeh59cFx07LrJA2/uM=\n", kSecret));  // the newline is not the line's
  EXPECT_FALSE(open_sealed(" U2FsdGVkX1/CcgPACpj49y2K1Eeh59cFx07LrJA2/uM=", kSecret));
  EXPECT_FALSE(open_sealed("U2FsdGVkX1/C=cgPACpj49y2K1Eeh59cFx07LrJA2/uM", kSecret));  // '=' inside
  EXPECT_FALSE(open_sealed("U2FsdGVkX1/CcgPA", kSecret));                              // header and salt only
  EXPECT_FALSE(open_sealed(base64_encode("Salted__12345678" + std::string(15, 'x')), kSecret));  // not whole blocks
  // The right length but not "Salted__".
  EXPECT_FALSE(open_sealed(base64_encode("Peppered12345678" + std::string(16, 'x')), kSecret));
}

// Plaintexts that decrypt but are not host:port (vectors from the openssl CLI, SHA-256).
TEST(SealedOpen, BadPlaintextIsRefused) {
  EXPECT_FALSE(open_sealed("U2FsdGVkX193UHfGCHNNuPjZyl4sOMtPBGsNEQUBkRI=", kSecret));  // "localhost"
  EXPECT_FALSE(open_sealed("U2FsdGVkX1/NpuD/qAwP7BgJLwkjOejiFXD7TxPF+Kk=", kSecret));  // "127.0.0.1:0"
  EXPECT_FALSE(open_sealed("U2FsdGVkX1+Y9GlrAG/BrDbxRM2Bex6uCgl+XRgUqck=", kSecret));  // "127.0.0.1:70000"
  EXPECT_FALSE(open_sealed("U2FsdGVkX1+E6RSl/BWK6FnhzdGdNtKWiCL6HLHv8EgHJlIFX2TAuFs38A+eyXEc", kSecret));  // junk
}

TEST(SealedHostPort, WhatIsAccepted) {
  EXPECT_EQ(parse_host_port("10.1.2.3:1"), v4("10.1.2.3", 1));
  EXPECT_EQ(parse_host_port("[2001:db8::1]:65535"), (Target{"2001:db8::1", 65535, Target::Kind::ipv6}));
  EXPECT_EQ(parse_host_port("DB.Example:5432"), (Target{"db.example", 5432, Target::Kind::name}));
  for (const char* bad : {"", ":80", "host", "host:", "host:0", "host:65536", "host:70000", "host:+80", "host:80x",
                          "host: 80", "::1:80", "[::1]", "[nothost]:80", "999.1.1.1:80", "a b:80", "host:80\n",
                          "under_score:80", "127.0.0.1:123456"})
    EXPECT_FALSE(parse_host_port(bad)) << bad;
}

TEST(SealedSeal, RoundTripsWithRandomSalt) {
  std::set<std::string> lines;
  for (const char* address : {"127.0.0.1:5432", "[::1]:443", "db.internal.example:6379"}) {
    const std::optional<std::string> line = seal(address, kSecret);
    ASSERT_TRUE(line) << address;
    EXPECT_EQ(line->rfind("U2FsdGVkX1", 0), 0u) << *line;  // "Salted__"
    EXPECT_EQ(line->find('\n'), std::string::npos);
    const std::optional<Opened> o = open_sealed(*line, kSecret);
    ASSERT_TRUE(o) << *line;
    EXPECT_EQ(o->derivation, Derivation::sha256);
    EXPECT_EQ(*parse_host_port(address), o->target);
    EXPECT_FALSE(open_sealed(*line, "other secret"));
    lines.insert(*line);
    lines.insert(*seal(address, kSecret));  // a fresh salt: a different line
  }
  EXPECT_EQ(lines.size(), 6u);
}

TEST(SealedSeal, RefusesBadAddressOrEmptySecret) {
  EXPECT_FALSE(seal("127.0.0.1", kSecret));
  EXPECT_FALSE(seal("127.0.0.1:0", kSecret));
  EXPECT_FALSE(seal("127.0.0.1:80", ""));
}

TEST(SealedBase64, StrictDecodeAndEncode) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVsbA=="), "hell");
  EXPECT_EQ(base64_decode("aGVs"), "hel");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("aGV sbG8="));
  EXPECT_FALSE(base64_decode("aGVs-G8="));
  EXPECT_FALSE(base64_decode("===="));
}

}  // namespace
}  // namespace sy::gateway
