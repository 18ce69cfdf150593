#pragma once
// Parsing of switchyard-registrar's YAML (see registrar/config.hpp), header-only
// so unit tests use it without linking the registrar library. Main thread, at
// start-up. Never throws: every error (syntax, wrong type, missing key,
// cross-key rule) comes back as a config::ConfigError that names the key path,
// the value and what was expected, in the style of config/config.cpp.
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/names/hostname.hpp"
#include "config/yaml_read.hpp"
#include "registrar/config.hpp"
#include "registrar/config_routes.hpp"
#include "common/log/log.hpp"

namespace sy::registrar {
namespace parse_detail {

// Top-level keys. Routes are read by RouteReader (config_routes.hpp) and
// completed in finish(), once the top-level defaults (`host`, ...) are known.
class RootReader {
 public:
  explicit RootReader(RegistrarConfig& config) : config_(config) {}

  void read(const YAML::Node& root) {
    RegistrarConfig& c = config_;
    std::vector<Key> keys{
        {"message_bus_servers", [this](const Node& n, const std::string& p) { read_bus_servers(n, p); }},
        {"nats", [this](const Node& n, const std::string& p) { read_nats(n, p); }},
        {"host", [&c](const Node& n, const std::string& p) { c.host = read_host(n, p); }},
        {"availability_zone", [&c](const Node& n, const std::string& p) { c.availability_zone = detail::read_string(n, p); }},
        {"unregistration_message_limit",
         [&c](const Node& n, const std::string& p) {
           c.unregistration_message_limit = static_cast<int>(detail::read_int(n, p, 0, 1000000, "an integer >= 0"));
         }},
        {"routes", [this](const Node& n, const std::string& p) { read_routes(n, p); }},
        {"logging", [this](const Node& n, const std::string& p) { read_logging(n, p); }},
    };
    detail::read_map(root, "", keys, c.ignored_keys);
    finish();
  }

 private:
  // route-registrar: [{host: "ip:port", user, password}].
  void read_bus_servers(const Node& node, const std::string& path) {
    if (!node.IsSequence()) detail::fail(path, node, "a list of servers");
    if (node.size() == 0) throw detail::Invalid{path + ": expected at least one server, got an empty list"};
    bus_servers_path_ = path;
    config_.nats.servers.assign(node.size(), config::NatsServer{});
    for (size_t i = 0; i < node.size(); ++i) {
      config::NatsServer& s = config_.nats.servers[i];
      std::vector<Key> keys{
          {"host", [&s](const Node& n, const std::string& p) { read_host_port(n, p, s); }},
          {"user", [&s](const Node& n, const std::string& p) { s.user = detail::read_string(n, p); }},
          {"password", [&s](const Node& n, const std::string& p) { s.pass = detail::read_string(n, p); }},
      };
      detail::read_map(node[i], detail::index(path, i), keys, config_.ignored_keys);
    }
  }

  // "ip:port", "[v6]:port", or a bare host (port 4222).
  static void read_host_port(const Node& node, const std::string& path, config::NatsServer& server) {
    constexpr std::string_view what = "host:port (such as 10.0.0.5:4222)";
    std::string host = detail::read_string(node, path);
    size_t colon = host.rfind(':');
    bool bracketed = !host.empty() && host.front() == '[';
    if (colon != std::string::npos && (bracketed ? host[colon - 1] == ']' : host.find(':') == colon)) {
      std::string port = host.substr(colon + 1);
      host.resize(colon);
      long value = port.empty() || port.size() > 5 ? 0 : std::strtol(port.c_str(), nullptr, 10);
      if (value < 1 || value > 65535 || port.find_first_not_of("0123456789") != std::string::npos) {
        detail::fail(path, node, what);
      }
      server.port = static_cast<uint16_t>(value);
    }
    if (bracketed && host.size() > 2 && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!names::valid_hostname(host)) detail::fail(path, node, what);
    server.host = host;
  }

  // gorouter classic `nats: [{host, port, user, pass}]` or current
  // `nats: {hosts: [{hostname, port}], user, pass, ...}`.
  void read_nats(const Node& node, const std::string& path) {
    nats_path_ = path;
    config::NatsConfig& nats = config_.nats;
    if (node.IsSequence()) {
      nats.servers = read_nats_servers(node, path, "host", true);
      return;
    }
    if (!node.IsMap()) detail::fail(path, node, "a list of servers or a map with `hosts`");
    std::vector<Key> keys{
        {"hosts", [&](const Node& n, const std::string& p) { nats.servers = read_nats_servers(n, p, "hostname", false); }},
        {"user", [&nats](const Node& n, const std::string& p) { nats.user = detail::read_string(n, p); }},
        {"pass", [&nats](const Node& n, const std::string& p) { nats.pass = detail::read_string(n, p); }},
        {"tls_enabled",
         [this](const Node& n, const std::string& p) {
           if (detail::read_bool(n, p)) config_.ignored_keys.push_back(p);
         }},
        {"reconnect_wait", [&nats](const Node& n, const std::string& p) { nats.reconnect_wait = detail::read_millis(n, p); }},
        {"ping_interval", [&nats](const Node& n, const std::string& p) { nats.ping_interval = detail::read_millis(n, p); }},
    };
    detail::read_map(node, path, keys, config_.ignored_keys);
  }

