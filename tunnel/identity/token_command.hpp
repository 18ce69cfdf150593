#pragma once
// `switchyard token <id> [--label L] [--ttl 30d]` (SPEC §5.2): mints an
// agent token with the config's first tunnel secret and prints it. Returns
// the exit code: 0, or 2 for bad arguments or no secret (with a message on
// stderr).
#include <string>
#include <vector>

#include "config/config.hpp"

namespace sy::tunnel {

int token_command(const std::vector<std::string>& args, const config::TunnelConfig& tunnel);

}  // namespace sy::tunnel
