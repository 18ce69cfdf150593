// `switchyard seal host:port` (see seal_command.hpp). Main thread.
#include "router/gateway/seal_command.hpp"

#include <cstdio>

#include "router/gateway/sealed.hpp"

namespace sy::gateway {

int seal_command(const std::vector<std::string>& args, const config::SealedGatewayConfig& gateway) {
  if (args.size() != 1 || args[0].starts_with("-")) {
    std::fprintf(stderr, "usage: switchyard seal <host:port> [-c CONFIG]\n");
    return 2;
  }
  if (!parse_host_port(args[0]))
    return std::fprintf(stderr, "switchyard seal: bad address %s (host:port, [v6]:port or name:port; port 1..65535)\n",
                        args[0].c_str()),
           2;
  if (!gateway.enabled || gateway.secret.empty())
    return std::fprintf(stderr, "switchyard seal: the config has no sealed_gateway.secret to seal with\n"), 2;
  const std::optional<std::string> line = seal(args[0], gateway.secret);
  if (!line) return std::fprintf(stderr, "switchyard seal: sealing failed\n"), 2;
  std::printf("%s\n", line->c_str());
  return 0;
}

}  // namespace sy::gateway
