// Endpoint selection: round robin with a seeded random start, least
// connection, Tried exclusion, failed marks, per-pool algorithm override.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/route_builder.hpp"
#include "router/route/registry.hpp"

namespace sy::route {
namespace {

using std::chrono::seconds;

const TimePoint T0{seconds(5000)};

std::vector<EndpointPtr> make_endpoints(int n) {
  std::vector<EndpointPtr> out;
  for (int i = 0; i < n; ++i) {
    EndpointSpec spec;
    spec.host = "10.0.0." + std::to_string(i + 1);
    spec.port = 80;
    spec.stale_threshold = seconds(120);
    out.push_back(std::make_shared<Endpoint>(spec, T0));
  }
  return out;
}

// Index of the endpoint next() returns, -1 for nullptr.
int pick(const Pool& pool, const Tried& tried = Tried{}, TimePoint now = T0) {
  const EndpointPtr* e = pool.next(tried, now);
  if (!e) return -1;
  const auto& eps = pool.endpoints();
  for (size_t i = 0; i < eps.size(); ++i)
    if (&eps[i] == e) return static_cast<int>(i);
  ADD_FAILURE() << "next() returned a pointer outside the pool";
  return -2;
}

std::map<int, int> histogram(const Pool& pool, int picks, TimePoint now = T0) {
  std::map<int, int> h;
  for (int i = 0; i < picks; ++i) ++h[pick(pool, Tried{}, now)];
  return h;
}

RouteMessage msg(const std::string& host, const std::string& uri, std::optional<Algorithm> algorithm = {}) {
  return test::route_msg(host, 80, {uri}, seconds(0), algorithm);
}

// ---- round robin ----

TEST(PoolTest, RoundRobinVisitsEndpointsInOrderFromTheStart) {
  Pool pool("a.com", make_endpoints(5), Algorithm::round_robin, 2);
  std::vector<int> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(pick(pool));
  EXPECT_EQ(seq, (std::vector<int>{2, 3, 4, 0, 1, 2, 3}));
}

TEST(PoolTest, RoundRobinIsEvenOverManyPicks) {
  Pool pool("a.com", make_endpoints(5), Algorithm::round_robin, 123456789);
  EXPECT_EQ(histogram(pool, 1000), (std::map<int, int>{{0, 200}, {1, 200}, {2, 200}, {3, 200}, {4, 200}}));
  // Every window of n consecutive picks covers every endpoint.
  std::vector<int> seq;
  for (int i = 0; i < 50; ++i) seq.push_back(pick(pool));
  for (size_t i = 0; i + 5 <= seq.size(); ++i)
    EXPECT_EQ(std::set<int>(seq.begin() + i, seq.begin() + i + 5).size(), 5u) << "window at " << i;
}

TEST(PoolTest, StartSelectsTheFirstPick) {
  for (uint32_t start : {0u, 1u, 2u, 3u, 7u, 1000u}) {
    Pool pool("a.com", make_endpoints(3), Algorithm::round_robin, start);
    EXPECT_EQ(pick(pool), static_cast<int>(start % 3)) << start;
  }
}

TEST(PoolTest, SingleEndpointIsAlwaysPicked) {
  Pool pool("a.com", make_endpoints(1), Algorithm::round_robin, 99);
  EXPECT_EQ(histogram(pool, 10), (std::map<int, int>{{0, 10}}));
}

TEST(PoolTest, EmptyPoolPicksNothing) {
  Pool rr("a.com", {}, Algorithm::round_robin, 0);
  Pool lc("a.com", {}, Algorithm::least_connection, 0);
  EXPECT_TRUE(rr.empty());
  EXPECT_EQ(rr.next(Tried{}, T0), nullptr);
  EXPECT_EQ(lc.next(Tried{}, T0), nullptr);
}

std::string first_pick(uint32_t seed) {
  Registry r(RegistryOptions{}, seed);
  for (int i = 1; i <= 4; ++i) r.apply_register(msg("10.0.0." + std::to_string(i), "a.com"), T0);
  const Pool* p = r.publish()->find("a.com", "/");
  if (!p) return "none";
  const EndpointPtr* e = p->next(Tried{}, T0);
  return e ? (*e)->address() : "none";
}

TEST(PoolTest, RandomStartDependsOnTheRegistrySeed) {
  std::set<std::string> firsts;
  for (uint32_t seed = 1; seed <= 20; ++seed) firsts.insert(first_pick(seed));
  EXPECT_FALSE(firsts.count("none"));
  EXPECT_GE(firsts.size(), 3u) << "different seeds start round robin at different endpoints";
  EXPECT_EQ(first_pick(77), first_pick(77)) << "the same seed gives the same start";
}

TEST(PoolTest, EachPoolGetsItsOwnStart) {
  // Many pools from one registry: their first picks should not all be the same index.
  Registry r(RegistryOptions{}, 3);
  for (int route = 0; route < 20; ++route)
    for (int i = 1; i <= 4; ++i)
      r.apply_register(msg("10.0.0." + std::to_string(i), "r" + std::to_string(route) + ".com"), T0);
  RouteTablePtr t = r.publish();
  std::set<std::string> firsts;
  for (int route = 0; route < 20; ++route) {
    const Pool* p = t->find("r" + std::to_string(route) + ".com", "/");
    ASSERT_NE(p, nullptr);
    firsts.insert((*p->next(Tried{}, T0))->address());
  }
  EXPECT_GE(firsts.size(), 3u);
}

// ---- Tried ----

void expect_each_once(Algorithm algorithm, int n, uint32_t start) {
  SCOPED_TRACE(std::string(algorithm == Algorithm::round_robin ? "round_robin" : "least_connection") +
               " n=" + std::to_string(n) + " start=" + std::to_string(start));
  Pool pool("a.com", make_endpoints(n), algorithm, start);
  Tried tried;
  std::set<int> seen;
  for (int i = 0; i < n; ++i) {
    const EndpointPtr* e = pool.next(tried, T0);
    ASSERT_NE(e, nullptr) << "pick " << i;
    ASSERT_FALSE(tried.contains(e->get())) << "pick " << i << " repeated an endpoint";
    tried.add(e->get());
    seen.insert(static_cast<int>(e - pool.endpoints().data()));
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  EXPECT_EQ(tried.size(), static_cast<size_t>(n));
  EXPECT_EQ(pool.next(tried, T0), nullptr) << "all tried";
  EXPECT_EQ(pool.next(tried, T0), nullptr) << "still all tried";
}

TEST(PoolTest, TriedEndpointsAreNeverPickedAgain) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection})
    for (int n : {1, 2, 3, 7, 16})
      for (uint32_t start : {0u, 5u, 4000000000u}) expect_each_once(a, n, start);
}

