// registrar/config_parse.hpp: route-registrar's YAML keys and Switchyard's
// `nats:` styles, defaults, and errors that name the offending key.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "registrar/config_parse.hpp"

namespace sy::registrar {
namespace {

using namespace std::chrono_literals;

std::string data_file(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path() / "../../data/registrar" / name).lexically_normal().string();
}

RegistrarConfig parse_ok(const std::string& yaml) {
  auto result = parse_registrar_config(yaml);
  if (auto* error = std::get_if<config::ConfigError>(&result)) {
    ADD_FAILURE() << "unexpected error: " << error->message << "\nfor:\n" << yaml;
    return RegistrarConfig{};
  }
  return std::get<RegistrarConfig>(result);
}

std::string parse_error(const std::string& yaml) {
  auto result = parse_registrar_config(yaml);
  if (auto* error = std::get_if<config::ConfigError>(&result)) return error->message;
  ADD_FAILURE() << "expected an error for:\n" << yaml;
  return "";
}

// A valid single route, with `extra` appended to it (indented as route keys).
std::string one_route(const std::string& extra = "", const std::string& top = "host: 10.1.2.3\n") {
  return top + "routes:\n  - name: web\n    port: 8080\n    uris: [web.example.com]\n    registration_interval: 20s\n" +
         extra;
}

TEST(RegistrarConfig, ExampleFileParses) {
  auto result = load_registrar_config(data_file("example.yml"));
  ASSERT_TRUE(std::holds_alternative<RegistrarConfig>(result)) << std::get<config::ConfigError>(result).message;
  const RegistrarConfig& c = std::get<RegistrarConfig>(result);
  ASSERT_EQ(c.nats.servers.size(), 1u);
  EXPECT_EQ(c.nats.servers[0].host, "127.0.0.1");
  EXPECT_EQ(c.nats.servers[0].port, 4222);
  EXPECT_TRUE(c.nats.servers[0].user.empty());
  EXPECT_EQ(c.unregistration_message_limit, 5);
  ASSERT_EQ(c.routes.size(), 3u);

  const RouteConfig& demo = c.routes[0];
  EXPECT_EQ(demo.registration.host, "127.0.0.1");
  EXPECT_EQ(demo.registration_interval, 2s);
  ASSERT_TRUE(demo.health_check);
  const auto& script = std::get<ScriptCheck>(demo.health_check->probe);
  EXPECT_EQ(script.path, "/usr/bin/test");
  EXPECT_EQ(script.args, (std::vector<std::string>{"-f", "/tmp/demo-up"}));
  EXPECT_EQ(demo.health_check->timeout, 1s);

  const RouteConfig& api = c.routes[1];
  EXPECT_EQ(api.registration.loadbalancing, "least-connection");
  EXPECT_EQ(api.registration.availability_zone, "z1");
  const auto& http = std::get<HttpCheck>(api.health_check->probe);
  EXPECT_EQ(http.host, "127.0.0.1");
  EXPECT_EQ(http.port, 9091);
  EXPECT_EQ(http.target, "/health");
  EXPECT_EQ(http.expected_status, 200);
  EXPECT_EQ(api.health_check->timeout, 5s);  // half the interval

  const RouteConfig& db = c.routes[2];
  EXPECT_EQ(db.registration_interval, 20s);  // integer seconds
  const auto& tcp = std::get<TcpCheck>(db.health_check->probe);
  EXPECT_EQ(tcp.host, "127.0.0.1");  // the route's host and port
  EXPECT_EQ(tcp.port, 9092);
  EXPECT_EQ(db.health_check->timeout, 3s);
}

TEST(RegistrarConfig, DefaultsAndRouteFields) {
  RegistrarConfig c = parse_ok(one_route(
      "    tags: {component: web, team: a}\n    tls_port: 8443\n    server_cert_domain_san: web.internal\n"
      "    protocol: http2\n    route_service_url: https://rs.example.com\n",
      "host: 10.1.2.3\navailability_zone: z9\n"));
  ASSERT_EQ(c.nats.servers.size(), 1u);  // default NATS: 127.0.0.1:4222
  EXPECT_EQ(c.nats.servers[0].port, 4222);
  EXPECT_EQ(c.unregistration_message_limit, 5);
  const Registration& r = c.routes.at(0).registration;
  EXPECT_EQ(r.host, "10.1.2.3");
  EXPECT_EQ(r.port, 8080);
  EXPECT_EQ(r.tls_port, 8443);
  EXPECT_EQ(r.tags, (std::vector<std::pair<std::string, std::string>>{{"component", "web"}, {"team", "a"}}));
  EXPECT_EQ(r.availability_zone, "z9");
  EXPECT_EQ(r.protocol, "http2");
  EXPECT_FALSE(c.routes[0].health_check);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(RegistrarConfig, NatsStyles) {
  RegistrarConfig bus = parse_ok(one_route("", "host: h1\nmessage_bus_servers:\n  - {host: \"10.0.0.5:4223\", user: u, password: p}\n"
                                               "  - {host: nats.internal}\n  - {host: \"[::1]:4225\"}\n"));
  ASSERT_EQ(bus.nats.servers.size(), 3u);
  EXPECT_EQ(bus.nats.servers[0].host, "10.0.0.5");
  EXPECT_EQ(bus.nats.servers[0].port, 4223);
  EXPECT_EQ(bus.nats.servers[0].user, "u");
  EXPECT_EQ(bus.nats.servers[0].pass, "p");
  EXPECT_EQ(bus.nats.servers[1].port, 4222);
  EXPECT_EQ(bus.nats.servers[2].host, "::1");
  EXPECT_EQ(bus.nats.servers[2].port, 4225);

  // A host:port longer than std::string's inline buffer (the host was once a
  // view into a freed temporary: garbage, and the registrar never connected).
  RegistrarConfig long_host = parse_ok(one_route(
      "", "host: h1\nmessage_bus_servers:\n  - host: nats-0.nats.switchyard.svc.cluster.local:50885\n"
          "  - host: 10.213.127.1:60075\n"));
  ASSERT_EQ(long_host.nats.servers.size(), 2u);
  EXPECT_EQ(long_host.nats.servers[0].host, "nats-0.nats.switchyard.svc.cluster.local");
  EXPECT_EQ(long_host.nats.servers[0].port, 50885);
  EXPECT_EQ(long_host.nats.servers[1].host, "10.213.127.1");
  EXPECT_EQ(long_host.nats.servers[1].port, 60075);

  RegistrarConfig classic = parse_ok(one_route("", "host: h1\nnats:\n  - {host: 10.0.0.6, port: 4000, user: a, pass: b}\n"));
  EXPECT_EQ(classic.nats.servers.at(0).port, 4000);
  EXPECT_EQ(classic.nats.servers.at(0).pass, "b");

  RegistrarConfig current = parse_ok(one_route(
      "", "host: h1\nnats:\n  hosts: [{hostname: 10.0.0.7, port: 4001}]\n  user: x\n  pass: y\n  reconnect_wait: 50ms\n"));
  EXPECT_EQ(current.nats.servers.at(0).host, "10.0.0.7");
  EXPECT_EQ(current.nats.user, "x");
  EXPECT_EQ(current.nats.reconnect_wait, 50ms);
}

TEST(RegistrarConfig, HealthCheckKindsAndDefaults) {
  RegistrarConfig tcp = parse_ok(one_route("    health_check: {type: tcp}\n"));
  const auto& t = std::get<TcpCheck>(tcp.routes.at(0).health_check->probe);
  EXPECT_EQ(t.host, "10.1.2.3");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(tcp.routes[0].health_check->timeout, 10s);

  RegistrarConfig tcp2 = parse_ok(one_route("    health_check: {host: 127.0.0.1, port: 99, timeout: 250ms}\n"));
  const auto& t2 = std::get<TcpCheck>(tcp2.routes.at(0).health_check->probe);
  EXPECT_EQ(t2.host, "127.0.0.1");
  EXPECT_EQ(t2.port, 99);
  EXPECT_EQ(tcp2.routes[0].health_check->timeout, 250ms);

  RegistrarConfig http = parse_ok(one_route("    health_check: {url: \"http://[::1]:81/status/503?x=1\", expected_status: 503}\n"));
  const auto& h = std::get<HttpCheck>(http.routes.at(0).health_check->probe);
  EXPECT_EQ(h.host, "::1");
  EXPECT_EQ(h.port, 81);
  EXPECT_EQ(h.target, "/status/503?x=1");
  EXPECT_EQ(h.expected_status, 503);

  RegistrarConfig script = parse_ok(one_route("    health_check: {name: probe, script_path: /bin/true}\n"));
  EXPECT_EQ(script.routes.at(0).health_check->name, "probe");
  EXPECT_TRUE(std::get<ScriptCheck>(script.routes[0].health_check->probe).args.empty());
}

TEST(RegistrarConfig, IgnoredKeysAreListed) {
  RegistrarConfig c = parse_ok(one_route("    prepend_instance_index: true\n",
                                         "host: h\nnats_mtls_config: {enabled: false}\ndynamic_config_globs: []\n"));
  EXPECT_EQ(c.ignored_keys, (std::vector<std::string>{"nats_mtls_config", "routes[0].prepend_instance_index"}));
}

struct ErrorCase {
  std::string yaml;
  std::string expected;  // substring of the message, starting with the key path
};

TEST(RegistrarConfig, ErrorsNameTheKey) {
  const std::vector<ErrorCase> cases = {
      {"host: h\n", "routes: missing"},
      {"host: h\nroutes: []\n", "routes: missing"},
      {"host: h\nroutes: {a: 1}\n", "routes: got a map, expected a list of routes"},
      {"routes:\n  - {port: 1, uris: [a.b], registration_interval: 1s, host: h}\n", "routes[0].name: missing"},
      {one_route("", ""), "routes[0].host: missing"},
      {one_route("", "host: \"not a host\"\n"), "host: value \"not a host\" is not a host name or IP address"},
      {one_route("    uris: []\n"), "routes[0].uris: duplicate key"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [], registration_interval: 1s}\n",
       "routes[0].uris: expected at least one uri, got an empty list"},
      {"host: h\nroutes:\n  - {name: a, port: 1, registration_interval: 1s}\n", "routes[0].uris: missing"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [ok.com, \"bad uri\"], registration_interval: 1s}\n",
       "routes[0].uris[1]: value \"bad uri\" is not a uri"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [a.b]}\n", "routes[0].registration_interval: missing"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [a.b], registration_interval: 0s}\n",
       "routes[0].registration_interval: value \"0s\" is not a duration greater than zero"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [a.b], registration_interval: soon}\n",
       "routes[0].registration_interval: value \"soon\" is not a duration"},
      {"host: h\nroutes:\n  - {name: a, uris: [a.b], registration_interval: 1s}\n", "routes[0].port: missing"},
      {"host: h\nroutes:\n  - {name: a, port: 70000, uris: [a.b], registration_interval: 1s}\n",
       "routes[0].port: value \"70000\" is not a port"},
      {"host: h\nroutes:\n  - {name: a, tls_port: 443, uris: [a.b], registration_interval: 1s}\n",
       "routes[0].server_cert_domain_san: missing"},
      {one_route("    options: {loadbalancing: random}\n"), "routes[0].options.loadbalancing: value \"random\" is not a balancing"},
      {one_route("    protocol: http3\n"), "routes[0].protocol: value \"http3\" is not a protocol"},
      {one_route("    type: tcp\n"), "routes[0].type: value \"tcp\" is not http"},
      {one_route("    route_service_url: http://rs\n"), "routes[0].route_service_url: value \"http://rs\" is not an https:// URL"},
      {one_route("    tags: [a]\n"), "routes[0].tags: got a list, expected a map"},
      {one_route("", "host: h\nunregistration_message_limit: -1\n"), "unregistration_message_limit: value \"-1\" is not an integer >= 0"},
      {one_route("", "host: h\nmessage_bus_servers: [{host: \"h:x\"}]\n"),
       "message_bus_servers[0].host: value \"h:x\" is not host:port"},
      {one_route("", "host: h\nmessage_bus_servers: []\n"), "message_bus_servers: expected at least one server"},
      {one_route("", "host: h\nmessage_bus_servers: [{host: a}]\nnats: [{host: b}]\n"),
       "message_bus_servers: give either message_bus_servers or nats, not both"},
      {one_route("", "host: h\nnats: {hosts: [{hostname: a, port: 0}]}\n"), "nats.hosts[0].port: value \"0\" is not a port"},
      {one_route("", "host: h\nlogging: {level: loud}\n"), "logging.level: value \"loud\" is not a log level"},
  };
  for (const ErrorCase& c : cases) {
    std::string message = parse_error(c.yaml);
    EXPECT_EQ(message.rfind(c.expected, 0), 0u) << "got: " << message << "\nwanted: " << c.expected << "\nfor:\n" << c.yaml;
  }
}

