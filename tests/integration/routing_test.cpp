// Routing through the real router: registration, gorouter's request headers,
// the error table (404, 400, 502) and retries past a dead endpoint.
#include <chrono>
#include <cstdlib>
#include <regex>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_uuid(const std::string& text) {
  static const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", std::regex::icase);
  return std::regex_match(text, uuid);
}

class RoutingTest : public RouterTest {};

TEST_F(RoutingTest, RegisteredRouteReachesBackendWithGorouterHeaders) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("app1");
  ASSERT_NO_FATAL_FAILURE(route("app1.example.com", echo.port(),
                                R"("app":"app-guid-1","private_instance_id":"instance-id-1",)"
                                R"("private_instance_index":"2","tags":{"component":"test"})"));

  HttpRequest request;
  request.url = router_.url("/some/path?x=1");
  request.host = "app1.example.com";
  request.headers = {"X-Forwarded-For: 10.1.2.3"};
  const int64_t before = now_ms();
  const HttpResponse response = http(request);
  const int64_t after = now_ms();
  ASSERT_EQ(response.status, 200) << response.describe();

  const EchoSeen seen = parse_echo(response.body);
  EXPECT_EQ(seen.name, "app1");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/some/path?x=1");
  EXPECT_EQ(seen.header("host"), "app1.example.com");
  EXPECT_EQ(seen.header("x-forwarded-for"), "10.1.2.3, 127.0.0.1");
  EXPECT_EQ(seen.header("x-forwarded-proto"), "http");
  const std::string start = seen.header("x-request-start");
  ASSERT_FALSE(start.empty()) << response.body;
  const int64_t start_ms = std::strtoll(start.c_str(), nullptr, 10);
  EXPECT_GE(start_ms, before - 1000);
  EXPECT_LE(start_ms, after + 1000);
  const std::string request_id = seen.header("x-vcap-request-id");
  EXPECT_TRUE(is_uuid(request_id)) << request_id;
  EXPECT_EQ(response.header("X-Vcap-Request-Id").value_or(""), request_id);
  EXPECT_EQ(seen.header("x-cf-instanceid"), "instance-id-1");
  EXPECT_EQ(seen.header("x-cf-applicationid"), "app-guid-1");
  EXPECT_EQ(seen.header("x-cf-instanceindex"), "2");

  // Without a client X-Forwarded-For the router starts the list; a client
  // X-Forwarded-Proto is kept; every request gets a fresh request id.
  request.headers = {"X-Forwarded-Proto: https"};
  const HttpResponse second = http(request);
  ASSERT_EQ(second.status, 200) << second.describe();
  const EchoSeen seen2 = parse_echo(second.body);
  EXPECT_EQ(seen2.header("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(seen2.header("x-forwarded-proto"), "https");
  EXPECT_TRUE(is_uuid(seen2.header("x-vcap-request-id")));
  EXPECT_NE(seen2.header("x-vcap-request-id"), request_id);
}

TEST_F(RoutingTest, InstanceIdDefaultsToHostPort) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("plain");
  ASSERT_NO_FATAL_FAILURE(route("plain.example.com", echo.port()));
  const HttpResponse response = router_.get("plain.example.com", "/");
  ASSERT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(parse_echo(response.body).header("x-cf-instanceid"), "127.0.0.1:" + std::to_string(echo.port()));
}

TEST_F(RoutingTest, HostIsCaseInsensitiveAndPortIsIgnored) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("case");
  ASSERT_NO_FATAL_FAILURE(route("case.example.com", echo.port()));
  const HttpResponse response = router_.get("CASE.Example.COM:1234", "/x");
  ASSERT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(parse_echo(response.body).name, "case");
}

TEST_F(RoutingTest, BackendRequestIdIsKept) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("rid");
  ASSERT_NO_FATAL_FAILURE(route("rid.example.com", echo.port()));
  const HttpResponse response =
      router_.get("rid.example.com", "/headers-set?name=X-Vcap-Request-Id&value=from-backend");
  ASSERT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(response.header_values("X-Vcap-Request-Id"), std::vector<std::string>{"from-backend"});
}

TEST_F(RoutingTest, UnregisteredRouteIs404UnknownRoute) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("gone");
  ASSERT_NO_FATAL_FAILURE(route("gone.example.com", echo.port()));
  ASSERT_TRUE(unregister_route(client_, echo.port(), {"gone.example.com"})) << client_.error();
  ASSERT_TRUE(wait_routable(router_, "gone.example.com", 404));

  const HttpResponse response = router_.get("gone.example.com", "/");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("X-Cf-Routererror").value_or(""), "unknown_route");
  EXPECT_EQ(response.body, "404 Not Found: Requested route ('gone.example.com') does not exist.\n");

  const HttpResponse never = router_.get("never.example.com", "/");
  EXPECT_EQ(never.status, 404);
  EXPECT_EQ(never.header("X-Cf-Routererror").value_or(""), "unknown_route");
  EXPECT_EQ(never.body, "404 Not Found: Requested route ('never.example.com') does not exist.\n");
}

TEST_F(RoutingTest, EmptyHostIs400) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  HttpRequest request;
  request.url = router_.url("/");
  request.headers = {"Host;"};  // curl sends "Host:" with an empty value
  const HttpResponse response = http(request);
  EXPECT_EQ(response.status, 400) << response.describe();
  EXPECT_EQ(response.header("X-Cf-Routererror").value_or(""), "empty_host");
}

TEST_F(RoutingTest, DeadEndpointIsRetriedOnLiveSibling) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("alive");
  const uint16_t dead = free_port();
  ASSERT_NE(dead, 0);
  ASSERT_TRUE(register_route(client_, dead, {"retry.example.com"}));
  ASSERT_NO_FATAL_FAILURE(route("retry.example.com", echo.port()));
  for (int i = 0; i < 10; ++i) {
    const HttpResponse response = router_.get("retry.example.com", "/try/" + std::to_string(i));
    ASSERT_EQ(response.status, 200) << "request " << i << ": " << response.describe();
    EXPECT_EQ(parse_echo(response.body).name, "alive");
  }
}

TEST_F(RoutingTest, AllEndpointsDeadIs502EndpointFailure) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  const uint16_t dead1 = free_port();
  const uint16_t dead2 = free_port();
  ASSERT_TRUE(register_route(client_, dead1, {"dead.example.com"}));
  ASSERT_TRUE(register_route(client_, dead2, {"dead.example.com"}));
  ASSERT_TRUE(wait_routable(router_, "dead.example.com", 502)) << router_.get("dead.example.com").describe();
  const HttpResponse response = router_.get("dead.example.com", "/");
  EXPECT_EQ(response.status, 502);
  const std::string error = response.header("X-Cf-Routererror").value_or("");
  EXPECT_EQ(error.rfind("endpoint_failure", 0), 0u) << error;
}

}  // namespace
}  // namespace sy::test