TEST(PoolTest, OneTriedEndpointIsExcludedFromEveryPick) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection}) {
    Pool pool("a.com", make_endpoints(3), a, 0);
    Tried tried;
    tried.add(pool.endpoints()[1].get());
    std::map<int, int> h;
    for (int i = 0; i < 30; ++i) ++h[pick(pool, tried)];
    EXPECT_EQ(h.count(1), 0u) << static_cast<int>(a);
    EXPECT_EQ(h.count(-1), 0u);
    EXPECT_GT(h[0], 0);
    EXPECT_GT(h[2], 0);
  }
}

TEST(PoolTest, ForeignEndpointsInTriedDoNotMatter) {
  Pool pool("a.com", make_endpoints(2), Algorithm::round_robin, 0);
  auto others = make_endpoints(2);  // same addresses, different objects
  Tried tried;
  tried.add(others[0].get());
  tried.add(others[1].get());
  EXPECT_NE(pool.next(tried, T0), nullptr);
  EXPECT_TRUE(tried.contains(others[0].get()));
  EXPECT_FALSE(tried.contains(pool.endpoints()[0].get()));
}

// ---- failed marks ----

TEST(PoolTest, FailedEndpointIsSkippedUntilItsMarkExpires) {
  Pool pool("a.com", make_endpoints(3), Algorithm::round_robin, 0);
  pool.endpoints()[1]->mark_failed(T0 + seconds(30));
  for (TimePoint now : {T0, T0 + seconds(29)}) {
    std::map<int, int> h = histogram(pool, 30, now);
    EXPECT_EQ(h.count(1), 0u) << "failed endpoint picked";
    EXPECT_EQ(h.count(-1), 0u);
    EXPECT_GT(h[0], 0);
    EXPECT_GT(h[2], 0);
  }
  EXPECT_EQ(histogram(pool, 30, T0 + seconds(30)), (std::map<int, int>{{0, 10}, {1, 10}, {2, 10}}))
      << "back in rotation once failed-until is reached";
}

TEST(PoolTest, ClearFailedPutsTheEndpointBack) {
  Pool pool("a.com", make_endpoints(2), Algorithm::round_robin, 0);
  pool.endpoints()[0]->mark_failed(T0 + seconds(30));
  EXPECT_EQ(histogram(pool, 4), (std::map<int, int>{{1, 4}}));
  pool.endpoints()[0]->clear_failed();
  EXPECT_EQ(histogram(pool, 4), (std::map<int, int>{{0, 2}, {1, 2}}));
}