TEST(RegistrarConfig, HealthCheckErrorsNameTheKey) {
  const std::vector<ErrorCase> cases = {
      {one_route("    health_check: {timeout: 1s}\n"), "routes[0].health_check: expected script_path, url, or type: tcp"},
      {one_route("    health_check: {script_path: /bin/true, timeout: 20s}\n"),
       "routes[0].health_check.timeout: value \"20s\" is not shorter than registration_interval (20s)"},
      {one_route("    health_check: {script_path: /bin/true, timeout: 0s}\n"),
       "routes[0].health_check.timeout: value \"0s\" is not a duration greater than zero"},
      {one_route("    health_check: {script_path: /bin/true, port: 80}\n"), "routes[0].health_check.port: not used by a check of type script"},
      {one_route("    health_check: {type: http, script_path: /bin/true}\n"),
       "routes[0].health_check.script_path: not used by a check of type http"},
      {one_route("    health_check: {type: http}\n"), "routes[0].health_check.url: missing"},
      {one_route("    health_check: {type: script}\n"), "routes[0].health_check.script_path: missing"},
      {one_route("    health_check: {type: icmp}\n"), "routes[0].health_check.type: value \"icmp\" is not a health check type"},
      {one_route("    health_check: {url: \"https://a/\"}\n"), "routes[0].health_check.url: value \"https://a/\" is not an http:// URL"},
      {one_route("    health_check: {url: \"http://a:99999/\"}\n"), "routes[0].health_check.url: value \"http://a:99999/\" is not"},
      {one_route("    health_check: {url: \"http://a/\", expected_status: 42}\n"),
       "routes[0].health_check.expected_status: value \"42\" is not an HTTP status code"},
      {one_route("    health_check: {script_path: /bin/true, args: x}\n"),
       "routes[0].health_check.args: value \"x\" is not a list of arguments"},
      {one_route("    health_check: [a]\n"), "routes[0].health_check: got a list, expected a map"},
  };
  for (const ErrorCase& c : cases) {
    std::string message = parse_error(c.yaml);
    EXPECT_EQ(message.rfind(c.expected, 0), 0u) << "got: " << message << "\nwanted: " << c.expected << "\nfor:\n" << c.yaml;
  }
}

TEST(RegistrarConfig, SyntaxErrorsAndFiles) {
  EXPECT_EQ(parse_error("routes: [\n").rfind("YAML syntax error at line", 0), 0u);
  auto missing = load_registrar_config("/nonexistent/registrar.yml");
  ASSERT_TRUE(std::holds_alternative<config::ConfigError>(missing));
  EXPECT_NE(std::get<config::ConfigError>(missing).message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace sy::registrar
