// Stale-endpoint pruning, heartbeats, empty-pool timeout, counters and
// snapshot immutability. Time is always a parameter: fixed TimePoints only.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/route_builder.hpp"
#include "router/route/registry.hpp"

namespace sy::route {
namespace {

using std::chrono::seconds;

const TimePoint T0{seconds(100000)};

RouteMessage msg(const std::string& host, uint16_t port, const std::vector<std::string>& uris,
                 seconds stale = seconds(0)) {
  return test::route_msg(host, port, uris, stale);
}

RegistryOptions options(seconds droplet, seconds empty_pool_timeout = seconds(0)) {
  RegistryOptions o;
  o.droplet_stale_threshold = droplet;
  o.empty_pool_timeout = empty_pool_timeout;
  return o;
}

// Sorted addresses of the pool that serves host+path in a fresh snapshot.
std::vector<std::string> addresses(Registry& r, std::string_view host, std::string_view path = "/") {
  const Pool* p = r.publish()->find(host, path);
  if (!p) return {"<no route>"};
  std::vector<std::string> out;
  for (const auto& e : p->endpoints()) out.push_back(e->address());
  std::sort(out.begin(), out.end());
  return out;
}

using Strings = std::vector<std::string>;

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(RegistryPruneTest, RemovesOnlyEndpointsOlderThanTheThreshold) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0 + seconds(60));

  Change c = r.prune(T0 + seconds(120));
  EXPECT_EQ(c.endpoints_removed, 0) << "exactly the threshold old is not yet stale";
  EXPECT_TRUE(c.removed_addresses.empty());
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.1:80", "10.0.0.2:80"}));

  c = r.prune(T0 + seconds(121));
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_EQ(c.removed_addresses, (Strings{"a.com 10.0.0.1:80"}));
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.2:80"}));
  EXPECT_EQ(r.endpoint_count(), 1u);
  EXPECT_EQ(r.route_count(), 1u);

  c = r.prune(T0 + seconds(181));
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(c.routes_removed, 1);
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"<no route>"}));
}

TEST(RegistryPruneTest, PerEndpointThresholdSmallerOneHonouredLargerOneClamped) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}, seconds(30)), T0);   // own 30s
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}, seconds(0)), T0);    // default 120s
  r.apply_register(msg("10.0.0.3", 80, {"a.com"}, seconds(300)), T0);  // clamped to 120s
  r.apply_register(msg("10.0.0.4", 80, {"a.com"}, seconds(-5)), T0);   // default 120s

  {
    const Pool* p = r.publish()->find("a.com", "/");
    ASSERT_NE(p, nullptr);
    std::map<std::string, long> thresholds;
    for (const auto& e : p->endpoints()) thresholds[e->address()] = static_cast<long>(e->stale_threshold().count());
    EXPECT_EQ(thresholds, (std::map<std::string, long>{
                              {"10.0.0.1:80", 30}, {"10.0.0.2:80", 120}, {"10.0.0.3:80", 120}, {"10.0.0.4:80", 120}}));
  }

  EXPECT_EQ(r.prune(T0 + seconds(30)).endpoints_removed, 0);
  Change c = r.prune(T0 + seconds(31));
  EXPECT_EQ(c.removed_addresses, (Strings{"a.com 10.0.0.1:80"}));
  EXPECT_EQ(r.prune(T0 + seconds(120)).endpoints_removed, 0);
  c = r.prune(T0 + seconds(121));
  EXPECT_EQ(c.endpoints_removed, 3) << "300s is clamped to droplet_stale_threshold";
  EXPECT_EQ(sorted(c.removed_addresses), (Strings{"a.com 10.0.0.2:80", "a.com 10.0.0.3:80", "a.com 10.0.0.4:80"}));
  EXPECT_EQ(r.endpoint_count(), 0u);
}

