// Pruning suspension while NATS is down, with a manual clock.
#include <gtest/gtest.h>

#include "tests/support/route_builder.hpp"
#include "router/route/pruner.hpp"

namespace sy::route {
namespace {

using std::chrono::seconds;

RouteMessage msg(const std::string& uri) { return test::route_msg("10.0.0.1", 80, {uri}); }

class PrunerTest : public ::testing::Test {
 protected:
  TimePoint t0{seconds(10000)};
  Registry registry{RegistryOptions{seconds(120), seconds(0), Algorithm::round_robin}, 1};
};

TEST_F(PrunerTest, PrunesStaleEndpointsWhileNatsIsUp) {
  Pruner pruner(registry, true);
  pruner.nats_up(t0);
  registry.apply_register(msg("a.com"), t0);
  Change c;
  EXPECT_EQ(pruner.tick(t0 + seconds(120), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 0) << "exactly at the threshold is not stale";
  EXPECT_EQ(pruner.tick(t0 + seconds(121), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(registry.route_count(), 0u);
}

TEST_F(PrunerTest, SuspendedWhileNatsIsDownAndFreshenedOnReconnect) {
  Pruner pruner(registry, true);
  pruner.nats_up(t0);
  registry.apply_register(msg("a.com"), t0);
  pruner.nats_down();
  Change c;
  EXPECT_EQ(pruner.tick(t0 + seconds(500), &c), Pruner::Result::suspended);
  EXPECT_EQ(registry.endpoint_count(), 1u) << "no heartbeat could arrive: nothing is stale";
  EXPECT_TRUE(pruner.nats_up(t0 + seconds(600))) << "reconnect freshens every heartbeat";
  EXPECT_EQ(pruner.tick(t0 + seconds(700), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 0) << "100 s after reconnect is within the 120 s threshold";
  EXPECT_EQ(pruner.tick(t0 + seconds(721), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 1) << "still no heartbeat 121 s after reconnect";
}

TEST_F(PrunerTest, WithoutSuspensionAnOutagePrunesEverything) {
  Pruner pruner(registry, false);
  pruner.nats_up(t0);
  registry.apply_register(msg("a.com"), t0);
  pruner.nats_down();
  Change c;
  EXPECT_EQ(pruner.tick(t0 + seconds(121), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 1);
}

TEST_F(PrunerTest, FirstConnectIsNotAReconnect) {
  Pruner pruner(registry, true);
  registry.apply_register(msg("a.com"), t0);
  EXPECT_FALSE(pruner.nats_up(t0 + seconds(50)));
  EXPECT_EQ(registry.current()->route_count(), 0u);  // (nothing published yet; just no crash)
  Change c;
  EXPECT_EQ(pruner.tick(t0 + seconds(121), &c), Pruner::Result::pruned);
  EXPECT_EQ(c.endpoints_removed, 1) << "the first connect does not freshen";
}

TEST_F(PrunerTest, SuspendedBeforeTheFirstConnect) {
  Pruner pruner(registry, true);
  registry.apply_register(msg("a.com"), t0);
  Change c;
  EXPECT_EQ(pruner.tick(t0 + seconds(500), &c), Pruner::Result::suspended);
}

}  // namespace
}  // namespace sy::route
