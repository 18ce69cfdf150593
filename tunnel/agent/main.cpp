// switchyard-tunnel: the reverse-tunnel agent (SPEC §5.4; tunnel/agent/agent.hpp).
// Exit codes: 0 stopped by SIGTERM/SIGINT; 2 bad flags, an unusable --ca or
// --to, or a node's 400; 3 refused by a node (401/409) or ownership lost
// (WebSocket close 4409); 1 an unexpected start-up failure.
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common/log/log.hpp"
#include "tunnel/agent/agent.hpp"

int main(int argc, char** argv) {
  using namespace sy;
  std::signal(SIGPIPE, SIG_IGN);
  const agent::ParseResult parsed = agent::parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed.help) {
    std::fputs(agent::kUsage, stdout);
    return 0;
  }
  if (!parsed.options) {
    std::fprintf(stderr, "switchyard-tunnel: %s\n%s", parsed.error.c_str(), agent::kUsage);
    return 2;
  }
  agent::Options options = *parsed.options;
  std::string policy_error;
  if (!agent::apply_edge_policy(options, &policy_error)) {
    std::fprintf(stderr, "switchyard-tunnel: %s\n%s", policy_error.c_str(), agent::kUsage);
    return 2;
  }
  bool level_ok = false;
  log::set_level(log::parse_level(parsed.options->log_level, &level_ok));
  std::unique_ptr<agent::Agent> tunnel;
  try {
    tunnel = std::make_unique<agent::Agent>(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchyard-tunnel: %s\n", e.what());
    return 2;
  }
  try {
    return tunnel->run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchyard-tunnel: %s\n", e.what());
    return 1;
  }
}
