// Fuzz harness: sy::config::parse_config on arbitrary YAML text.
//
// parse_config promises never to throw (config.hpp): an exception escaping it
// fails here. A ConfigError is one non-empty line (switchyard prints it and
// exits 2). A Config that loads keeps the rules the rest of the router
// relies on: at least one NATS server, no port 0 where a listener or server is
// configured, max_attempts >= 1, a worker count the router can start, a
// request head limit of at least 1 KiB, a positive prune interval, and a
// stale threshold not below the start-up delay.
//
// The input also goes to parse_duration directly (through YAML few byte
// strings reach it): a duration is never negative, and integer seconds are
// exact.
#include <optional>
#include <string>
#include <variant>

#include "config/config.hpp"
#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

void check_config(const config::Config& c) {
  SY_FUZZ_CHECK(c.port != 0 && c.status.port != 0);
  SY_FUZZ_CHECK(!c.bind_address.empty() && !c.status.host.empty());
  SY_FUZZ_CHECK(!c.nats.servers.empty());
  for (const auto& server : c.nats.servers) SY_FUZZ_CHECK(server.port != 0 && !server.host.empty());
  SY_FUZZ_CHECK(c.max_attempts >= 1 && c.max_conns >= 0 && c.max_idle_conns_per_host >= 0);
  SY_FUZZ_CHECK(c.workers >= 0 && c.workers <= 4096 && c.index >= 0);
  SY_FUZZ_CHECK(c.max_request_header_bytes >= 1024);
  SY_FUZZ_CHECK(c.prune_stale_droplets_interval.count() > 0);
  SY_FUZZ_CHECK(c.droplet_stale_threshold >= c.start_response_delay_interval);
  for (auto d : {c.endpoint_timeout, c.endpoint_dial_timeout, c.frontend_idle_timeout, c.read_header_timeout,
                 c.drain_wait, c.effective_drain_timeout(), c.nats.reconnect_wait, c.nats.ping_interval})
    SY_FUZZ_CHECK(d.count() >= 0);
  SY_FUZZ_CHECK(c.backend_cert_chain.empty() == c.backend_private_key.empty());
  if (c.tunnel.enabled) SY_FUZZ_CHECK(c.tunnel.port != 0 && c.tunnel.register_interval.count() > 0);
}

void check_duration(const std::string& text) {
  const std::optional<config::Millis> d = config::parse_duration(text);
  if (!d) return;
  SY_FUZZ_CHECK(d->count() >= 0);
  const bool digits = !text.empty() && text.size() <= 15 && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) SY_FUZZ_CHECK(d->count() == std::stoll(text) * 1000);
}

}  // namespace

int fuzz_config(const uint8_t* data, size_t size) {
  const std::string text(as_view(data, size));
  std::variant<config::Config, config::ConfigError> result;
  try {
    result = config::parse_config(text);
  } catch (...) {
    invariant_failed("parse_config threw", __FILE__, __LINE__);
  }
  if (auto* error = std::get_if<config::ConfigError>(&result)) {
    SY_FUZZ_CHECK(!error->message.empty());
    SY_FUZZ_CHECK(error->message.find('\n') == std::string::npos);
  } else {
    check_config(std::get<config::Config>(result));
  }
  check_duration(text);
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_config)
