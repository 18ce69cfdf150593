// Reads the `sealed_gateway:` section (see sealed_gateway.hpp). Start-up only, main thread.
#include "config/sealed_gateway.hpp"

#include "config/readers.hpp"

namespace sy::config::detail {
namespace {

using Node = YAML::Node;

Key positive_millis_key(std::string_view name, Millis& out) {
  return {name, [&out](const Node& n, const std::string& p) {
            out = read_millis(n, p);
            if (out.count() <= 0) fail(p, n, "a duration greater than zero");
          }};
}

void read_section(const Node& node, const std::string& path, SealedGatewayConfig& g, std::vector<std::string>& ignored) {
  require_map(node, path);
  bool has_port = false;
  Key port{"port", [&](const Node& n, const std::string& p) {
             g.port = read_port(n, p);
             has_port = true;
           }};
  Key secret{"secret", [&g](const Node& n, const std::string& p) {
               if (!n.IsScalar()) throw Invalid{p + ": expected a string (the secret)"};
               g.secret = n.Scalar();
               if (g.secret.empty()) throw Invalid{p + ": must not be empty"};
             }};
  Key retry{"retry", [&g](const Node& n, const std::string& p) {
              g.retry = static_cast<int>(read_int(n, p, 1, 100, "a number of connect attempts (1..100)"));
            }};
  Key relay{"relay", [&g](const Node& n, const std::string& p) {
              const std::string v = read_string(n, p);
              if (v == "splice") g.relay = SealedGatewayConfig::Relay::splice;
              else if (v == "copy") g.relay = SealedGatewayConfig::Relay::copy;
              else fail(p, n, "splice or copy");
            }};
  read_map(node, path,
           {host_key("host", g.host), port, secret, positive_millis_key("connect_timeout", g.connect_timeout), retry,
            positive_millis_key("read_timeout", g.read_timeout), relay},
           ignored);
  if (!has_port) throw Invalid{join(path, "port") + ": required when sealed_gateway is present (a port 1..65535)"};
  if (g.secret.empty()) throw Invalid{join(path, "secret") + ": required when sealed_gateway is present (a non-empty string)"};
  g.enabled = true;
}

}  // namespace

Key sealed_gateway_key(SealedGatewayConfig& gateway, std::vector<std::string>& ignored) {
  return {"sealed_gateway",
          [&gateway, &ignored](const Node& n, const std::string& p) { read_section(n, p, gateway, ignored); }};
}

}  // namespace sy::config::detail
