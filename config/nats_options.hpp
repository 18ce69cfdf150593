#pragma once
// The NATS client's options from the config's `nats` section (either
// gorouter style): one URL per server, credentials per server or shared.
#include <string>
#include <vector>

#include "common/nats/nats_client.hpp"
#include "config/config.hpp"

namespace sy::config {

std::vector<std::string> nats_urls(const NatsConfig& config);
nats::NatsOptions nats_options(const NatsConfig& config, std::string name);

}  // namespace sy::config
