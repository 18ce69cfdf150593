// switchyard-registrar: route-registrar's job for Switchyard (and gorouter).
//   switchyard-registrar -c FILE        the daemon (registrar/registrar.hpp)
//   switchyard-registrar --once ...     publish one message and exit (registrar/once.hpp)
// Exit codes: 0 stopped by SIGTERM/SIGINT (routes unregistered) or message
// published; 1 NATS unreachable (--once) or start-up failure; 2 bad config or
// arguments (the message names the key or option).
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "registrar/config_parse.hpp"
#include "registrar/once.hpp"
#include "registrar/registrar.hpp"
#include "common/log/log.hpp"

namespace {

using namespace sy;

constexpr const char* kUsage =
    "usage: switchyard-registrar -c CONFIG.yml\n"
    "       switchyard-registrar --once register|unregister [--nats nats://[user:pass@]host:port]\n"
    "           --host H (--port P | --tls-port P) --uri U [--uri U2]... [--tag k=v]... [--app GUID]\n"
    "           [--instance-id ID] [--stale-threshold S] [--wait S]\n";

int usage(int code) {
  std::fputs(kUsage, code == 0 ? stdout : stderr);
  return code;
}

int run_daemon(const std::string& path) {
  auto loaded = registrar::load_registrar_config(path);
  if (auto* error = std::get_if<config::ConfigError>(&loaded)) {
    std::fprintf(stderr, "switchyard-registrar: config error: %s\n", error->message.c_str());
    return 2;
  }
  const registrar::RegistrarConfig& cfg = std::get<registrar::RegistrarConfig>(loaded);
  if (!config::apply_logging(cfg.logging, cfg.ignored_keys, "switchyard-registrar")) return 2;
  try {
    registrar::Registrar registrar(cfg);
    return registrar.run();
  } catch (const std::exception& e) {
    log::error("registrar-start-failed", log::Fields()("error", e.what()));
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage(2);
  if (args[0] == "-h" || args[0] == "--help") return usage(0);
  if (args[0] == "--once") {
    auto parsed = registrar::parse_once_args(std::vector<std::string>(args.begin() + 1, args.end()));
    if (auto* error = std::get_if<registrar::ArgError>(&parsed)) {
      std::fprintf(stderr, "switchyard-registrar: %s\n", error->message.c_str());
      return usage(2);
    }
    return registrar::run_once(std::get<registrar::OnceRequest>(parsed));
  }
  if ((args[0] == "-c" || args[0] == "--config") && args.size() == 2) return run_daemon(args[1]);
  return usage(2);
}
