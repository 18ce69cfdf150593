// Status listener helpers: the /routes JSON body (gorouter's shape) built from
// a Registry snapshot, and the /routes basic-auth check.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <set>
#include <string>
#include <variant>

#include "router/route/registry.hpp"
#include "status/status_server.hpp"

namespace sy::status {
namespace {

using route::Registry;
using route::RegistryOptions;
using route::RouteMessage;

const route::TimePoint kNow{std::chrono::seconds(1000)};

RouteMessage parse(const std::string& json) {
  auto parsed = route::parse_route_message(json);
  if (auto* err = std::get_if<route::ParseError>(&parsed)) {
    ADD_FAILURE() << "bad test message: " << err->detail << "\n" << json;
    return {};
  }
  return std::get<RouteMessage>(parsed);
}

rapidjson::Document json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

TEST(StatusRoutesJson, EmptyTable) {
  Registry registry(RegistryOptions{}, 1);
  EXPECT_EQ(routes_json(*registry.publish()), "{}");
}

TEST(StatusRoutesJson, ExactShapeOfOneEndpoint) {
  Registry registry(RegistryOptions{}, 1);
  registry.apply_register(parse(R"({"host":"10.0.0.1","port":8080,"uris":["App.Example.com"],)"
                                R"("tags":{"component":"route-emitter","b":"2"},"private_instance_id":"pid-1",)"
                                R"("stale_threshold_in_seconds":30,"availability_zone":"z1"})"),
                          kNow);
  EXPECT_EQ(routes_json(*registry.publish()),
            R"({"app.example.com":[{"address":"10.0.0.1:8080","availability_zone":"z1","protocol":"http1",)"
            R"("tls":false,"ttl":30,"tags":{"b":"2","component":"route-emitter"},"private_instance_id":"pid-1"}]})");
}

TEST(StatusRoutesJson, KeysAreUrisIncludingPathsAndEveryEndpointIsListed) {
  Registry registry(RegistryOptions{}, 1);
  registry.apply_register(parse(R"({"host":"10.0.0.1","port":80,"uris":["b.example.com","a.example.com/api"]})"),
                          kNow);
  registry.apply_register(parse(R"({"host":"10.0.0.2","port":81,"uris":["b.example.com"]})"), kNow);
  std::string text = routes_json(*registry.publish());
  rapidjson::Document doc = json(text);
  ASSERT_TRUE(doc.IsObject()) << text;
  EXPECT_EQ(doc.MemberCount(), 2u);
  ASSERT_TRUE(doc.HasMember("a.example.com/api")) << text;
  ASSERT_TRUE(doc.HasMember("b.example.com")) << text;
  EXPECT_STREQ(doc.MemberBegin()->name.GetString(), "a.example.com/api") << "keys are sorted";
  const auto& api = doc["a.example.com/api"];
  ASSERT_TRUE(api.IsArray());
  ASSERT_EQ(api.Size(), 1u);
  EXPECT_STREQ(api[0]["address"].GetString(), "10.0.0.1:80");
  const auto& b = doc["b.example.com"];
  ASSERT_EQ(b.Size(), 2u);
  std::set<std::string> addrs = {b[0]["address"].GetString(), b[1]["address"].GetString()};
  EXPECT_EQ(addrs, (std::set<std::string>{"10.0.0.1:80", "10.0.0.2:81"}));
  for (const auto& e : b.GetArray()) {
    EXPECT_EQ(e["ttl"].GetInt64(), 120) << "no stale_threshold: the router default";
    EXPECT_FALSE(e["tls"].GetBool());
    EXPECT_STREQ(e["protocol"].GetString(), "http1");
    EXPECT_TRUE(e["tags"].IsObject());
    EXPECT_EQ(e["tags"].MemberCount(), 0u);
    EXPECT_FALSE(e.HasMember("private_instance_id")) << "empty optional fields are omitted";
  }
}

TEST(StatusRoutesJson, TlsHttp2AndOptionalFields) {
  Registry registry(RegistryOptions{}, 1);
  registry.apply_register(
      parse(R"({"host":"10.0.0.3","port":80,"tls_port":443,"protocol":"http2","uris":["s.example.com"],)"
            R"("route_service_url":"https://rs.example.com","isolation_segment":"iso",)"
            R"("server_cert_domain_san":"san.example.com","private_instance_id":"pid",)"
            R"("options":{"loadbalancing":"least-connection"},"stale_threshold_in_seconds":500})"),
      kNow);
  std::string text = routes_json(*registry.publish());
  rapidjson::Document doc = json(text);
  const auto& e = doc["s.example.com"][0];
  EXPECT_STREQ(e["address"].GetString(), "10.0.0.3:443");
  EXPECT_TRUE(e["tls"].GetBool());
  EXPECT_STREQ(e["protocol"].GetString(), "http2");
  EXPECT_EQ(e["ttl"].GetInt64(), 120) << "capped at droplet_stale_threshold";
  EXPECT_STREQ(e["route_service_url"].GetString(), "https://rs.example.com");
  EXPECT_STREQ(e["isolation_segment"].GetString(), "iso");
  EXPECT_STREQ(e["server_cert_domain_san"].GetString(), "san.example.com");
  EXPECT_STREQ(e["private_instance_id"].GetString(), "pid");
  EXPECT_STREQ(e["load_balancing_algorithm"].GetString(), "least-connection");
}

TEST(StatusRoutesJson, Ipv6AddressIsBracketed) {
  Registry registry(RegistryOptions{}, 1);
  RouteMessage m;
  m.endpoint.host = "fd00::1";
  m.endpoint.port = 8080;
  route::Uri uri;
  ASSERT_TRUE(route::parse_uri("v6.example.com", &uri));
  m.uris.push_back(uri);
  registry.apply_register(m, kNow);
  rapidjson::Document doc = json(routes_json(*registry.publish()));
  EXPECT_STREQ(doc["v6.example.com"][0]["address"].GetString(), "[fd00::1]:8080");
}

TEST(StatusRoutesJson, StringsAreJsonEscaped) {
  Registry registry(RegistryOptions{}, 1);
  RouteMessage m = parse(R"({"host":"10.0.0.1","port":80,"uris":["e.example.com"],)"
                         R"("tags":{"q\"uote":"back\\slash \"x\"\n\u0001"}})");
  registry.apply_register(m, kNow);
  std::string text = routes_json(*registry.publish());
  rapidjson::Document doc = json(text);
  ASSERT_TRUE(doc.IsObject()) << text;
  const auto& tags = doc["e.example.com"][0]["tags"];
  ASSERT_TRUE(tags.HasMember("q\"uote")) << text;
  EXPECT_EQ(std::string(tags["q\"uote"].GetString(), tags["q\"uote"].GetStringLength()),
            std::string("back\\slash \"x\"\n\x01"));
}

