// deploy/grafana/switchyard.json may only query metrics a router exports:
// every metric name in every panel's PromQL must be one /metrics lists
// (with # TYPE, so families with no sample yet count) on a node with
// tunnels on.
#include <rapidjson/document.h>

#include <cctype>
#include <regex>
#include <sstream>
#include <set>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

// Series names /metrics declares: each # TYPE, and a histogram's _bucket,
// _sum and _count.
std::set<std::string> exported_names(const std::string& text) {
  std::set<std::string> names;
  static const std::regex type_line(R"(^# TYPE (\S+) (\S+)$)");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, type_line)) continue;
    names.insert(m[1]);
    if (m[2] == "histogram")
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(std::string(m[1]) + suffix);
  }
  return names;
}

// The metric names in a PromQL expression: identifiers left once label
// matchers, `by (...)` groups, ranges and function calls are taken out.
std::set<std::string> metric_names(std::string expr) {
  for (const char* pattern : {R"(\{[^}]*\})", R"(\b(by|without|on|ignoring)\s*\([^)]*\))", R"(\[[^\]]*\])",
                              R"("[^"]*")"})
    expr = std::regex_replace(expr, std::regex(pattern), " ");
  static const std::set<std::string> keywords = {"and", "or", "unless", "bool", "offset", "group_left", "group_right"};
  std::set<std::string> names;
  static const std::regex identifier(R"([a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?)");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), identifier); it != std::sregex_iterator(); ++it) {
    const std::string token = (*it)[0];
    if ((*it)[1].matched) continue;  // a function
    if (keywords.count(token) || std::isdigit(static_cast<unsigned char>(token[0]))) continue;
    names.insert(token);
  }
  return names;
}

TEST(GrafanaQueries, MetricNamesAreFoundInExpressions) {
  EXPECT_EQ(metric_names("histogram_quantile(0.9, sum by (le, component) (rate(latency_bucket{a=\"b\"}[1m])))"),
            (std::set<std::string>{"latency_bucket"}));
  EXPECT_EQ(metric_names("sum(rate(x_total[5m])) / sum(y) > 0"), (std::set<std::string>{"x_total", "y"}));
}

TEST_F(RouterTest, GrafanaDashboardQueriesOnlyExportedMetrics) {
  RouterConfig config;
  config.extra_yaml = "tunnel:\n  host: 127.0.0.1\n  port: " + std::to_string(free_port()) +
                      "\n  node_id: grafana-check\n  advertise: 127.0.0.1:1\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  const std::set<std::string> exported = exported_names(router_.metrics());
  ASSERT_GT(exported.size(), 40u);
  const std::string text = read_file(std::string(SY_SOURCE_DIR) + "/deploy/grafana/switchyard.json");
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  ASSERT_FALSE(doc.HasParseError());
  size_t queries = 0;
  std::set<std::string> used;
  for (const auto& panel : doc["panels"].GetArray()) {
    if (!panel.HasMember("targets")) continue;
    for (const auto& target : panel["targets"].GetArray()) {
      const std::string expr = target["expr"].GetString();
      ++queries;
      for (const std::string& name : metric_names(expr)) {
        used.insert(name);
        EXPECT_TRUE(exported.count(name)) << "panel \"" << panel["title"].GetString() << "\" queries " << name
                                          << ", which the router does not export: " << expr;
      }
    }
  }
  EXPECT_GT(queries, 40u);
  for (const char* family : {"total_requests_total", "responses_total", "router_errors_total", "latency_bucket",
                             "total_routes", "tunnel_sessions", "nats_connected"})
    EXPECT_TRUE(used.count(family)) << "the dashboard should chart " << family;
}

}  // namespace
}  // namespace sy::test
