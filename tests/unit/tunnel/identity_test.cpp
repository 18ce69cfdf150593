// Tunnel ids, labels, host names, tokens and the forwarded-node signature
// (SPEC §5.2, §5.3).
#include <gtest/gtest.h>

#include "tunnel/identity/identity.hpp"

namespace sy::tunnel {
namespace {

TEST(TunnelIdentity, IdsAndLabels) {
  EXPECT_TRUE(valid_tunnel_id("381433e1-7980-11ee-bbdb-60f262c1e32d"));
  EXPECT_TRUE(valid_tunnel_id("a.b_C-9"));
  EXPECT_FALSE(valid_tunnel_id(""));
  EXPECT_FALSE(valid_tunnel_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_tunnel_id("a/b"));
  EXPECT_FALSE(valid_tunnel_id("a b"));
  EXPECT_TRUE(valid_label("my-app1"));
  EXPECT_FALSE(valid_label("My-App"));
  EXPECT_FALSE(valid_label("-a"));
  EXPECT_FALSE(valid_label("a.b"));
  EXPECT_FALSE(valid_label(std::string(64, 'a')));
}

TEST(TunnelIdentity, HostNamesFollowTheGostRule) {
  EXPECT_EQ(tunnel_host("381433e1-7980-11ee-bbdb-60f262c1e32d", "", "t.example.com"), "b7de88a94729b931.t.example.com");
  EXPECT_EQ(tunnel_host("anything", "shop", "t.example.com"), "shop.t.example.com");
}

TEST(TunnelIdentity, TokensVerifyUnderAnySecretAndExpire) {
  const std::vector<std::string> secrets{"new", "old"};
  const std::string by_old = mint_token("old", "id-1", "shop", 2000);
  EXPECT_EQ(check_token(secrets, by_old, "id-1", "shop", 1000), TokenCheck::ok) << "rotation: old secrets verify";
  EXPECT_EQ(check_token(secrets, by_old, "id-1", "shop", 2001), TokenCheck::expired);
  EXPECT_EQ(check_token(secrets, by_old, "id-2", "shop", 1000), TokenCheck::bad_signature) << "bound to the id";
  EXPECT_EQ(check_token(secrets, by_old, "id-1", "", 1000), TokenCheck::bad_signature) << "bound to the label";
  EXPECT_EQ(check_token({"other"}, by_old, "id-1", "shop", 1000), TokenCheck::bad_signature);
  const std::string never = mint_token("new", "id-1", "", 0);
  EXPECT_EQ(check_token(secrets, never, "id-1", "", 4'000'000'000), TokenCheck::ok);
  for (const char* bad : {"", "123", "x.abc", "12.", "-1.aa", "1.zz"})
    EXPECT_EQ(check_token(secrets, bad, "id-1", "", 1000), TokenCheck::malformed) << bad;
  std::string forged = never;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(check_token(secrets, forged, "id-1", "", 1000), TokenCheck::bad_signature);
}

TEST(TunnelIdentity, ForwardedNodeHeaderIsSignedAndFresh) {
  const std::vector<std::string> secrets{"s3cret"};
  const std::string v = forwarded_node_value("s3cret", "node-a", 1000, "rid-1");
  EXPECT_TRUE(v.starts_with("node-a; ts=1000; sig="));
  ForwardedNode ok = parse_forwarded_node(v, secrets, "rid-1", 1010);
  EXPECT_EQ(ok.node_id, "node-a");
  EXPECT_TRUE(ok.verified);
  EXPECT_FALSE(parse_forwarded_node(v, secrets, "rid-2", 1010).verified) << "bound to the request id";
  EXPECT_FALSE(parse_forwarded_node(v, secrets, "rid-1", 1031).verified) << "older than 30 s";
  EXPECT_FALSE(parse_forwarded_node(v, {"other"}, "rid-1", 1010).verified);
  ForwardedNode bare = parse_forwarded_node("node-b", secrets, "rid-1", 1000);
  EXPECT_EQ(bare.node_id, "node-b") << "an unsigned header still names a node (the loop guard honours it)";
  EXPECT_FALSE(bare.verified);
  EXPECT_FALSE(parse_forwarded_node(v, {}, "rid-1", 1010).verified) << "without a secret nothing is trusted";
}

TEST(TunnelIdentity, TokenLifetimes) {
  EXPECT_EQ(parse_ttl_seconds("30d"), 30 * 86400);
  EXPECT_EQ(parse_ttl_seconds("12h"), 12 * 3600);
  EXPECT_EQ(parse_ttl_seconds("90m"), 90 * 60);
  EXPECT_EQ(parse_ttl_seconds("0"), 0);
  EXPECT_EQ(parse_ttl_seconds("x"), std::nullopt);
  EXPECT_EQ(parse_ttl_seconds("5y"), std::nullopt);
}

TEST(TunnelIdentity, DeclaredAddressesAreCanonicalAndNameOneHostEach) {
  EXPECT_EQ(canonical_address("10.1.2.3:22"), "10.1.2.3:22");
  EXPECT_EQ(canonical_address("[FD00:0:0::1]:22"), "[fd00::1]:22");
  EXPECT_EQ(canonical_address("10.1.2.3", 8080), "10.1.2.3:8080");
  EXPECT_EQ(canonical_address("::1", 22), "[::1]:22");
  for (const char* bad : {"10.1.2.3", "10.1.2.3:0", "10.1.2.3:65536", "fd00::1:22", "host:22", "010.1.2.3:22",
                          "[10.1.2.3]:22", ":22", "10.1.2.3:2x"})
    EXPECT_FALSE(canonical_address(bad)) << bad;
  EXPECT_EQ(address_host("10.1.2.3:22", "t.example"), "10-1-2-3-22.addr.t.example");
  EXPECT_EQ(address_host("[fd00::1]:22", "t.example"), "v6-fd00--1--22.addr.t.example");
  EXPECT_EQ(address_host("[::1]:22", "t.example"), "v6---1--22.addr.t.example");
  // "::" keeps both separators, so two addresses never share a name.
  EXPECT_NE(address_host("[fd00::1]:22", "d"), address_host("[fd00:1::]:22", "d"));
}

}  // namespace
}  // namespace sy::tunnel