TEST(StatusRoutesJson, EmptiedPoolKeptByTimeoutIsAnEmptyList) {
  RegistryOptions options;
  options.empty_pool_timeout = std::chrono::seconds(60);
  Registry registry(options, 1);
  RouteMessage m = parse(R"({"host":"10.0.0.1","port":80,"uris":["gone.example.com"]})");
  registry.apply_register(m, kNow);
  registry.apply_unregister(m, kNow);
  EXPECT_EQ(routes_json(*registry.publish()), R"({"gone.example.com":[]})");
}

// ---------------------------------------------------------------- basic auth

TEST(StatusBasicAuth, AcceptsMatchingCredentials) {
  EXPECT_TRUE(basic_auth_ok("Basic dXNlcjpwYXNz", "user", "pass"));
  EXPECT_TRUE(basic_auth_ok("Basic dXNlcjpwYTpzcw==", "user", "pa:ss")) << "colon in the password";
  EXPECT_TRUE(basic_auth_ok("Basic YWRtaW46czNjcjN0Ky8=", "admin", "s3cr3t+/"));
}

TEST(StatusBasicAuth, RejectsWrongOrMalformed) {
  EXPECT_FALSE(basic_auth_ok("Basic dXNlcjp3cm9uZw==", "user", "pass")) << "user:wrong";
  EXPECT_FALSE(basic_auth_ok("Basic dXNlcjpwYXNz", "user", "pass2"));
  EXPECT_FALSE(basic_auth_ok("Basic dXNlcjpwYXNz", "User", "pass"));
  EXPECT_FALSE(basic_auth_ok("dXNlcjpwYXNz", "user", "pass")) << "no scheme";
  EXPECT_FALSE(basic_auth_ok("Bearer dXNlcjpwYXNz", "user", "pass"));
  EXPECT_FALSE(basic_auth_ok("Basic", "user", "pass"));
  EXPECT_FALSE(basic_auth_ok("Basic ", "user", "pass"));
  EXPECT_FALSE(basic_auth_ok("", "user", "pass"));
  EXPECT_FALSE(basic_auth_ok("Basic dXNlcjpwYXN", "user", "pass")) << "truncated";
  EXPECT_FALSE(basic_auth_ok("Basic dXNlcjpwYXNzAA", "user", "pass")) << "trailing bytes";
  EXPECT_FALSE(basic_auth_ok("Basic user:pass", "user", "pass")) << "must be base64";
}

TEST(StatusBasicAuth, NoConfiguredCredentialsAlwaysRejects) {
  EXPECT_FALSE(basic_auth_ok("Basic Og==", "", "")) << "':' encodes the empty credentials";
  EXPECT_FALSE(basic_auth_ok("", "", ""));
  EXPECT_FALSE(basic_auth_ok("Basic ", "", ""));
}

}  // namespace
}  // namespace sy::status
