// Host-name rules shared by every binary (common/names/hostname.hpp).
#include <gtest/gtest.h>

#include <string>

#include "common/names/hostname.hpp"

namespace sy::names {
namespace {

using namespace std::string_literals;

TEST(ValidHostnameTest, AcceptsNamesAndAddresses) {
  for (const char* ok : {"10.0.0.1", "my-host.example.com", "Upper.Case.Host", "under_score", "fd00::1", "::1"})
    EXPECT_TRUE(valid_hostname(ok)) << ok;
  EXPECT_TRUE(valid_hostname(std::string(253, 'h')));
}

TEST(ValidHostnameTest, RejectsJunk) {
  for (const char* bad : {"", "a b", "a/b", "[::1]", "a\tb", "host\n", "a@b", "a%b", "h\xc3\xa9"})
    EXPECT_FALSE(valid_hostname(bad)) << bad;
  EXPECT_FALSE(valid_hostname(std::string(254, 'h')));
  EXPECT_FALSE(valid_hostname("a\0b"s));
}

TEST(NormalizeHostTest, StripsPortAndLowerCases) {
  std::string h;
  ASSERT_TRUE(normalize_host("App.Example.COM:8080", &h));
  EXPECT_EQ(h, "app.example.com");
  ASSERT_TRUE(normalize_host("a.com", &h));
  EXPECT_EQ(h, "a.com");
  ASSERT_TRUE(normalize_host("A.com:", &h));
  EXPECT_EQ(h, "a.com");
  ASSERT_TRUE(normalize_host("[FD00::1]:443", &h));
  EXPECT_EQ(h, "[fd00::1]");
  ASSERT_TRUE(normalize_host("[::1]", &h));
  EXPECT_EQ(h, "[::1]");
  EXPECT_FALSE(normalize_host("", &h));
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(normalize_host(":443", &h));
}

TEST(NormalizeHostTest, OverwritesOutput) {
  std::string h = "stale-content";
  ASSERT_TRUE(normalize_host("B.com", &h));
  EXPECT_EQ(h, "b.com");
}

TEST(HostPortTest, NeedsAHostAndAPortInRange) {
  for (const char* ok : {"10.0.0.7:8081", "node-a.internal:1", "[fd00::1]:65535"}) EXPECT_TRUE(valid_host_port(ok)) << ok;
  for (const char* bad : {"nohostport", ":80", "a:", "a:0", "a:65536", "a:8o"}) EXPECT_FALSE(valid_host_port(bad)) << bad;
}

TEST(DnsNameTest, LowerCasesAndChecksLabels) {
  std::string n = "Tunnel.Example.COM";
  EXPECT_TRUE(valid_dns_name(n));
  EXPECT_EQ(n, "tunnel.example.com");
  for (std::string bad : {"-a.b", "a-.b", "a..b", "a_b.c", "x.", ""}) EXPECT_FALSE(valid_dns_name(bad)) << bad;
}

}  // namespace
}  // namespace sy::names
