#pragma once
// Internal to the registrar's config reading (config_parse.cpp and
// config_routes.cpp): one entry of `routes:` and its `health_check` is read
// into a draft, then completed once the top-level defaults (`host`,
// `availability_zone`) are known, whatever their place in the file; the
// completion applies the cross-key rules (name, host, port or tls_port,
// uris, registration_interval; a check's kind, its defaults, a timeout
// shorter than the interval). Main thread, start-up only. Failures throw
// config::detail::Invalid naming the key path (`routes[0].health_check.url`),
// which parse_registrar_config() turns into a ConfigError.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/yaml_read.hpp"
#include "registrar/config.hpp"

namespace sy::registrar::parse_detail {

// A host name or IP address (names::valid_hostname), else "a host name or IP
// address" — stricter than config::detail::host_key, which takes any
// non-empty string. read_hostname() throws; hostname_key() makes a Key of it.
std::string read_hostname(const YAML::Node& node, const std::string& path);
config::detail::Key hostname_key(std::string_view name, std::string& out);

// "host", "host:port", "[v6]" or "[v6]:port" into `host` (brackets removed)
// and `port` (left as is when the text has none). False when the port is not
// 1..65535 or the host is not a valid_hostname(). Pure.
bool split_host_port(std::string_view text, std::string_view& host, uint16_t& port);

// A health_check map as read, before its kind, defaults and rules.
struct CheckDraft {
  std::string path;
  std::string name;
  std::string type;  // "" = inferred from the keys
  HttpCheck http;
  TcpCheck tcp;
  ScriptCheck script;
  std::optional<Millis> timeout;
  std::string timeout_text;
  std::vector<std::pair<std::string, std::string>> present;  // kind-specific key -> its path
};

// One `routes[i]` as read, before defaults and rules.
struct RouteDraft {
  std::string path;
  RouteConfig route;
  bool has_name = false;
  bool has_host = false;
  bool has_uris = false;
  bool has_zone = false;
  std::optional<CheckDraft> check;
};

// Reads the route map at `path` (`routes[i]`); unknown keys, in it or in its
// `options` and `health_check`, are appended to `ignored`.
RouteDraft read_route(const YAML::Node& node, const std::string& path, std::vector<std::string>& ignored);

// The route with the top-level defaults filled in and every rule checked.
RouteConfig complete_route(const RouteDraft& draft, const std::string& default_host, const std::string& default_zone);

}  // namespace sy::registrar::parse_detail