TEST(PoolTest, WhenEveryEndpointIsFailedTheMarksAreIgnored) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection}) {
    Pool pool("a.com", make_endpoints(3), a, 0);
    for (const auto& e : pool.endpoints()) e->mark_failed(T0 + seconds(60));
    std::map<int, int> h = histogram(pool, 30);
    EXPECT_EQ(h.count(-1), 0u) << "never nullptr while endpoints remain untried";
    EXPECT_EQ(h.size(), 3u) << "all endpoints still take turns";
    for (const auto& e : pool.endpoints()) EXPECT_TRUE(e->failed(T0)) << "next() does not clear marks itself";
  }
}

// Regression: the cursor used to move by one per call however many endpoints
// were skipped, so the endpoint after a failed one got twice its share.
// gorouter moves its index past the endpoint it returns, so the healthy
// endpoints share the load evenly.
TEST(PoolTest, RoundRobinSkippingAFailedEndpointDoesNotDoubleItsSuccessor) {
  Pool pool("a.com", make_endpoints(3), Algorithm::round_robin, 0);
  pool.endpoints()[1]->mark_failed(T0 + seconds(30));
  EXPECT_EQ(histogram(pool, 30), (std::map<int, int>{{0, 15}, {2, 15}}));
}

// Regression: with every endpoint failed, next() used to run the picker twice,
// moving the cursor by two per request, so with an even number of endpoints
// half of them were never picked (with two, always the same one).
TEST(PoolTest, AllFailedEvenPoolStillRotatesThroughEveryEndpoint) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection}) {
    for (int n : {2, 4}) {
      Pool pool("a.com", make_endpoints(n), a, 0);
      for (const auto& e : pool.endpoints()) e->mark_failed(T0 + seconds(60));
      EXPECT_EQ(histogram(pool, 4 * n).size(), static_cast<size_t>(n))
          << (a == Algorithm::round_robin ? "round_robin" : "least_connection") << " n=" << n;
    }
  }
}

TEST(PoolTest, WhenEveryUntriedEndpointIsFailedTheMarksAreIgnored) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection}) {
    Pool pool("a.com", make_endpoints(3), a, 0);
    pool.endpoints()[1]->mark_failed(T0 + seconds(60));
    pool.endpoints()[2]->mark_failed(T0 + seconds(60));
    Tried tried;
    tried.add(pool.endpoints()[0].get());
    std::map<int, int> h;
    for (int i = 0; i < 20; ++i) ++h[pick(pool, tried)];
    EXPECT_EQ(h.count(-1), 0u);
    EXPECT_EQ(h.count(0), 0u) << "tried stays excluded even when marks are ignored";
    EXPECT_GT(h[1] + h[2], 0);
  }
}

TEST(PoolTest, HealthyUntriedEndpointBeatsFailedOnes) {
  for (Algorithm a : {Algorithm::round_robin, Algorithm::least_connection}) {
    Pool pool("a.com", make_endpoints(3), a, 0);
    pool.endpoints()[0]->mark_failed(T0 + seconds(60));
    Tried tried;
    tried.add(pool.endpoints()[1].get());
    for (int i = 0; i < 10; ++i) EXPECT_EQ(pick(pool, tried), 2);
  }
}

// ---- least connection ----

TEST(PoolTest, LeastConnectionPicksTheFewestInFlight) {
  Pool pool("a.com", make_endpoints(3), Algorithm::least_connection, 0);
  const auto& eps = pool.endpoints();
  eps[0]->begin_request();
  eps[0]->begin_request();
  eps[2]->begin_request();
  for (int i = 0; i < 9; ++i) EXPECT_EQ(pick(pool), 1) << "whatever the rotating start";

  eps[1]->begin_request();
  eps[1]->begin_request();  // in flight: 2, 2, 1
  for (int i = 0; i < 6; ++i) EXPECT_EQ(pick(pool), 2);

  eps[0]->end_request();
  eps[0]->end_request();  // in flight: 0, 2, 1
  for (int i = 0; i < 6; ++i) EXPECT_EQ(pick(pool), 0);
}

