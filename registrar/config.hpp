#pragma once
// switchyard-registrar's configuration: route-registrar's YAML keys
// (`message_bus_servers`, `host`, `unregistration_message_limit`, `routes`)
// plus Switchyard's `nats:` in either gorouter style and `logging`. Parsed
// once at start-up on the main thread (registrar/config_parse.hpp), immutable
// afterwards. A bad value is a config::ConfigError naming the key path
// (`routes[0].health_check.timeout`); the binary prints it and exits 2.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "registrar/message.hpp"
#include "registrar/route_state.hpp"

namespace sy::registrar {

// GET `target` from host:port; healthy when the status is expected_status.
struct HttpCheck {
  std::string url;     // as configured, for logs
  std::string host;
  uint16_t port = 80;
  std::string target = "/";
  int expected_status = 200;
};

// A TCP connect to host:port (defaults: the route's host and port).
struct TcpCheck {
  std::string host;
  uint16_t port = 0;
};

// Runs script_path with args; healthy when it exits 0 within the timeout.
struct ScriptCheck {
  std::string path;
  std::vector<std::string> args;
};

struct HealthCheck {
  std::string name;  // optional label for logs
  std::variant<HttpCheck, TcpCheck, ScriptCheck> probe;
  Millis timeout{0};  // default half the registration interval; always shorter than it
};

struct RouteConfig {
  std::string name;
  Registration registration;  // host, port/tls_port, uris, tags, options... (private_instance_id set at run time)
  Millis registration_interval{0};
  std::optional<HealthCheck> health_check;
};

struct RegistrarConfig {
  config::NatsConfig nats;
  std::string host;               // default backend host for routes
  std::string availability_zone;  // default for routes
  int unregistration_message_limit = 5;
  std::vector<RouteConfig> routes;
  config::LoggingConfig logging;
  // Keys present that the registrar does not implement (dotted, file order).
  std::vector<std::string> ignored_keys;
};

}  // namespace sy::registrar
