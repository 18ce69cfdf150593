// Registry message parsing: every field, minimal messages, unknown fields,
// every way a message is dropped (and why), uri parsing, host validation.
#include "router/route/route_message.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sy::route {
namespace {

using namespace std::string_literals;

// Parses a payload that must be accepted.
RouteMessage accepted(std::string_view payload) {
  auto r = parse_route_message(payload);
  if (const auto* err = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "rejected (" << to_string(err->cause) << ": " << err->detail << "): " << payload.substr(0, 200);
    return {};
  }
  return std::get<RouteMessage>(std::move(r));
}

const char* cause_name(const std::variant<RouteMessage, ParseError>& r) {
  if (const auto* err = std::get_if<ParseError>(&r)) return to_string(err->cause);
  return "accepted";
}

TEST(RouteMessageTest, FullMessageFillsEveryField) {
  const RouteMessage m = accepted(R"({
    "host": "10.0.1.7",
    "port": 61001,
    "tls_port": 61443,
    "uris": ["App.Example.com", "app.example.com/API/v1/", "*.apps.io"],
    "tags": {"space_id": "s-1", "app_name": "web", "component": "route-emitter"},
    "app": "app-guid",
    "private_instance_id": "instance-guid",
    "private_instance_index": "3",
    "server_cert_domain_san": "instance-guid.san",
    "route_service_url": "https://rs.example.com/x",
    "stale_threshold_in_seconds": 45,
    "isolation_segment": "iso-seg",
    "endpoint_updated_at_ns": 1700000000123456789,
    "protocol": "http2",
    "availability_zone": "z2",
    "options": {"loadbalancing": "least-connection"}
  })");
  const EndpointSpec& ep = m.endpoint;
  EXPECT_EQ(ep.host, "10.0.1.7");
  EXPECT_EQ(ep.port, 61443) << "tls_port, when set, is the endpoint's port";
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.address(), "10.0.1.7:61443");
  EXPECT_EQ(ep.protocol, Protocol::http2);
  EXPECT_EQ(ep.stale_threshold, std::chrono::seconds(45));
  ASSERT_TRUE(ep.algorithm.has_value());
  EXPECT_EQ(*ep.algorithm, Algorithm::least_connection);
  EXPECT_EQ(ep.updated_at_ns, 1700000000123456789LL);

  const EndpointMeta& meta = ep.meta;
  EXPECT_EQ(meta.app_id, "app-guid");
  EXPECT_EQ(meta.private_instance_id, "instance-guid");
  EXPECT_EQ(meta.private_instance_index, "3");
  EXPECT_EQ(meta.server_cert_domain_san, "instance-guid.san");
  EXPECT_EQ(meta.route_service_url, "https://rs.example.com/x");
  EXPECT_EQ(meta.isolation_segment, "iso-seg");
  EXPECT_EQ(meta.availability_zone, "z2");
  using Tag = std::pair<std::string, std::string>;
  EXPECT_EQ(meta.tags, (std::vector<Tag>{{"app_name", "web"}, {"component", "route-emitter"}, {"space_id", "s-1"}}))
      << "tags sorted by key";
  EXPECT_FALSE(meta.empty());

  ASSERT_EQ(m.uris.size(), 3u);
  EXPECT_EQ(m.uris[0], (Uri{"app.example.com", ""}));
  EXPECT_EQ(m.uris[1], (Uri{"app.example.com", "/api/v1"}));
  EXPECT_EQ(m.uris[2], (Uri{"*.apps.io", ""}));
}

TEST(RouteMessageTest, MinimalMessageUsesDefaults) {
  const RouteMessage m = accepted(R"({"host":"10.0.0.1","port":8080,"uris":["a.com"]})");
  const EndpointSpec& ep = m.endpoint;
  EXPECT_EQ(ep.host, "10.0.0.1");
  EXPECT_EQ(ep.port, 8080);
  EXPECT_FALSE(ep.tls);
  EXPECT_EQ(ep.protocol, Protocol::http1);
  EXPECT_EQ(ep.stale_threshold, std::chrono::seconds(0)) << "0 = the registry's default";
  EXPECT_FALSE(ep.algorithm.has_value());
  EXPECT_EQ(ep.updated_at_ns, 0);
  EXPECT_TRUE(ep.meta.empty());
  ASSERT_EQ(m.uris.size(), 1u);
  EXPECT_EQ(m.uris[0].str(), "a.com");
}

