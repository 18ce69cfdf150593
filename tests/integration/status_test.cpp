// The status listener: /health, /routes (basic auth, JSON) and /metrics
// (Prometheus text that promtool accepts, gorouter's metric names).
#include <rapidjson/document.h>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

class StatusTest : public RouterTest {};

TEST_F(StatusTest, HealthIsOk) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  const HttpResponse response = router_.status_get("/health");
  EXPECT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(StatusTest, RoutesNeedsBasicAuthAndListsEndpoints) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("listed");
  ASSERT_NO_FATAL_FAILURE(route("listed.example.com", echo.port(), R"("private_instance_id":"listed-1")"));

  EXPECT_EQ(router_.status_get("/routes").status, 401);
  EXPECT_EQ(router_.status_get("/routes", router_.config().status_user + ":wrong").status, 401);
  EXPECT_EQ(router_.status_get("/routes", "nobody:" + router_.config().status_pass).status, 401);
  const HttpResponse response =
      router_.status_get("/routes", router_.config().status_user + ":" + router_.config().status_pass);
  ASSERT_EQ(response.status, 200) << response.describe();

  rapidjson::Document doc;
  doc.Parse(response.body.c_str(), response.body.size());
  ASSERT_FALSE(doc.HasParseError()) << response.body;
  ASSERT_TRUE(doc.IsObject()) << response.body;
  ASSERT_TRUE(doc.HasMember("listed.example.com")) << response.body;
  const rapidjson::Value& endpoints = doc["listed.example.com"];
  ASSERT_TRUE(endpoints.IsArray()) << response.body;
  ASSERT_EQ(endpoints.Size(), 1u) << response.body;
  const rapidjson::Value& endpoint = endpoints[0];
  ASSERT_TRUE(endpoint.IsObject()) << response.body;
  ASSERT_TRUE(endpoint.HasMember("address") && endpoint["address"].IsString()) << response.body;
  EXPECT_EQ(std::string(endpoint["address"].GetString()), "127.0.0.1:" + std::to_string(echo.port()));
  ASSERT_TRUE(endpoint.HasMember("ttl") && endpoint["ttl"].IsNumber()) << response.body;
  EXPECT_GT(endpoint["ttl"].GetDouble(), 0) << response.body;
}

// gorouter's own /routes listener (status.routes.port, loopback): the same
// auth and JSON, nothing else; /routes stays on status.port too.
TEST_F(StatusTest, RoutesPortServesRoutesOnly) {
  RouterConfig config;
  config.status_routes_port = free_port();
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("listed");
  ASSERT_NO_FATAL_FAILURE(route("listed.example.com", echo.port()));
  const std::string base = "http://127.0.0.1:" + std::to_string(config.status_routes_port);
  HttpRequest routes;
  routes.url = base + "/routes";
  EXPECT_EQ(http(routes).status, 401);
  routes.user = config.status_user + ":" + config.status_pass;
  const HttpResponse listed = http(routes);
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_NE(listed.body.find("\"listed.example.com\""), std::string::npos) << listed.body;
  HttpRequest health;
  health.url = base + "/health";
  EXPECT_EQ(http(health).status, 404) << "only /routes on the routes port";
  EXPECT_EQ(router_.status_get("/routes", routes.user).status, 200);
  EXPECT_EQ(router_.status_get("/health").status, 200);
}

TEST_F(StatusTest, MetricsPassPromtoolAndNameGorouterMetrics) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("metered");
  ASSERT_NO_FATAL_FAILURE(route("metered.example.com", echo.port()));
  ASSERT_TRUE(register_route(client_, free_port(), {"broken.example.com"}));
  ASSERT_TRUE(wait_routable(router_, "broken.example.com", 502));
  EXPECT_EQ(router_.get("metered.example.com", "/").status, 200);
  EXPECT_EQ(router_.get("metered.example.com", "/status/404").status, 404);
  EXPECT_EQ(router_.get("unknown.example.com", "/").status, 404);

  const HttpResponse response = router_.status_get("/metrics");
  ASSERT_EQ(response.status, 200) << response.describe();
  const std::string& text = response.body;

  // promtool reads the exposition from stdin.
  const std::string metrics_file = dir_.write_file("metrics.txt", text);
  ProcessOptions promtool;
  promtool.argv = {"promtool", "check", "metrics"};
  promtool.stdin_path = metrics_file;
  promtool.log_path = dir_.file("promtool.log");
  const auto code = run_process(promtool, std::chrono::seconds(30));
  EXPECT_EQ(code, std::optional<int>(0)) << read_file(promtool.log_path) << "\n" << text;

  for (const char* name : {"total_routes", "registry_message_total", "total_requests_total", "responses_total",
                           "bad_gateways_total", "latency_bucket"}) {
    EXPECT_TRUE(has_metric(text, name)) << "missing " << name << " in\n" << text;
  }
  EXPECT_GE(metric_value(text, "responses_total", {{"status_group", "2xx"}}).value_or(0), 1) << text;
  EXPECT_GE(metric_value(text, "responses_total", {{"status_group", "4xx"}}).value_or(0), 1) << text;
  EXPECT_GE(metric_sum(text, "bad_gateways_total"), 1) << text;
  EXPECT_GE(metric_sum(text, "total_routes"), 2) << text;
  EXPECT_GE(metric_sum(text, "registry_message_total"), 2) << text;
}

}  // namespace
}  // namespace sy::test
