// /dashboard.json: the query string, the route search and pagination, and
// the shape the page reads.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "router/route/registry.hpp"
#include "status/dashboard.hpp"
#include "tests/support/route_builder.hpp"

namespace sy::status {
namespace {

TEST(DashboardQuery, ParsesAndBounds) {
  RouteQuery q = parse_route_query("host=Shop%2Eexample+x&offset=50&limit=100000");
  EXPECT_EQ(q.host, "shop.example x");
  EXPECT_EQ(q.offset, 50u);
  EXPECT_EQ(q.limit, RouteQuery::kMaxLimit);
  q = parse_route_query("offset=-3&limit=abc&junk&host=");
  EXPECT_EQ(q.offset, 0u);
  EXPECT_EQ(q.limit, 25u);
  EXPECT_EQ(q.host, "");
}

class DashboardJson : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto now = route::Clock::now();
    for (int i = 0; i < 30; ++i) {
      route::RouteMessage m = test::route_msg("10.0.0.1", static_cast<uint16_t>(8000 + i),
                                              {"app" + std::to_string(i) + ".example.com"});
      m.endpoint.meta.tags = {{"component", "route-emitter"}};
      m.endpoint.meta.component_slot = slots_.slot("route-emitter");
      registry_.apply_register(m, now);
    }
    table_ = registry_.publish();
  }
  rapidjson::Document get(const std::string& query) {
    DashboardInput in;
    in.node_id = "n1";
    in.requests = 12;
    in.latency_bounds = {1, 2};
    in.latency_counts = {3, 4, 5};
    in.router_errors = {{"unknown_route", 2}};
    const std::string body = dashboard_json(in, *table_, parse_route_query(query), route::Clock::now(), slots_);
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << body;
    return doc;
  }
  route::ComponentSlots slots_;
  route::Registry registry_{route::RegistryOptions{}};
  route::RouteTablePtr table_;
};

TEST_F(DashboardJson, PageOfRoutesSortedWithTotals) {
  rapidjson::Document d = get("limit=10");
  const auto& routes = d["routes"];
  EXPECT_EQ(routes["total_routes"].GetUint64(), 30u);
  EXPECT_EQ(routes["matched"].GetUint64(), 30u);
  ASSERT_EQ(routes["items"].Size(), 10u);
  const auto& first = routes["items"][0];
  ASSERT_EQ(first["endpoints"].Size(), 1u);
  EXPECT_EQ(std::string(first["endpoints"][0]["component"].GetString()), "route-emitter");
  EXPECT_EQ(first["endpoints"][0]["in_flight"].GetInt(), 0);
  EXPECT_GE(first["endpoints"][0]["age_s"].GetDouble(), 0);
  EXPECT_LT(std::string(routes["items"][0]["uri"].GetString()), std::string(routes["items"][1]["uri"].GetString()));
  EXPECT_EQ(d["requests"].GetUint64(), 12u);
  EXPECT_EQ(d["latency"]["counts"].Size(), 3u);
  EXPECT_EQ(std::string(d["router_errors"][0]["router_error"].GetString()), "unknown_route");
  EXPECT_TRUE(d["tunnels"].IsNull());
}

TEST_F(DashboardJson, SearchIsCaseInsensitiveSubstringAndPaginates) {
  rapidjson::Document d = get("host=APP2");  // app2, app20..app29
  EXPECT_EQ(d["routes"]["matched"].GetUint64(), 11u);
  d = get("host=app2&offset=10&limit=5");
  EXPECT_EQ(d["routes"]["items"].Size(), 1u);
  d = get("host=nothing-like-it");
  EXPECT_EQ(d["routes"]["matched"].GetUint64(), 0u);
  EXPECT_EQ(d["routes"]["items"].Size(), 0u);
}

TEST(DashboardPage, SelfContainedAndUsesAbsoluteUrls) {
  const std::string_view page = kDashboardPage;
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_NE(page.find("location.origin"), std::string_view::npos);
  EXPECT_NE(page.find("/dashboard.json"), std::string_view::npos);
  for (const char* external : {"http://", "https://", "src=\"", "@import"})
    EXPECT_EQ(page.find(external), std::string_view::npos) << "external asset: " << external;
}

}  // namespace
}  // namespace sy::status