  std::vector<config::NatsServer> read_nats_servers(const Node& node, const std::string& path, std::string_view host_key,
                                                    bool with_credentials) {
    if (!node.IsSequence()) detail::fail(path, node, "a list of servers");
    if (node.size() == 0) throw detail::Invalid{path + ": expected at least one server, got an empty list"};
    std::vector<config::NatsServer> servers(node.size());
    for (size_t i = 0; i < node.size(); ++i) {
      config::NatsServer& s = servers[i];
      std::vector<Key> keys{
          {host_key, [&s](const Node& n, const std::string& p) { s.host = read_host(n, p); }},
          {"port", [&s](const Node& n, const std::string& p) { s.port = detail::read_port(n, p); }},
      };
      if (with_credentials) {
        keys.push_back({"user", [&s](const Node& n, const std::string& p) { s.user = detail::read_string(n, p); }});
        keys.push_back({"pass", [&s](const Node& n, const std::string& p) { s.pass = detail::read_string(n, p); }});
      }
      detail::read_map(node[i], detail::index(path, i), keys, config_.ignored_keys);
    }
    return servers;
  }

  void read_routes(const Node& node, const std::string& path) {
    if (!node.IsSequence()) detail::fail(path, node, "a list of routes");
    for (size_t i = 0; i < node.size(); ++i) {
      drafts_.push_back(RouteReader(config_.ignored_keys).read(node[i], detail::index(path, i)));
    }
  }

  void read_logging(const Node& node, const std::string& path) {
    config::LoggingConfig& l = config_.logging;
    std::vector<Key> keys{
        {"file", [&l](const Node& n, const std::string& p) { l.file = detail::read_string(n, p); }},
        {"level",
         [&l](const Node& n, const std::string& p) {
           bool ok = false;
           l.level = detail::read_string(n, p);
           log::parse_level(l.level, &ok);
           if (!ok) detail::fail(p, n, "a log level (debug, info, warn or error)");
         }},
    };
    detail::read_map(node, path, keys, config_.ignored_keys);
  }

  void finish() {
    if (!bus_servers_path_.empty() && !nats_path_.empty()) {
      throw detail::Invalid{"message_bus_servers: give either message_bus_servers or nats, not both"};
    }
    if (drafts_.empty()) throw detail::Invalid{"routes: missing (expected a list of at least one route)"};
    for (RouteDraft& draft : drafts_) {
      config_.routes.push_back(complete_route(draft, config_.host, config_.availability_zone));
    }
  }

  RegistrarConfig& config_;
  std::string bus_servers_path_;
  std::string nats_path_;
  std::vector<RouteDraft> drafts_;
};

}  // namespace parse_detail

// Parses YAML text. Never throws.
inline std::variant<RegistrarConfig, config::ConfigError> parse_registrar_config(const std::string& yaml_text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml_text);
  } catch (const YAML::Exception& e) {
    return config::ConfigError{"YAML syntax error at " + config::detail::describe_mark(e.mark, yaml_text) + ": " + e.msg};
  } catch (const std::exception& e) {
    return config::ConfigError{std::string("YAML error: ") + e.what()};
  }
  if (documents.size() > 1) {
    return config::ConfigError{"expected one YAML document, found " + std::to_string(documents.size())};
  }
  RegistrarConfig config;
  try {
    YAML::Node root = documents.empty() ? YAML::Node(YAML::NodeType::Map) : documents[0];
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    parse_detail::RootReader(config).read(root);
  } catch (const config::detail::Invalid& e) {
    return config::ConfigError{e.message};
  } catch (const std::exception& e) {
    return config::ConfigError{std::string("config error: ") + e.what()};
  }
  return config;
}

// Reads and parses `path`; errors are prefixed with the file name. Never throws.
inline std::variant<RegistrarConfig, config::ConfigError> load_registrar_config(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return config::ConfigError{"config file \"" + path + "\": cannot open: " + std::strerror(errno)};
  std::string text;
  char buffer[8192];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) {
    return config::ConfigError{"config file \"" + path + "\": cannot read: " + std::strerror(errno)};
  }
  auto result = parse_registrar_config(text);
  if (auto* error = std::get_if<config::ConfigError>(&result)) {
    error->message = "config file \"" + path + "\": " + error->message;
  }
  return result;
}

}  // namespace sy::registrar
