// The top level of switchyard-registrar's YAML: route-registrar's own keys
// (`message_bus_servers`, `host`, `availability_zone`,
// `unregistration_message_limit`, `routes`) read here, `nats` and `logging`
// with config/'s readers, routes with config_routes.cpp.
#include "registrar/config_parse.hpp"

#include "config/readers.hpp"
#include "registrar/config_routes.hpp"

namespace sy::registrar {
namespace {

namespace detail = config::detail;
using detail::Key;
using Node = YAML::Node;
using parse_detail::hostname_key;

// A message_bus_servers entry's `host`: "ip:port", "[v6]:port", or a bare
// host (port 4222).
Key host_port_key(config::NatsServer& server) {
  return {"host", [&server](const Node& n, const std::string& p) {
            // `host` views into `text`: it must outlive the split (a view into
            // a temporary dangled once the text outgrew the SSO buffer).
            const std::string text = detail::read_string(n, p);
            std::string_view host;
            if (!parse_detail::split_host_port(text, host, server.port)) {
              detail::fail(p, n, "host:port (such as 10.0.0.5:4222)");
            }
            server.host = std::string(host);
          }};
}

// Top-level keys. Routes are read as drafts and completed in finish(), once
// the top-level defaults (`host`, `availability_zone`) are known.
class RootReader {
 public:
  explicit RootReader(RegistrarConfig& config) : config_(config) {}

  void read(const Node& root) {
    RegistrarConfig& c = config_;
    std::vector<Key> keys{
        {"message_bus_servers", [this](const Node& n, const std::string& p) { read_bus_servers(n, p); }},
        {"nats",
         [this, &c](const Node& n, const std::string& p) {
           has_nats_ = true;
           detail::read_nats(n, p, c.nats, c.ignored_keys, hostname_key);
         }},
        hostname_key("host", c.host),
        detail::string_key("availability_zone", c.availability_zone),
        {"unregistration_message_limit",
         [&c](const Node& n, const std::string& p) {
           c.unregistration_message_limit = static_cast<int>(detail::read_int(n, p, 0, 1000000, "an integer >= 0"));
         }},
        {"routes", [this](const Node& n, const std::string& p) { read_routes(n, p); }},
        {"logging", [&c](const Node& n, const std::string& p) { detail::read_logging(n, p, c.logging, c.ignored_keys); }},
    };
    detail::read_map(root, "", keys, c.ignored_keys);
    finish();
  }

 private:
  // route-registrar: [{host: "ip:port", user, password}].
  void read_bus_servers(const Node& node, const std::string& path) {
    config_.nats.servers = detail::read_servers(node, path, [](config::NatsServer& s) {
      return std::vector<Key>{host_port_key(s), detail::string_key("user", s.user), detail::string_key("password", s.pass)};
    }, config_.ignored_keys);
    has_bus_servers_ = true;
  }

  void read_routes(const Node& node, const std::string& path) {
    if (!node.IsSequence()) detail::fail(path, node, "a list of routes");
    for (size_t i = 0; i < node.size(); ++i) {
      drafts_.push_back(parse_detail::read_route(node[i], detail::index(path, i), config_.ignored_keys));
    }
  }

  void finish() {
    if (has_bus_servers_ && has_nats_) {
      throw detail::Invalid{"message_bus_servers: give either message_bus_servers or nats, not both"};
    }
    if (drafts_.empty()) throw detail::Invalid{"routes: missing (expected a list of at least one route)"};
    for (const parse_detail::RouteDraft& draft : drafts_) {
      config_.routes.push_back(parse_detail::complete_route(draft, config_.host, config_.availability_zone));
    }
  }

  RegistrarConfig& config_;
  bool has_bus_servers_ = false;
  bool has_nats_ = false;
  std::vector<parse_detail::RouteDraft> drafts_;
};

}  // namespace

std::variant<RegistrarConfig, config::ConfigError> parse_registrar_config(const std::string& yaml_text) {
  RegistrarConfig config;
  std::optional<config::ConfigError> error = detail::read_document(yaml_text, [&config](const Node& root) {
    RootReader(config).read(root.IsNull() ? Node(YAML::NodeType::Map) : root);
  });
  if (error) return std::move(*error);
  return config;
}

std::variant<RegistrarConfig, config::ConfigError> load_registrar_config(const std::string& path) {
  return detail::load_file(path, &parse_registrar_config);
}

}  // namespace sy::registrar
