#pragma once
// `switchyard seal host:port [-c CONFIG]` (SPEC §7): prints one sealed line
// for the gateway, with the config's sealed_gateway.secret — what
// `echo -n host:port | openssl enc -e -aes-256-cbc -a -A -salt -k SECRET`
// prints. Returns the exit code: 0, or 2 for bad arguments, a bad host:port
// or no gateway secret (with a message on stderr). Main thread.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace sy::gateway {

int seal_command(const std::vector<std::string>& args, const config::SealedGatewayConfig& gateway);

}  // namespace sy::gateway
