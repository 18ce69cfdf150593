#pragma once
// Integration-test building blocks around the real binaries: a `switchyard`
// router started from a generated YAML file, `switchyard-echo` backends, and
// the gorouter registry messages that connect them.
//
// The binary paths come from the caller (the integration tests pass their
// SY_BIN_DIR); SY_SWITCHYARD_BIN and SY_ECHO_BIN in the environment override
// them. Every wait is bounded. Objects are used from one thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace sy::test {

struct Binaries {
  std::string switchyard;  // <bin_dir>/switchyard
  std::string echo;        // <bin_dir>/tests/switchyard-echo
};
Binaries binaries_in(const std::string& bin_dir);

// A tunnel token minted by `switchyard token <id> <args...> -c <config>` (its
// stdout and stderr go to token.out / token.err in `dir`); "" on failure.
std::string mint_token(const Binaries& binaries, const TempDir& dir, const std::string& config, const std::string& id,
                       const std::vector<std::string>& args = {});

// The router's YAML, in gorouter's keys. Durations are written as given.
struct RouterConfig {
  std::string status_user = "router-status";
  std::string status_pass = "status-secret";
  std::string start_response_delay_interval = "0s";
  std::string droplet_stale_threshold = "120s";
  std::string prune_stale_droplets_interval = "30s";
  int max_attempts = 3;
  std::string drain_wait;     // omitted when empty
  std::string drain_timeout;  // omitted when empty
  std::string endpoint_timeout;  // omitted when empty
  bool access_log = true;     // access_log.file = <dir>/access.log
  int workers = 2;
  bool classic_nats = false;  // `nats: [{host, port, user, pass}]` instead of `nats: {hosts: [...]}`
  std::string nats_reconnect_wait;  // nats.reconnect_wait (current style only); omitted when empty
  uint16_t status_routes_port = 0;  // status.routes.port; omitted when 0
  std::string extra_yaml;     // appended verbatim (top-level keys)
  std::string logging_yaml;   // appended verbatim under `logging:` (lines indented by two spaces)
  long max_open_files = 0;    // > 0: the process's RLIMIT_NOFILE (soft and hard)
  // The address both listeners bind (bind_address and status.host), e.g.
  // 127.0.0.2 so that several nodes share one port pair as behind a DNS name.
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;         // the proxy port; 0 = a free one
  uint16_t status_port = 0;  // the status port; 0 = a free one
};

// Renders the YAML for a router on `port`/`status_port` fed by `nats`.
std::string router_yaml(const RouterConfig& config, const std::string& dir, uint16_t port, uint16_t status_port,
                        uint16_t nats_port, const std::string& nats_user, const std::string& nats_pass);

class Router {
 public:
  Router(const TempDir& dir, Binaries binaries);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The program start() runs instead of the built switchyard (a wrapper
  // that execs it, e.g. under a seccomp filter).
  void set_program(std::string program) { binaries_.switchyard = std::move(program); }

  // Picks free ports, writes <dir>/switchyard.yml and starts
  // `switchyard -c FILE` (stdout+stderr -> <dir>/switchyard.log). Does not
  // wait; see wait_healthy(). False if the process could not be started.
  bool start(const RouterConfig& config, NatsServer& nats);
  // Polls GET /health until 200 (false on timeout or if the process exits).
  bool wait_healthy(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  // start() + wait_healthy().
  bool start_healthy(const RouterConfig& config, NatsServer& nats);
  // Status of GET /health (0 when nothing answered).
  int health_status();
  // SIGTERM, then SIGKILL; the exit code.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  uint16_t port() const { return port_; }
  uint16_t status_port() const { return status_port_; }
  const RouterConfig& config() const { return config_; }
  const std::string& config_path() const { return config_path_; }
  Process& process() { return process_; }
  std::string log() const { return process_.log(); }

  // http://<listen_host>:<port><path> and http://<listen_host>:<status_port><path>.
  std::string url(const std::string& path) const;
  std::string status_url(const std::string& path) const;
  // GET through the proxy port (on listen_host) with a Host header.
  HttpResponse get(const std::string& host, const std::string& path = "/",
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const;
  // GET on the status port; `user` is "user:pass" or empty.
  HttpResponse status_get(const std::string& path, const std::string& user = {}) const;
  // Body of GET /metrics (empty on failure).
  std::string metrics() const;

 private:
  const TempDir& dir_;
  Binaries binaries_;
  RouterConfig config_;
  uint16_t port_ = 0;
  uint16_t status_port_ = 0;
  std::string config_path_;
  Process process_;
};

// A switchyard-echo process.
class EchoBackend {
 public:
  EchoBackend(const TempDir& dir, Binaries binaries);
  ~EchoBackend();
  EchoBackend(const EchoBackend&) = delete;
  EchoBackend& operator=(const EchoBackend&) = delete;

  // Starts it (port 0 = any) and reads its port from the `listening` line.
  bool start(const std::string& name, uint16_t port = 0,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  void stop();
  uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  // /slow requests waiting in the backend right now, asked directly (-1 if
  // it does not answer): the positive signal that requests reached it.
  int slow_in_flight() const;
  Process& process() { return process_; }

 private:
  const TempDir& dir_;
  Binaries binaries_;
  std::string name_;
  uint16_t port_ = 0;
  Process process_;
};

// gorouter's registry message: {"host":...,"port":...,"uris":[...]<,extra>}.
// `extra_json` is inserted verbatim as more members, e.g.
// R"("app":"guid","private_instance_id":"id")".
std::string registry_message(const std::string& host, uint16_t port, const std::vector<std::string>& uris,
                             const std::string& extra_json = {});
// Publishes (and flushes) on router.register / router.unregister the
// endpoint backend_host:port for `uris`.
bool register_route(NatsClient& nats, const std::string& backend_host, uint16_t port,
                    const std::vector<std::string>& uris, const std::string& extra_json = {});
bool unregister_route(NatsClient& nats, const std::string& backend_host, uint16_t port,
                      const std::vector<std::string>& uris, const std::string& extra_json = {});
// The same with backend_host 127.0.0.1.
bool register_route(NatsClient& nats, uint16_t port, const std::vector<std::string>& uris,
                    const std::string& extra_json = {});
bool unregister_route(NatsClient& nats, uint16_t port, const std::vector<std::string>& uris,
                      const std::string& extra_json = {});
// Polls GET http://127.0.0.1:<router port><path> with Host `host` until the
// status is `expected_status`.
bool wait_routable(const Router& router, const std::string& host, int expected_status = 200,
                   const std::string& path = "/", std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// JSON string literal (quoted, escaped).
std::string json_quote(const std::string& text);

}  // namespace sy::test
