// registrar/message.hpp: the registry message the registrar publishes is one
// the router's own parser accepts with every field intact, and router.start
// payloads are read leniently.
#include <gtest/gtest.h>

#include "registrar/message.hpp"
#include "router/route/route_message.hpp"

namespace sy::registrar {
namespace {

using namespace std::chrono_literals;

route::RouteMessage round_trip(const Registration& r) {
  auto parsed = route::parse_route_message(registry_json(r));
  if (auto* error = std::get_if<route::ParseError>(&parsed)) {
    ADD_FAILURE() << "router rejected " << registry_json(r) << ": " << error->detail;
    return {};
  }
  return std::get<route::RouteMessage>(parsed);
}

TEST(RegistrarMessage, EveryFieldReachesTheRouter) {
  Registration r;
  r.host = "10.0.0.7";
  r.port = 8080;
  r.uris = {"App.Example.com", "www.example.com/api"};
  r.tags = {{"component", "web"}, {"team", "a\"b"}};
  r.app = "app-guid";
  r.private_instance_id = "instance-1";
  r.availability_zone = "z1";
  r.protocol = "http2";
  r.loadbalancing = "least-connection";
  r.stale_threshold_in_seconds = 30;
  route::RouteMessage m = round_trip(r);
  EXPECT_EQ(m.endpoint.host, "10.0.0.7");
  EXPECT_EQ(m.endpoint.port, 8080);
  EXPECT_FALSE(m.endpoint.tls);
  ASSERT_EQ(m.uris.size(), 2u);
  EXPECT_EQ(m.uris[0].str(), "app.example.com");
  EXPECT_EQ(m.uris[1].str(), "www.example.com/api");
  EXPECT_EQ(m.endpoint.meta.app_id, "app-guid");
  EXPECT_EQ(m.endpoint.meta.private_instance_id, "instance-1");
  EXPECT_EQ(m.endpoint.meta.availability_zone, "z1");
  EXPECT_EQ(m.endpoint.meta.tags, (std::vector<std::pair<std::string, std::string>>{{"component", "web"}, {"team", "a\"b"}}));
  EXPECT_EQ(m.endpoint.protocol, route::Protocol::http2);
  EXPECT_EQ(m.endpoint.algorithm, route::Algorithm::least_connection);
  EXPECT_EQ(m.endpoint.stale_threshold, 30s);
}

TEST(RegistrarMessage, TlsPortAndOptionalFieldsLeftOut) {
  Registration r;
  r.host = "h";
  r.tls_port = 8443;
  r.uris = {"a.example.com"};
  r.server_cert_domain_san = "a.internal";
  std::string json = registry_json(r);
  EXPECT_EQ(json, R"({"host":"h","tls_port":8443,"uris":["a.example.com"],"tags":{},"server_cert_domain_san":"a.internal"})");
  route::RouteMessage m = round_trip(r);
  EXPECT_EQ(m.endpoint.port, 8443);
  EXPECT_TRUE(m.endpoint.tls);
  EXPECT_EQ(m.endpoint.meta.server_cert_domain_san, "a.internal");
}

TEST(RegistrarMessage, RouterStartPayloads) {
  auto start = parse_router_start(
      R"({"id":"0-abc","hosts":["10.0.0.1"],"minimumRegisterIntervalInSeconds":5,"pruneThresholdInSeconds":120})");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->id, "0-abc");
  EXPECT_EQ(start->minimum_register_interval, 5s);

  auto no_minimum = parse_router_start(R"({"id":"x"})");
  ASSERT_TRUE(no_minimum);
  EXPECT_EQ(no_minimum->minimum_register_interval, 0s);
  auto wrong_type = parse_router_start(R"({"minimumRegisterIntervalInSeconds":"5"})");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->minimum_register_interval, 0s);

  EXPECT_FALSE(parse_router_start(R"({"minimumRegisterIntervalInSeconds":-1})"));
  EXPECT_FALSE(parse_router_start("not json"));
  EXPECT_FALSE(parse_router_start("[1]"));
  EXPECT_FALSE(parse_router_start(""));
}

}  // namespace
}  // namespace sy::registrar