TEST(RegistryPruneTest, HeartbeatKeepsAnEndpointAlive) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com", "b.com"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0);  // never refreshed

  Change hb = r.apply_register(msg("10.0.0.1", 80, {"a.com", "b.com"}), T0 + seconds(100));
  EXPECT_EQ(hb.heartbeats, 2);
  EXPECT_EQ(hb.endpoints_added, 0);

  Change c = r.prune(T0 + seconds(150));
  EXPECT_EQ(c.removed_addresses, (Strings{"a.com 10.0.0.2:80"}));
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.1:80"}));
  EXPECT_EQ(addresses(r, "b.com"), (Strings{"10.0.0.1:80"}));

  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0 + seconds(200));  // only a.com refreshed
  c = r.prune(T0 + seconds(221));
  EXPECT_EQ(c.removed_addresses, (Strings{"b.com 10.0.0.1:80"})) << "heartbeats are per uri";
  EXPECT_EQ(c.routes_removed, 1);
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.1:80"}));

  EXPECT_EQ(r.prune(T0 + seconds(320)).endpoints_removed, 0);
  c = r.prune(T0 + seconds(321));
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(r.endpoint_count(), 0u);
  EXPECT_EQ(r.route_count(), 0u);
}

TEST(RegistryPruneTest, UpdatedFieldsAlsoRefreshTheHeartbeat) {
  Registry r(options(seconds(120)), 1);
  RouteMessage m = msg("10.0.0.1", 80, {"a.com"});
  r.apply_register(m, T0);
  m.endpoint.meta.app_id = "new-app";
  EXPECT_EQ(r.apply_register(m, T0 + seconds(100)).endpoints_updated, 1);
  EXPECT_EQ(r.prune(T0 + seconds(200)).endpoints_removed, 0);
  EXPECT_EQ(r.prune(T0 + seconds(221)).endpoints_removed, 1);
}

TEST(RegistryPruneTest, FreshenSavesEveryEndpoint) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com", "b.com/api"}), T0);
  r.apply_register(msg("10.0.0.3", 80, {"*.c.com"}, seconds(10)), T0);

  r.freshen(T0 + seconds(500));
  Change c = r.prune(T0 + seconds(510));
  EXPECT_EQ(c.endpoints_removed, 0);
  EXPECT_EQ(r.endpoint_count(), 4u);
  EXPECT_EQ(addresses(r, "x.c.com"), (Strings{"10.0.0.3:80"}));

  c = r.prune(T0 + seconds(511));
  EXPECT_EQ(c.removed_addresses, (Strings{"*.c.com 10.0.0.3:80"})) << "freshen keeps each endpoint's own threshold";
  c = r.prune(T0 + seconds(621));
  EXPECT_EQ(c.endpoints_removed, 3);
  EXPECT_EQ(c.routes_removed, 2);
  EXPECT_EQ(r.route_count(), 0u);
  EXPECT_EQ(r.endpoint_count(), 0u);
}

