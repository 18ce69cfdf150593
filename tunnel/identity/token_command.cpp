#include "tunnel/identity/token_command.hpp"

#include <chrono>
#include <cstdio>

#include "tunnel/identity/identity.hpp"

namespace sy::tunnel {

int token_command(const std::vector<std::string>& args, const config::TunnelConfig& tunnel) {
  std::string id, label, ttl = "30d";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--label" && i + 1 < args.size()) {
      label = args[++i];
    } else if (args[i] == "--ttl" && i + 1 < args.size()) {
      ttl = args[++i];
    } else if (id.empty() && !args[i].starts_with("-")) {
      id = args[i];
    } else {
      std::fprintf(stderr, "usage: switchyard token <id> [--label L] [--ttl 30d|12h|0] [-c CONFIG]\n");
      return 2;
    }
  }
  if (!valid_tunnel_id(id)) return std::fprintf(stderr, "switchyard token: bad id (1-64 of [A-Za-z0-9._-])\n"), 2;
  if (!label.empty() && !valid_label(label))
    return std::fprintf(stderr, "switchyard token: bad label (a DNS label of [a-z0-9-])\n"), 2;
  const std::optional<int64_t> seconds = parse_ttl_seconds(ttl);
  if (!seconds) return std::fprintf(stderr, "switchyard token: bad --ttl %s (30d, 12h, 90m, 3600s or 0)\n", ttl.c_str()), 2;
  if (tunnel.secrets.empty())
    return std::fprintf(stderr, "switchyard token: the config has no tunnel.secret to sign with\n"), 2;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::printf("%s\n", mint_token(tunnel.secrets.front(), id, label, *seconds == 0 ? 0 : now + *seconds).c_str());
  return 0;
}

}  // namespace sy::tunnel