TEST(PoolTest, LeastConnectionBalancesRequestsThatStayOpen) {
  Pool pool("a.com", make_endpoints(4), Algorithm::least_connection, 3);
  for (int i = 0; i < 12; ++i) {
    const EndpointPtr* e = pool.next(Tried{}, T0);
    ASSERT_NE(e, nullptr);
    (*e)->begin_request();
  }
  for (const auto& e : pool.endpoints()) EXPECT_EQ(e->in_flight(), 3) << e->address();
}

TEST(PoolTest, LeastConnectionRotatesAmongTies) {
  Pool pool("a.com", make_endpoints(3), Algorithm::least_connection, 0);
  std::set<int> first_three = {pick(pool), pick(pool), pick(pool)};
  EXPECT_EQ(first_three, (std::set<int>{0, 1, 2})) << "all idle: consecutive picks differ";

  pool.endpoints()[0]->begin_request();  // in flight 1, 0, 0: ties between 1 and 2
  std::map<int, int> h = histogram(pool, 30);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[2], 0);
  EXPECT_EQ(h[1] + h[2], 30);
}

TEST(PoolTest, LeastConnectionHonoursTriedAndFailed) {
  Pool pool("a.com", make_endpoints(4), Algorithm::least_connection, 0);
  const auto& eps = pool.endpoints();
  for (int i = 0; i < 3; ++i) eps[1]->begin_request();
  for (int i = 0; i < 2; ++i) eps[2]->begin_request();
  eps[3]->begin_request();  // in flight 0, 3, 2, 1
  Tried tried;
  tried.add(eps[0].get());
  EXPECT_EQ(pick(pool, tried), 3);
  eps[3]->mark_failed(T0 + seconds(10));
  EXPECT_EQ(pick(pool, tried), 2) << "the least loaded healthy untried endpoint";
  EXPECT_EQ(pick(pool, tried, T0 + seconds(10)), 3) << "mark expired";
}

// ---- per-pool algorithm ----

TEST(PoolTest, LoadBalancingOptionOverridesTheDefaultPerPool) {
  Registry r(RegistryOptions{}, 1);  // default round robin
  auto parsed = parse_route_message(
      R"({"host":"10.0.0.1","port":80,"uris":["lc.com"],"options":{"loadbalancing":"least-connection"}})");
  ASSERT_TRUE(std::holds_alternative<RouteMessage>(parsed));
  r.apply_register(std::get<RouteMessage>(parsed), T0);
  r.apply_register(msg("10.0.0.2", "lc.com"), T0);  // no option: the pool keeps least-connection
  r.apply_register(msg("10.0.0.1", "rr.com"), T0);
  RouteTablePtr t = r.publish();
  const Pool* lc = t->find("lc.com", "/");
  const Pool* rr = t->find("rr.com", "/");
  ASSERT_NE(lc, nullptr);
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(lc->algorithm(), Algorithm::least_connection);
  EXPECT_EQ(rr->algorithm(), Algorithm::round_robin);

  // Behaviour, not just the flag: a busy endpoint is avoided.
  ASSERT_EQ(lc->endpoints().size(), 2u);
  lc->endpoints()[0]->begin_request();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(pick(*lc), 1);
}

TEST(PoolTest, RoundRobinOptionOverridesALeastConnectionDefault) {
  RegistryOptions o;
  o.default_algorithm = Algorithm::least_connection;
  Registry r(o, 1);
  r.apply_register(msg("10.0.0.1", "rr.com", Algorithm::round_robin), T0);
  r.apply_register(msg("10.0.0.1", "lc.com"), T0);
  RouteTablePtr t = r.publish();
  EXPECT_EQ(t->find("rr.com", "/")->algorithm(), Algorithm::round_robin);
  EXPECT_EQ(t->find("lc.com", "/")->algorithm(), Algorithm::least_connection);
}

TEST(PoolTest, LatestLoadBalancingOptionWins) {
  Registry r(RegistryOptions{}, 1);
  r.apply_register(msg("10.0.0.1", "a.com", Algorithm::least_connection), T0);
  RouteTablePtr first = r.publish();
  r.apply_register(msg("10.0.0.2", "a.com", Algorithm::round_robin), T0);
  RouteTablePtr second = r.publish();
  EXPECT_EQ(first->find("a.com", "/")->algorithm(), Algorithm::least_connection);
  EXPECT_EQ(second->find("a.com", "/")->algorithm(), Algorithm::round_robin);

  r.apply_register(msg("10.0.0.2", "a.com", Algorithm::least_connection), T0 + seconds(1));  // same endpoint
  EXPECT_EQ(r.publish()->find("a.com", "/")->algorithm(), Algorithm::least_connection);
}

}  // namespace
}  // namespace sy::route