TEST(RegistryPruneTest, PruningTheLastEndpointDropsTheRouteAtOnce) {
  Registry r(options(seconds(120), seconds(0)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com", "a.com/api"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"b.com"}), T0 + seconds(100));
  RouteTablePtr before = r.publish();
  ASSERT_NE(before->find("a.com", "/api"), nullptr);

  Change c = r.prune(T0 + seconds(121));
  EXPECT_EQ(c.endpoints_removed, 2);
  EXPECT_EQ(c.routes_removed, 2);
  EXPECT_EQ(sorted(c.removed_addresses), (Strings{"a.com 10.0.0.1:80", "a.com/api 10.0.0.1:80"}));
  EXPECT_TRUE(r.dirty());
  RouteTablePtr after = r.publish();
  EXPECT_EQ(after->find("a.com", "/"), nullptr);
  EXPECT_EQ(after->find("a.com", "/api"), nullptr);
  EXPECT_NE(after->find("b.com", "/"), nullptr);
  EXPECT_EQ(r.route_count(), 1u);
  EXPECT_EQ(r.endpoint_count(), 1u);
  EXPECT_EQ(after->route_count(), 1u);
  EXPECT_EQ(after->endpoint_count(), 1u);
}

TEST(RegistryPruneTest, EmptyPoolTimeoutKeepsAnEmptiedPoolThenDropsIt) {
  Registry r(options(seconds(120), seconds(10)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);

  Change c = r.prune(T0 + seconds(121));
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_EQ(r.route_count(), 1u);
  EXPECT_EQ(r.endpoint_count(), 0u);
  const Pool* p = r.publish()->find("a.com", "/");
  ASSERT_NE(p, nullptr) << "kept so the route answers 503";
  EXPECT_TRUE(p->empty());
  EXPECT_EQ(p->next(Tried{}, T0 + seconds(121)), nullptr);

  c = r.prune(T0 + seconds(130));  // emptied 9s ago
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_EQ(c.endpoints_removed, 0);
  p = r.publish()->find("a.com", "/");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->empty());

  c = r.prune(T0 + seconds(131));  // emptied 10s ago
  EXPECT_EQ(c.routes_removed, 1);
  EXPECT_EQ(c.endpoints_removed, 0);
  EXPECT_TRUE(c.removed_addresses.empty());
  EXPECT_EQ(r.route_count(), 0u);
  EXPECT_EQ(r.publish()->find("a.com", "/"), nullptr);
}

TEST(RegistryPruneTest, KeptEmptyPathPoolDefersToAShorterPoolWithEndpoints) {
  Registry r(options(seconds(120), seconds(10)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com", "a.com/api"}), T0);
  Change c = r.apply_unregister(msg("10.0.0.1", 80, {"a.com/api"}), T0 + seconds(5));
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_EQ(r.route_count(), 2u) << "a.com/api is kept for empty_pool_timeout";
  const Pool* p = r.publish()->find("a.com", "/api/x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->key(), "a.com") << "RouteTable::find prefers pools that have endpoints";
  EXPECT_EQ(r.prune(T0 + seconds(15)).routes_removed, 1);
  EXPECT_EQ(r.route_count(), 1u);
}

TEST(RegistryPruneTest, EmptiedPoolAfterUnregisterIs503UntilTimeout) {
  Registry r(options(seconds(120), seconds(10)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);
  r.apply_unregister(msg("10.0.0.1", 80, {"a.com"}), T0 + seconds(5));
  EXPECT_EQ(r.route_count(), 1u);
  const Pool* p = r.publish()->find("a.com", "/");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->empty());
  EXPECT_EQ(r.prune(T0 + seconds(14)).routes_removed, 0);
  EXPECT_NE(r.publish()->find("a.com", "/"), nullptr);
  EXPECT_EQ(r.prune(T0 + seconds(15)).routes_removed, 1);
  EXPECT_EQ(r.publish()->find("a.com", "/"), nullptr);
  EXPECT_EQ(r.route_count(), 0u);
}

TEST(RegistryPruneTest, ReRegisteringRevivesAKeptPoolAndRestartsTheTimeout) {
  Registry r(options(seconds(120), seconds(10)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);
  r.prune(T0 + seconds(121));  // empty since T0+121
  Change c = r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0 + seconds(125));
  EXPECT_EQ(c.routes_added, 0) << "the kept pool is reused";
  EXPECT_EQ(c.endpoints_added, 1);
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.2:80"}));

  c = r.prune(T0 + seconds(200));  // long after the old empty_since + timeout
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.2:80"}));

  r.apply_unregister(msg("10.0.0.2", 80, {"a.com"}), T0 + seconds(300));
  EXPECT_EQ(r.prune(T0 + seconds(309)).routes_removed, 0) << "timeout counts from the latest emptying";
  EXPECT_EQ(r.prune(T0 + seconds(310)).routes_removed, 1);
}

TEST(RegistryPruneTest, CountersAcrossSeveralPoolsInOnePrune) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com", "b.com/api"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0);
  r.apply_register(msg("10.0.0.3", 80, {"a.com"}), T0 + seconds(50));
  r.apply_register(msg("10.0.0.4", 81, {"c.com"}), T0);
  ASSERT_EQ(r.route_count(), 3u);
  ASSERT_EQ(r.endpoint_count(), 5u);

  Change c = r.prune(T0 + seconds(121));
  EXPECT_EQ(c.endpoints_removed, 4);
  EXPECT_EQ(c.routes_removed, 2);
  EXPECT_EQ(c.endpoints_added, 0);
  EXPECT_EQ(c.routes_added, 0);
  EXPECT_EQ(sorted(c.removed_addresses),
            (Strings{"a.com 10.0.0.1:80", "a.com 10.0.0.2:80", "b.com/api 10.0.0.1:80", "c.com 10.0.0.4:81"}));
  EXPECT_EQ(r.route_count(), 1u);
  EXPECT_EQ(r.endpoint_count(), 1u);
  EXPECT_EQ(addresses(r, "a.com"), (Strings{"10.0.0.3:80"}));
  EXPECT_EQ(addresses(r, "b.com", "/api"), (Strings{"<no route>"}));

  c = r.prune(T0 + seconds(122));
  EXPECT_EQ(c.endpoints_removed, 0);
  EXPECT_EQ(c.routes_removed, 0);
  EXPECT_FALSE(r.dirty()) << "a prune that removes nothing needs no snapshot";
}

TEST(RegistryPruneTest, CountsStayConsistentThroughAMix) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com", "a.com/api", "b.com"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0);
  r.apply_register(msg("10.0.0.3", 80, {"c.com"}, seconds(10)), T0);
  EXPECT_EQ(r.route_count(), 4u);
  EXPECT_EQ(r.endpoint_count(), 5u);

  Change c = r.apply_unregister(msg("10.0.0.1", 80, {"a.com/api"}), T0);
  EXPECT_EQ(c.endpoints_removed, 1);
  EXPECT_EQ(c.routes_removed, 1);
  EXPECT_EQ(r.route_count(), 3u);
  EXPECT_EQ(r.endpoint_count(), 4u);

  c = r.apply_unregister(msg("10.0.0.9", 80, {"a.com", "nope.com"}), T0);  // unknown endpoint and route
  EXPECT_EQ(c.endpoints_removed, 0);
  EXPECT_EQ(r.endpoint_count(), 4u);
  c = r.apply_unregister(msg("10.0.0.1", 81, {"a.com"}), T0);  // other port: another endpoint
  EXPECT_EQ(c.endpoints_removed, 0);

  r.prune(T0 + seconds(11));
  EXPECT_EQ(r.route_count(), 2u);
  EXPECT_EQ(r.endpoint_count(), 3u);

  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0 + seconds(20));  // heartbeat
  EXPECT_EQ(r.endpoint_count(), 3u);
  r.apply_register(msg("10.0.0.3", 80, {"a.com/api"}), T0 + seconds(20));  // new route again
  EXPECT_EQ(r.route_count(), 3u);
  EXPECT_EQ(r.endpoint_count(), 4u);

  RouteTablePtr t = r.publish();
  EXPECT_EQ(t->route_count(), r.route_count());
  EXPECT_EQ(t->endpoint_count(), r.endpoint_count());
  size_t pools = 0, endpoints = 0;
  t->for_each_pool([&](const Pool& p) {
    ++pools;
    endpoints += p.endpoints().size();
  });
  EXPECT_EQ(pools, 3u);
  EXPECT_EQ(endpoints, 4u);
}

// Random register/unregister/prune against a tiny model of what must be there.
TEST(RegistryPruneTest, RandomMixMatchesAModel) {
  const std::vector<std::string> uris = {"a.com", "a.com/api", "b.com", "*.c.com", "d.com/x/y"};
  const std::vector<std::string> hosts = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
  Registry r(options(seconds(120)), 7);
  std::map<std::string, std::map<std::string, TimePoint>> model;  // uri -> address -> heartbeat
  std::minstd_rand rng(12345);
  TimePoint now = T0;

  for (int step = 0; step < 2000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    now += seconds(rng() % 15);
    const std::string& host = hosts[rng() % hosts.size()];
    const std::string address = host + ":80";
    const std::string& uri = uris[rng() % uris.size()];
    switch (rng() % 4) {
      case 0:
      case 1:
        r.apply_register(msg(host, 80, {uri}), now);
        model[uri][address] = now;
        break;
      case 2:
        r.apply_unregister(msg(host, 80, {uri}), now);
        if (auto it = model.find(uri); it != model.end()) {
          it->second.erase(address);
          if (it->second.empty()) model.erase(it);
        }
        break;
      default: {
        r.prune(now);
        for (auto it = model.begin(); it != model.end();) {
          std::erase_if(it->second, [&](const auto& kv) { return now - kv.second > seconds(120); });
          it = it->second.empty() ? model.erase(it) : std::next(it);
        }
      }
    }
    size_t model_endpoints = 0;
    for (const auto& [u, eps] : model) model_endpoints += eps.size();
    ASSERT_EQ(r.route_count(), model.size());
    ASSERT_EQ(r.endpoint_count(), model_endpoints);

    if (step % 7 != 0) continue;
    RouteTablePtr t = r.publish();
    ASSERT_EQ(t->route_count(), model.size());
    ASSERT_EQ(t->endpoint_count(), model_endpoints);
    for (const std::string& u : uris) {
      Uri parsed;
      ASSERT_TRUE(parse_uri(u, &parsed));
      std::string lookup_host = parsed.host[0] == '*' ? "q" + parsed.host.substr(1) : parsed.host;
      const Pool* p = t->find(lookup_host, parsed.path.empty() ? "/" : parsed.path);
      auto it = model.find(u);
      if (it == model.end()) {
        EXPECT_TRUE(p == nullptr || p->key() != u) << u << " should be gone";
        continue;
      }
      ASSERT_NE(p, nullptr) << u;
      ASSERT_EQ(p->key(), u);
      std::set<std::string> got;
      for (const auto& e : p->endpoints()) got.insert(e->address());
      std::set<std::string> want;
      for (const auto& [a, hb] : it->second) want.insert(a);
      EXPECT_EQ(got, want) << u;
    }
  }
}

TEST(RegistryPruneTest, SnapshotPublishedBeforeAPruneKeepsTheOldState) {
  Registry r(options(seconds(120)), 1);
  r.apply_register(msg("10.0.0.1", 80, {"a.com"}), T0);
  r.apply_register(msg("10.0.0.2", 80, {"a.com"}), T0 + seconds(100));
  r.apply_register(msg("10.0.0.3", 80, {"b.com"}), T0);
  RouteTablePtr before = r.publish();

  r.prune(T0 + seconds(121));
  RouteTablePtr after = r.publish();
  ASSERT_NE(before, after);

  const Pool* old_a = before->find("a.com", "/");
  ASSERT_NE(old_a, nullptr);
  EXPECT_EQ(old_a->endpoints().size(), 2u) << "the old snapshot still has the pruned endpoint";
  const Pool* old_b = before->find("b.com", "/");
  ASSERT_NE(old_b, nullptr) << "the old snapshot still has the dropped route";
  EXPECT_EQ(old_b->endpoints().size(), 1u);
  EXPECT_EQ(before->route_count(), 2u);
  EXPECT_EQ(before->endpoint_count(), 3u);

  const Pool* new_a = after->find("a.com", "/");
  ASSERT_NE(new_a, nullptr);
  ASSERT_EQ(new_a->endpoints().size(), 1u);
  EXPECT_EQ(new_a->endpoints()[0]->address(), "10.0.0.2:80");
  EXPECT_EQ(after->find("b.com", "/"), nullptr);
  EXPECT_EQ(after->route_count(), 1u);
  EXPECT_EQ(after->endpoint_count(), 1u);
}

}  // namespace
}  // namespace sy::route
