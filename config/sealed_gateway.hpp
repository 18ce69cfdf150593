#pragma once
// The `sealed_gateway:` section (SPEC §7), for config.cpp. Start-up only, main thread.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_read.hpp"

namespace sy::config::detail {

// host (default 0.0.0.0), port (required), secret (required, non-empty, never
// echoed), connect_timeout (> 0), retry (1..100), read_timeout (> 0),
// relay (splice | copy). Present and not null = enabled.
Key sealed_gateway_key(SealedGatewayConfig& gateway, std::vector<std::string>& ignored);

}  // namespace sy::config::detail