TEST(RouteMessageTest, TlsPortAloneIsEnough) {
  const RouteMessage m = accepted(R"({"host":"10.0.0.1","tls_port":443,"uris":["a.com"]})");
  EXPECT_EQ(m.endpoint.port, 443);
  EXPECT_TRUE(m.endpoint.tls);
}

TEST(RouteMessageTest, ZeroTlsPortMeansPlainPort) {
  const RouteMessage m = accepted(R"({"host":"10.0.0.1","port":80,"tls_port":0,"uris":["a.com"]})");
  EXPECT_EQ(m.endpoint.port, 80);
  EXPECT_FALSE(m.endpoint.tls);
}

TEST(RouteMessageTest, NullOptionalFieldsAreAbsent) {
  const RouteMessage m =
      accepted(R"({"host":"10.0.0.1","port":80,"uris":["a.com"],"app":null,"tags":null,"tls_port":null,)"
               R"("stale_threshold_in_seconds":null,"options":null,"route_service_url":null})");
  EXPECT_EQ(m.endpoint.port, 80);
  EXPECT_FALSE(m.endpoint.tls);
  EXPECT_TRUE(m.endpoint.meta.empty());
}

TEST(RouteMessageTest, UnknownFieldsAreIgnored) {
  const RouteMessage m = accepted(
      R"({"zzz":1,"host":"10.0.0.1","future_field":{"nested":[1,{"a":null}],"b":"x"},"port":80,)"
      R"("uris":["a.com"],"another":[true,false,3.5],"options":{"unknown_option":7,"loadbalancing":"round-robin"}})");
  EXPECT_EQ(m.endpoint.address(), "10.0.0.1:80");
  ASSERT_TRUE(m.endpoint.algorithm.has_value());
  EXPECT_EQ(*m.endpoint.algorithm, Algorithm::round_robin);
  ASSERT_EQ(m.uris.size(), 1u);
  EXPECT_EQ(m.uris[0].str(), "a.com");
}

TEST(RouteMessageTest, LenientOptionalValues) {
  // An unknown protocol is http1; an unknown algorithm leaves the pool's choice;
  // a negative threshold means "default"; non-string tag values are skipped.
  const RouteMessage m = accepted(
      R"({"host":"10.0.0.1","port":80,"uris":["a.com"],"protocol":"spdy","options":{"loadbalancing":"random"},)"
      R"("stale_threshold_in_seconds":-5,"tags":{"b":"2","n":3,"a":"1"}})");
  EXPECT_EQ(m.endpoint.protocol, Protocol::http1);
  EXPECT_FALSE(m.endpoint.algorithm.has_value());
  EXPECT_EQ(m.endpoint.stale_threshold, std::chrono::seconds(0));
  using Tag = std::pair<std::string, std::string>;
  EXPECT_EQ(m.endpoint.meta.tags, (std::vector<Tag>{{"a", "1"}, {"b", "2"}}));
}

TEST(RouteMessageTest, DuplicateUrisAreDeduplicated) {
  const RouteMessage m =
      accepted(R"({"host":"10.0.0.1","port":80,"uris":["a.com","A.COM","a.com/","b.com/x","B.com/X/","a.com"]})");
  ASSERT_EQ(m.uris.size(), 2u);
  EXPECT_EQ(m.uris[0], (Uri{"a.com", ""}));
  EXPECT_EQ(m.uris[1], (Uri{"b.com", "/x"}));
}

TEST(RouteMessageTest, Ipv6HostAddressIsBracketed) {
  const RouteMessage m = accepted(R"({"host":"fd00::1","port":80,"uris":["a.com"]})");
  EXPECT_EQ(m.endpoint.host, "fd00::1");
  EXPECT_EQ(m.endpoint.address(), "[fd00::1]:80");
}

TEST(RouteMessageTest, PayloadSizeLimitBoundary) {
  const std::string base = R"({"host":"10.0.0.1","port":80,"uris":["a.com"]})";
  std::string at_limit = base + std::string(kMaxMessageBytes - base.size(), ' ');
  ASSERT_EQ(at_limit.size(), kMaxMessageBytes);
  EXPECT_STREQ(cause_name(parse_route_message(at_limit)), "accepted");
  std::string over = at_limit + ' ';
  EXPECT_STREQ(cause_name(parse_route_message(over)), "too_large");
}

