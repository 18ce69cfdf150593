// Route matching: paths on whole segments, wildcards, case, ports, empty pools.
#include <gtest/gtest.h>

#include "tests/support/route_builder.hpp"
#include "common/names/hostname.hpp"
#include "router/route/registry.hpp"

namespace sy::route {
namespace {

RouteMessage msg(const std::string& host, uint16_t port, std::vector<std::string> uris) {
  return test::route_msg(host, port, uris);
}

std::string addr(const Pool* p) { return p && !p->empty() ? p->endpoints()[0]->address() : "none"; }

class RouteTableTest : public ::testing::Test {
 protected:
  TimePoint now{std::chrono::seconds(1000)};
  Registry registry{RegistryOptions{}, 42};
  const RouteTable& table() { return *registry.publish(); }
};

TEST_F(RouteTableTest, LongestPathSegmentWins) {
  registry.apply_register(msg("10.0.0.1", 80, {"a.com"}), now);
  registry.apply_register(msg("10.0.0.2", 80, {"a.com/api"}), now);
  registry.apply_register(msg("10.0.0.3", 80, {"a.com/api/v2"}), now);
  EXPECT_EQ(addr(table().find("a.com", "/")), "10.0.0.1:80");
  EXPECT_EQ(addr(table().find("a.com", "")), "10.0.0.1:80");
  EXPECT_EQ(addr(table().find("a.com", "/api")), "10.0.0.2:80");
  EXPECT_EQ(addr(table().find("a.com", "/api/")), "10.0.0.2:80");
  EXPECT_EQ(addr(table().find("a.com", "/api/v1/x")), "10.0.0.2:80");
  EXPECT_EQ(addr(table().find("a.com", "/api/v2/x")), "10.0.0.3:80");
  EXPECT_EQ(addr(table().find("a.com", "/apiary")), "10.0.0.1:80") << "segments, not string prefixes";
  EXPECT_EQ(addr(table().find("a.com", "/API/V2")), "10.0.0.3:80") << "paths match case-insensitively";
}

TEST_F(RouteTableTest, PathOnlyRouteDoesNotCatchOtherPaths) {
  registry.apply_register(msg("10.0.0.2", 80, {"b.com/api"}), now);
  EXPECT_EQ(table().find("b.com", "/other"), nullptr);
  EXPECT_EQ(addr(table().find("b.com", "/api/x")), "10.0.0.2:80");
}

TEST_F(RouteTableTest, WildcardFallbackOneLabelAtATime) {
  registry.apply_register(msg("10.0.0.1", 80, {"*.a.com"}), now);
  registry.apply_register(msg("10.0.0.2", 80, {"*.y.a.com"}), now);
  registry.apply_register(msg("10.0.0.3", 80, {"exact.y.a.com"}), now);
  EXPECT_EQ(addr(table().find("exact.y.a.com", "/")), "10.0.0.3:80");
  EXPECT_EQ(addr(table().find("x.y.a.com", "/")), "10.0.0.2:80");
  EXPECT_EQ(addr(table().find("q.a.com", "/")), "10.0.0.1:80");
  EXPECT_EQ(addr(table().find("deep.q.a.com", "/")), "10.0.0.1:80");
  EXPECT_EQ(table().find("a.com", "/"), nullptr) << "*.a.com does not cover the apex";
  EXPECT_EQ(table().find("b.com", "/"), nullptr);
}

TEST_F(RouteTableTest, WildcardsComeAndGoAtEachDepth) {
  registry.apply_register(msg("10.0.0.1", 80, {"*.a.com", "*.b.com"}), now);
  registry.apply_register(msg("10.0.0.2", 80, {"*.x.y.c.com"}), now);
  EXPECT_EQ(addr(table().find("q.r.s.a.com", "/")), "10.0.0.1:80");
  EXPECT_EQ(addr(table().find("q.x.y.c.com", "/")), "10.0.0.2:80");
  registry.apply_unregister(msg("10.0.0.1", 80, {"*.a.com"}), now);
  EXPECT_EQ(table().find("q.a.com", "/"), nullptr);
  EXPECT_EQ(addr(table().find("q.b.com", "/")), "10.0.0.1:80") << "another wildcard of the same depth remains";
  registry.apply_unregister(msg("10.0.0.1", 80, {"*.b.com"}), now);
  registry.apply_register(msg("10.0.0.1", 80, {"*.a.com"}), now);
  EXPECT_EQ(addr(table().find("q.a.com", "/")), "10.0.0.1:80");
  EXPECT_EQ(table().find("q.b.com", "/"), nullptr);
  registry.apply_unregister(msg("10.0.0.2", 80, {"*.x.y.c.com"}), now);
  EXPECT_EQ(table().find("q.x.y.c.com", "/"), nullptr);
  EXPECT_EQ(addr(table().find("q.x.y.a.com", "/")), "10.0.0.1:80");
}

TEST_F(RouteTableTest, RegisteredUrisAreCaseInsensitiveAndTrailingSlashFree) {
  registry.apply_register(msg("10.0.0.1", 80, {"Mixed.Example.COM/Api/"}), now);
  EXPECT_EQ(addr(table().find("mixed.example.com", "/api")), "10.0.0.1:80");
}

TEST_F(RouteTableTest, NormalizeHostStripsPortAndCase) {
  std::string h;
  ASSERT_TRUE(names::normalize_host("App.Example.com:8080", &h));
  EXPECT_EQ(h, "app.example.com");
  ASSERT_TRUE(names::normalize_host("[::1]:80", &h));
  EXPECT_EQ(h, "[::1]");
  EXPECT_FALSE(names::normalize_host("", &h));
  EXPECT_FALSE(names::normalize_host(":80", &h));
}

TEST_F(RouteTableTest, SameAddressIsOneEndpointAndRefreshesHeartbeat) {
  registry.apply_register(msg("10.0.0.1", 80, {"a.com"}), now);
  registry.publish();
  Change c = registry.apply_register(msg("10.0.0.1", 80, {"a.com"}), now + std::chrono::seconds(5));
  EXPECT_EQ(c.heartbeats, 1);
  EXPECT_EQ(c.endpoints_added, 0);
  EXPECT_FALSE(registry.dirty()) << "a heartbeat needs no new snapshot";
  EXPECT_EQ(registry.endpoint_count(), 1u);
  const Pool* p = table().find("a.com", "/");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->endpoints()[0]->last_heartbeat(), now + std::chrono::seconds(5));
}

TEST_F(RouteTableTest, ChangedFieldsUpdateTheEndpoint) {
  RouteMessage m = msg("10.0.0.1", 80, {"a.com"});
  registry.apply_register(m, now);
  m.endpoint.meta.app_id = "app-guid";
  Change c = registry.apply_register(m, now);
  EXPECT_EQ(c.endpoints_updated, 1);
  EXPECT_EQ(table().find("a.com", "/")->endpoints()[0]->meta().app_id, "app-guid");
}

TEST_F(RouteTableTest, UnregisterMatchesHostPortOnly) {
  registry.apply_register(msg("10.0.0.1", 80, {"a.com", "b.com"}), now);
  registry.apply_register(msg("10.0.0.2", 80, {"a.com"}), now);
  RouteMessage un = msg("10.0.0.1", 80, {"a.com"});
  un.endpoint.meta.private_instance_id = "ignored";
  Change c = registry.apply_unregister(un, now);
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(addr(table().find("a.com", "/")), "10.0.0.2:80");
  EXPECT_EQ(addr(table().find("b.com", "/")), "10.0.0.1:80");
  registry.apply_unregister(msg("10.0.0.1", 80, {"b.com"}), now);
  EXPECT_EQ(table().find("b.com", "/"), nullptr) << "an emptied pool is dropped with empty_pool_timeout 0";
  EXPECT_EQ(registry.route_count(), 1u);
}

TEST_F(RouteTableTest, TlsPortIsTheIdentity) {
  RouteMessage m = msg("10.0.0.1", 80, {"a.com"});
  m.endpoint.port = 443;
  m.endpoint.tls = true;
  registry.apply_register(m, now);
  EXPECT_EQ(addr(table().find("a.com", "/")), "10.0.0.1:443");
}

TEST_F(RouteTableTest, UnchangedHostsAreSharedBetweenSnapshots) {
  registry.apply_register(msg("10.0.0.1", 80, {"a.com"}), now);
  RouteTablePtr first = registry.publish();
  registry.apply_register(msg("10.0.0.2", 80, {"b.com"}), now);
  RouteTablePtr second = registry.publish();
  EXPECT_EQ(first->find("a.com", "/"), second->find("a.com", "/")) << "same Pool object";
  EXPECT_EQ(first->find("b.com", "/"), nullptr) << "old snapshots never change";
  EXPECT_EQ(second->route_count(), 2u);
}

}  // namespace
}  // namespace sy::route
