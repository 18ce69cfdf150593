// registrar/route_state.hpp: the effective heartbeat interval (route interval
// vs a router's minimumRegisterIntervalInSeconds), tick scheduling with `now`
// as a parameter, and the consecutive-unregister limit. No clock, no sleeping.
#include <gtest/gtest.h>

#include "registrar/route_state.hpp"

namespace sy::registrar {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint() + 1000h;

TEST(RegistrarRouteState, EffectiveIntervalIsTheSmallerOfRouteAndRouterMinimum) {
  RouteState s(20s, 5);
  EXPECT_EQ(s.effective_interval(), 20s);
  EXPECT_FALSE(s.set_router_minimum(0s));  // 0 = the router has no preference
  EXPECT_EQ(s.effective_interval(), 20s);
  s.set_router_minimum(30s);  // a router that asks for less often changes nothing
  EXPECT_EQ(s.effective_interval(), 20s);
  s.set_router_minimum(5s);
  EXPECT_EQ(s.effective_interval(), 5s);
  s.set_router_minimum(8s);  // the smallest request is kept
  EXPECT_EQ(s.effective_interval(), 5s);
  EXPECT_EQ(s.router_minimum(), 5s);
  s.set_router_minimum(1s);
  EXPECT_EQ(s.effective_interval(), 1s);
  EXPECT_EQ(s.interval(), 20s);
}

TEST(RegistrarRouteState, FirstTickIsDueAtOnceThenEveryInterval) {
  RouteState s(20s, 5);
  EXPECT_TRUE(s.due(t0));
  s.start_tick(t0);
  EXPECT_EQ(s.next_due(), t0 + 20s);
  EXPECT_FALSE(s.due(t0 + 19999ms));
  EXPECT_TRUE(s.due(t0 + 20s));
  s.start_tick(t0 + 20s + 3ms);  // ticks are counted from when they start
  EXPECT_EQ(s.next_due(), t0 + 40s + 3ms);
}

TEST(RegistrarRouteState, ShorterRouterMinimumPullsTheNextTickIn) {
  RouteState s(20s, 5);
  EXPECT_FALSE(s.set_router_minimum(30s));  // before any tick: nothing to move
  s.start_tick(t0);
  EXPECT_TRUE(s.set_router_minimum(2s));
  EXPECT_EQ(s.next_due(), t0 + 2s);
  EXPECT_TRUE(s.due(t0 + 2s));
  EXPECT_FALSE(s.set_router_minimum(2s));  // the same request again: no change
  s.start_tick(t0 + 2s);
  EXPECT_EQ(s.next_due(), t0 + 4s);
}

TEST(RegistrarRouteState, HealthyRegistersUnhealthyUnregistersUpToTheLimit) {
  RouteState s(1s, 3);
  EXPECT_EQ(s.health(), Health::unknown);
  EXPECT_EQ(s.on_check(true), Publish::register_route);
  EXPECT_EQ(s.on_check(true), Publish::register_route);  // every healthy tick is a heartbeat
  EXPECT_EQ(s.health(), Health::healthy);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(s.on_check(false), Publish::unregister_route) << i;
    EXPECT_EQ(s.consecutive_unregisters(), i);
  }
  EXPECT_EQ(s.on_check(false), Publish::nothing);
  EXPECT_EQ(s.on_check(false), Publish::nothing);
  EXPECT_EQ(s.health(), Health::unhealthy);
  EXPECT_EQ(s.consecutive_unregisters(), 3);
  // Recovery registers again and resets the count.
  EXPECT_EQ(s.on_check(true), Publish::register_route);
  EXPECT_EQ(s.consecutive_unregisters(), 0);
  EXPECT_EQ(s.on_check(false), Publish::unregister_route);
  EXPECT_EQ(s.consecutive_unregisters(), 1);
}

TEST(RegistrarRouteState, FailingFromTheStartStillUnregisters) {
  RouteState s(1s, 5);
  EXPECT_EQ(s.on_check(false), Publish::unregister_route);
  EXPECT_EQ(s.health(), Health::unhealthy);
}

TEST(RegistrarRouteState, LimitZeroNeverUnregistersOnFailure) {
  RouteState s(1s, 0);
  EXPECT_EQ(s.on_check(true), Publish::register_route);
  EXPECT_EQ(s.on_check(false), Publish::nothing);
  EXPECT_EQ(s.on_check(true), Publish::register_route);
}

TEST(RegistrarRouteState, AnnounceReRegistersOnlyHealthyRoutes) {
  RouteState s(10s, 5);
  EXPECT_EQ(s.on_announce(), Publish::nothing);  // never checked yet
  s.on_check(true);
  EXPECT_EQ(s.on_announce(), Publish::register_route);
  s.on_check(false);
  EXPECT_EQ(s.on_announce(), Publish::nothing);
  EXPECT_EQ(s.consecutive_unregisters(), 1);  // announcing does not count
}

}  // namespace
}  // namespace sy::registrar
