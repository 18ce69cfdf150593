// HostMap, the persistent hash trie under RouteTable: random changes against
// std::map, with real hashes, weak hashes (deep paths) and one constant hash
// (collision lists); copies never see each other's changes.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "router/route/host_map.hpp"

namespace sy::route {
namespace {

Ref<const HostRoutes> entry(const std::string& host, int tag) {
  std::vector<std::pair<std::string_view, PoolPtr>> routes;
  routes.emplace_back("", PoolPtr::adopt(new Pool(host + "#" + std::to_string(tag), {}, Algorithm::round_robin, 0)));
  return HostRoutes::make(host, routes);
}

// What `map` holds, as host -> tag.
std::map<std::string, std::string> contents(const HostMap& map) {
  std::map<std::string, std::string> out;
  map.for_each([&](const HostRoutes& r) { out[std::string(r.host())] = r.pool(0).key(); });
  return out;
}

uint64_t constant_hash(std::string_view) { return 42; }
// Alike in the low 45 bits: every entry sits nine levels down.
uint64_t weak_hash(std::string_view s) { return std::hash<std::string_view>{}(s) << 45; }

void random_mix(HostMap::HashFn hash, int hosts, int steps) {
  HostMap map(hash);
  std::map<std::string, std::string> model;
  std::vector<std::pair<HostMap, std::map<std::string, std::string>>> kept;  // old versions
  std::minstd_rand rng(99);
  for (int step = 0; step < steps; ++step) {
    std::string host = "h" + std::to_string(rng() % hosts) + ".com";
    if (rng() % 3) {
      map.set(entry(host, step));
      model[host] = host + "#" + std::to_string(step);
    } else {
      map.erase(host);
      model.erase(host);
    }
    ASSERT_EQ(map.size(), model.size());
    std::string probe = "h" + std::to_string(rng() % (hosts + 5)) + ".com";
    const HostRoutes* found = map.find(probe);
    auto it = model.find(probe);
    ASSERT_EQ(found != nullptr, it != model.end()) << probe;
    if (found) {
      ASSERT_EQ(found->pool(0).key(), it->second);
    }
    if (step % 50 == 0) kept.emplace_back(map, model);
  }
  EXPECT_EQ(contents(map), model);
  for (const auto& [old_map, old_model] : kept) EXPECT_EQ(contents(old_map), old_model) << "copies never change";
  for (const auto& [host, tag] : model) map.erase(host);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_TRUE(contents(map).empty());
}

TEST(HostMapTest, RandomChangesMatchAModel) { random_mix(&HostMap::default_hash, 2000, 20000); }
TEST(HostMapTest, WeakHashGoesDeep) { random_mix(&weak_hash, 300, 5000); }
TEST(HostMapTest, EqualHashesShareACollisionList) { random_mix(&constant_hash, 20, 2000); }

TEST(HostMapTest, ACopySharesUntilChanged) {
  HostMap a;
  for (int i = 0; i < 100; ++i) a.set(entry("h" + std::to_string(i), 0));
  HostMap b = a;
  EXPECT_EQ(a.find("h7"), b.find("h7")) << "same entry object";
  b.set(entry("h7", 1));
  b.erase("h8");
  EXPECT_EQ(a.find("h7")->pool(0).key(), "h7#0");
  EXPECT_NE(a.find("h8"), nullptr);
  EXPECT_EQ(b.find("h7")->pool(0).key(), "h7#1");
  EXPECT_EQ(b.find("h8"), nullptr);
  EXPECT_EQ(a.find("h9"), b.find("h9"));
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(b.size(), 99u);
}

TEST(HostMapTest, MatchIsLongestWholeSegmentWithEndpoints) {
  EndpointSpec spec;
  spec.host = "10.0.0.1";
  spec.port = 80;
  std::vector<EndpointPtr> one{std::make_shared<Endpoint>(spec, TimePoint{})};
  std::vector<std::pair<std::string_view, PoolPtr>> routes;
  routes.emplace_back("/a/b", PoolPtr::adopt(new Pool("x/a/b", {}, Algorithm::round_robin, 0)));  // empty
  routes.emplace_back("/a", PoolPtr::adopt(new Pool("x/a", one, Algorithm::round_robin, 0)));
  routes.emplace_back("", PoolPtr::adopt(new Pool("x", one, Algorithm::round_robin, 0)));
  auto r = HostRoutes::make("x", routes);
  EXPECT_EQ(r->host(), "x");
  EXPECT_EQ(r->match("/A/b/c")->key(), "x/a") << "a deeper empty pool defers to one with endpoints";
  EXPECT_EQ(r->match("/ab")->key(), "x");
  EXPECT_EQ(r->match("")->key(), "x");
  routes.pop_back();
  routes.pop_back();
  auto only_empty = HostRoutes::make("y", routes);
  EXPECT_EQ(only_empty->match("/a/b/c")->key(), "x/a/b") << "only empty pools match: the deepest, for a 503";
  EXPECT_EQ(only_empty->match("/a"), nullptr);
}

}  // namespace
}  // namespace sy::route