// Parses on a thread with a 256 KiB stack, so a parser that recursed once per
// nesting level would overflow it (the main thread's 8 MiB would hide that).
std::string cause_on_small_stack(const std::string& payload) {
  struct Job {
    const std::string* payload;
    std::string cause;
  } job{&payload, "not run"};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  int rc = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        auto* j = static_cast<Job*>(arg);
        j->cause = cause_name(parse_route_message(*j->payload));
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) return "pthread_create failed";
  pthread_join(thread, nullptr);
  return job.cause;
}

TEST(RouteMessageTest, DeepNestingIsParsedIterativelyWithoutCrashing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string in_field = R"({"host":"10.0.0.1","port":80,"uris":["a.com"],"junk":)" + deep + "}";
  ASSERT_LE(in_field.size(), kMaxMessageBytes);
  EXPECT_EQ(cause_on_small_stack(in_field), "accepted") << "an unknown field may hold anything";
  EXPECT_EQ(cause_on_small_stack(deep), "not_object");
  EXPECT_EQ(cause_on_small_stack(std::string(100000, '[')), "not_json");
  EXPECT_EQ(cause_on_small_stack(std::string(40000, '{')), "not_json");
  std::string objects;
  for (int i = 0; i < 40000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(40000, '}');
  ASSERT_LE(objects.size(), kMaxMessageBytes);
  EXPECT_EQ(cause_on_small_stack(objects), "missing_host") << "an object, just without host";
}

TEST(RouteMessageTest, ErrorDetailIsShort) {
  const std::string long_uri(1000, 'a');
  auto r = parse_route_message(R"({"host":"10.0.0.1","port":80,"uris":["a.com/)" + long_uri + R"( x"]})");
  const auto* err = std::get_if<ParseError>(&r);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->cause, InvalidCause::invalid_uri);
  EXPECT_LE(err->detail.size(), 200u) << "never the whole payload";
}

TEST(RouteMessageTest, InvalidCauseNamesAreDistinct) {
  std::vector<std::string> names;
  for (int i = 0; i < kInvalidCauseCount; ++i) names.emplace_back(to_string(static_cast<InvalidCause>(i)));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_NE(names[i], "unknown") << i;
    for (size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
  }
  EXPECT_STREQ(to_string(InvalidCause::too_large), "too_large");
  EXPECT_STREQ(to_string(InvalidCause::not_json), "not_json");
}

// ---- Dropped messages: one payload, one cause. ----

struct Invalid {
  const char* name;
  std::string payload;
  InvalidCause cause;
};

void PrintTo(const Invalid& c, std::ostream* os) { *os << c.name; }

class InvalidMessageTest : public ::testing::TestWithParam<Invalid> {};

TEST_P(InvalidMessageTest, IsDroppedWithCause) {
  const Invalid& c = GetParam();
  auto r = parse_route_message(c.payload);
  const auto* err = std::get_if<ParseError>(&r);
  ASSERT_NE(err, nullptr) << c.name << ": accepted";
  EXPECT_STREQ(to_string(err->cause), to_string(c.cause)) << c.name << " (" << err->detail << ")";
}

// A message from "key":value members; an empty member is left out, so each
// invalid payload differs from a valid one in exactly one place.
std::string with(const std::string& host, const std::string& port, const std::string& uris,
                 const std::string& extra = "") {
  std::string s = "{";
  bool first = true;
  auto add = [&](const std::string& kv) {
    if (kv.empty()) return;
    if (!first) s += ',';
    s += kv;
    first = false;
  };
  add(host);
  add(port);
  add(uris);
  add(extra);
  return s + "}";
}

const std::string kHost = R"("host":"10.0.0.1")";
const std::string kPort = R"("port":80)";
const std::string kUris = R"("uris":["a.com"])";

std::vector<Invalid> invalid_payloads() {
  using C = InvalidCause;
  return {
      {"bad_json", R"({"host":"10.0.0.1","port":80,"uris":["a.com"])", C::not_json},
      {"bad_json_unquoted_key", R"({host:"10.0.0.1","port":80,"uris":["a.com"]})", C::not_json},
      {"trailing_garbage", with(kHost, kPort, kUris) + " x", C::not_json},
      {"two_documents", with(kHost, kPort, kUris) + with(kHost, kPort, kUris), C::not_json},
      {"empty", "", C::not_json},
      {"whitespace_only", "  \n\t ", C::not_json},
      {"null", "null", C::not_object},
      {"array", with(kHost, kPort, kUris).insert(0, "[") + "]", C::not_object},
      {"string", R"("host")", C::not_object},
      {"number", "42", C::not_object},
      {"host_missing", with("", kPort, kUris), C::missing_host},
      {"host_empty", with(R"("host":"")", kPort, kUris), C::missing_host},
      {"host_number", with(R"("host":10)", kPort, kUris), C::wrong_type},
      {"host_with_space", with(R"("host":"10.0.0 .1")", kPort, kUris), C::invalid_host},
      {"host_with_slash", with(R"("host":"a/b")", kPort, kUris), C::invalid_host},
      {"host_too_long", with(R"("host":")" + std::string(254, 'a') + "\"", kPort, kUris), C::invalid_host},
      {"port_missing", with(kHost, "", kUris), C::missing_port},
      {"port_zero", with(kHost, R"("port":0)", kUris), C::invalid_port},
      {"port_negative", with(kHost, R"("port":-1)", kUris), C::invalid_port},
      {"port_65536", with(kHost, R"("port":65536)", kUris), C::invalid_port},
      {"port_huge", with(kHost, R"("port":4294967376)", kUris), C::invalid_port},
      {"port_string", with(kHost, R"("port":"80")", kUris), C::wrong_type},
      {"port_fraction", with(kHost, R"("port":1.5)", kUris), C::wrong_type},
      {"port_bool", with(kHost, R"("port":true)", kUris), C::wrong_type},
      {"tls_port_65536", with(kHost, kPort, kUris, R"("tls_port":65536)"), C::invalid_port},
      {"tls_port_string", with(kHost, kPort, kUris, R"("tls_port":"443")"), C::wrong_type},
      {"uris_missing", with(kHost, kPort, ""), C::missing_uris},
      {"uris_null", with(kHost, kPort, R"("uris":null)"), C::missing_uris},
      {"uris_empty", with(kHost, kPort, R"("uris":[])"), C::missing_uris},
      {"uris_not_a_list", with(kHost, kPort, R"("uris":"a.com")"), C::wrong_type},
      {"uris_contains_number", with(kHost, kPort, R"("uris":["a.com",5])"), C::wrong_type},
      {"uri_with_scheme", with(kHost, kPort, R"("uris":["http://x.com"])"), C::invalid_uri},
      {"uri_with_space", with(kHost, kPort, R"("uris":["a b.com"])"), C::invalid_uri},
      {"uri_with_query", with(kHost, kPort, R"("uris":["a.com?x"])"), C::invalid_uri},
      {"uri_path_with_query", with(kHost, kPort, R"("uris":["a.com/p?x=1"])"), C::invalid_uri},
      {"uri_path_with_fragment", with(kHost, kPort, R"("uris":["a.com/p#f"])"), C::invalid_uri},
      {"uri_star", with(kHost, kPort, R"("uris":["*"])"), C::invalid_uri},
      {"uri_double_dot", with(kHost, kPort, R"("uris":["a..com"])"), C::invalid_uri},
      {"uri_empty", with(kHost, kPort, R"("uris":[""])"), C::invalid_uri},
      {"uri_path_only", with(kHost, kPort, R"("uris":["/api"])"), C::invalid_uri},
      {"uri_one_bad_among_good", with(kHost, kPort, R"("uris":["a.com","b .com"])"), C::invalid_uri},
      {"route_service_url_http", with(kHost, kPort, kUris, R"("route_service_url":"http://rs.example.com")"),
       C::invalid_route_service_url},
      {"route_service_url_no_scheme", with(kHost, kPort, kUris, R"("route_service_url":"rs.example.com")"),
       C::invalid_route_service_url},
      {"app_number", with(kHost, kPort, kUris, R"("app":7)"), C::wrong_type},
      {"stale_threshold_string", with(kHost, kPort, kUris, R"("stale_threshold_in_seconds":"30")"), C::wrong_type},
      {"tags_list", with(kHost, kPort, kUris, R"("tags":["a"])"), C::wrong_type},
      {"deeply_nested_array", std::string(100000, '[') + std::string(100000, ']'), C::not_object},
      {"deeply_nested_unclosed", std::string(100000, '['), C::not_json},
      {"too_large", with(kHost, kPort, kUris) + std::string(kMaxMessageBytes, ' '), C::too_large},
      {"too_large_garbage", std::string(kMaxMessageBytes + 1, '['), C::too_large},
  };
}

INSTANTIATE_TEST_SUITE_P(RouteMessage, InvalidMessageTest, ::testing::ValuesIn(invalid_payloads()),
                         [](const ::testing::TestParamInfo<Invalid>& info) { return std::string(info.param.name); });

// Regression: RapidJSON stops at the first NUL byte, so bytes after an
// embedded '\0' were never looked at and this payload, which is not valid
// JSON, used to be accepted.
TEST(RouteMessageTest, GarbageAfterEmbeddedNulIsNotJson) {
  const std::string payload = R"({"host":"10.0.0.1","port":80,"uris":["a.com"]})"s + '\0' + "garbage";
  EXPECT_STREQ(cause_name(parse_route_message(payload)), "not_json");
}

// ---- parse_uri ----

TEST(ParseUriTest, HostAndPathAreNormalised) {
  Uri u;
  ASSERT_TRUE(parse_uri("A.com/Path/", &u));
  EXPECT_EQ(u.host, "a.com");
  EXPECT_EQ(u.path, "/path");
  EXPECT_EQ(u.str(), "a.com/path");

  ASSERT_TRUE(parse_uri("a.com///", &u));
  EXPECT_EQ(u, (Uri{"a.com", ""})) << "trailing slashes only";

  ASSERT_TRUE(parse_uri("a.com/v1/x", &u));
  EXPECT_EQ(u, (Uri{"a.com", "/v1/x"}));

  ASSERT_TRUE(parse_uri("my-app_1.apps.io", &u));
  EXPECT_EQ(u, (Uri{"my-app_1.apps.io", ""}));
}

TEST(ParseUriTest, WildcardOnlyAsFirstLabel) {
  Uri u;
  ASSERT_TRUE(parse_uri("*.a.com", &u));
  EXPECT_EQ(u.host, "*.a.com");
  ASSERT_TRUE(parse_uri("*.A.com/X", &u));
  EXPECT_EQ(u, (Uri{"*.a.com", "/x"}));
  for (const char* bad : {"*", "*.", "*a.com", "a.*.com", "a.com*", "**.a.com", "*..com"})
    EXPECT_FALSE(parse_uri(bad, &u)) << bad;
}

TEST(ParseUriTest, PathCharacters) {
  Uri u;
  ASSERT_TRUE(parse_uri("a.com/-._~!$&'()*+,;=:@%20", &u));
  EXPECT_EQ(u.path, "/-._~!$&'()*+,;=:@%20");
  for (const char* bad :
       {"a.com/a b", "a.com/a?b", "a.com/a#b", "a.com/a\"b", "a.com/a<b", "a.com/a\\b", "a.com/a|b", "a.com/\xc3\xa9"})
    EXPECT_FALSE(parse_uri(bad, &u)) << bad;
}

TEST(ParseUriTest, BadHosts) {
  Uri u;
  for (const char* bad : {"", "a..com", ".a.com", "a.com.", "a b.com", "a:80", "http://a.com", "a.com?x", "a@b.com",
                          "/x", "\xc3\xa9.com"})
    EXPECT_FALSE(parse_uri(bad, &u)) << bad;
  EXPECT_FALSE(parse_uri(std::string(254, 'a'), &u)) << "host over 253";
  EXPECT_TRUE(parse_uri(std::string(253, 'a'), &u)) << "host of 253";
  EXPECT_FALSE(parse_uri("a.com/" + std::string(1020, 'p'), &u)) << "uri over 1024";
}

}  // namespace
}  // namespace sy::route

namespace sy::route {
namespace {

// SPEC §5.3: a tunnel holder's registration is told apart by its tags.
TEST(RouteMessageTest, TunnelRegistrationsAreClassifiedByTheirTags) {
  auto tunnel = parse_route_message(
      R"({"host":"10.0.0.5","port":8081,"uris":["b7de88a94729b931.t.example.com"],)"
      R"("tags":{"component":"tunnel","tunnel_id":"abc","node":"node-a","claimed_at":"1"}})");
  ASSERT_TRUE(std::holds_alternative<RouteMessage>(tunnel));
  const EndpointMeta& m = std::get<RouteMessage>(tunnel).endpoint.meta;
  EXPECT_EQ(m.kind, EndpointKind::tunnel);
  EXPECT_EQ(m.tag("node"), "node-a");
  EXPECT_EQ(m.tag("absent"), "");
  auto partial = parse_route_message(R"({"host":"10.0.0.5","port":8081,"uris":["a.com"],"tags":{"component":"tunnel"}})");
  EXPECT_EQ(std::get<RouteMessage>(partial).endpoint.meta.kind, EndpointKind::backend) << "no id or node: a backend";
  Endpoint e(std::get<RouteMessage>(tunnel).endpoint, Clock::now());
  EXPECT_EQ(e.kind(), EndpointKind::tunnel);
}

}  // namespace
}  // namespace sy::route
