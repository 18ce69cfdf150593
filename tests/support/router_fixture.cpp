#include "tests/support/router_fixture.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tests/support/ports.hpp"
#include "tests/support/wait.hpp"

namespace sy::test {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

void write_nats(std::ostringstream& out, const RouterConfig& config, uint16_t nats_port, const std::string& user,
                const std::string& pass) {
  if (config.classic_nats) {
    out << "nats:\n  - host: 127.0.0.1\n    port: " << nats_port << "\n";
    if (!user.empty()) out << "    user: " << json_quote(user) << "\n    pass: " << json_quote(pass) << "\n";
    return;
  }
  out << "nats:\n  hosts:\n    - hostname: 127.0.0.1\n      port: " << nats_port << "\n";
  if (!user.empty()) out << "  user: " << json_quote(user) << "\n  pass: " << json_quote(pass) << "\n";
  if (!config.nats_reconnect_wait.empty()) out << "  reconnect_wait: " << config.nats_reconnect_wait << "\n";
}

}  // namespace

std::string mint_token(const Binaries& binaries, const TempDir& dir, const std::string& config, const std::string& id,
                       const std::vector<std::string>& args) {
  ProcessOptions o;
  o.argv = {binaries.switchyard, "token", id};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.argv.insert(o.argv.end(), {"-c", config});
  o.log_path = dir.file("token.out");
  o.stderr_path = dir.file("token.err");
  std::remove(o.log_path.c_str());
  if (run_process(o, std::chrono::milliseconds(10000)) != 0) return "";
  std::string out = read_file(o.log_path);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

Binaries binaries_in(const std::string& bin_dir) {
  return Binaries{env_or("SY_SWITCHYARD_BIN", bin_dir + "/switchyard"),
                  env_or("SY_ECHO_BIN", bin_dir + "/tests/switchyard-echo")};
}

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string router_yaml(const RouterConfig& config, const std::string& dir, uint16_t port, uint16_t status_port,
                        uint16_t nats_port, const std::string& nats_user, const std::string& nats_pass) {
  std::ostringstream out;
  out << "bind_address: " << config.listen_host << "\n"
      << "port: " << port << "\n"
      << "status:\n  host: " << config.listen_host << "\n  port: " << status_port << "\n"
      << "  user: " << json_quote(config.status_user) << "\n  pass: " << json_quote(config.status_pass) << "\n";
  if (config.status_routes_port != 0) out << "  routes: {port: " << config.status_routes_port << "}\n";
  write_nats(out, config, nats_port, nats_user, nats_pass);
  out << "logging:\n  level: info\n" << config.logging_yaml
      << "start_response_delay_interval: " << config.start_response_delay_interval << "\n"
      << "droplet_stale_threshold: " << config.droplet_stale_threshold << "\n"
      << "prune_stale_droplets_interval: " << config.prune_stale_droplets_interval << "\n"
      << "backends:\n  max_attempts: " << config.max_attempts << "\n"
      << "workers: " << config.workers << "\n";
  if (!config.drain_wait.empty()) out << "drain_wait: " << config.drain_wait << "\n";
  if (!config.drain_timeout.empty()) out << "drain_timeout: " << config.drain_timeout << "\n";
  if (!config.endpoint_timeout.empty()) out << "endpoint_timeout: " << config.endpoint_timeout << "\n";
  if (config.access_log) out << "access_log:\n  file: " << dir << "/access.log\n";
  // The engine under test (ctest runs a share of the suite on epoll too);
  // a test's own io_engine in extra_yaml would be a duplicate key.
  if (const char* engine = std::getenv("SY_TEST_IO_ENGINE"); engine && *engine)
    out << "io_engine: " << engine << "\n";
  out << config.extra_yaml;
  return out.str();
}

Router::Router(const TempDir& dir, Binaries binaries) : dir_(dir), binaries_(std::move(binaries)) {}

Router::~Router() { process_.stop(std::chrono::milliseconds(3000)); }

bool Router::start(const RouterConfig& config, NatsServer& nats) {
  config_ = config;
  port_ = config.port != 0 ? config.port : free_port();
  status_port_ = config.status_port != 0 ? config.status_port : free_port();
  while (config.status_port == 0 && status_port_ == port_ && port_ != 0) status_port_ = free_port();
  config_path_ = dir_.write_file("switchyard.yml", router_yaml(config, dir_.path(), port_, status_port_, nats.port(),
                                                               nats.user(), nats.pass()));
  if (config_path_.empty() || port_ == 0 || status_port_ == 0) return false;
  ProcessOptions options;
  options.argv = {binaries_.switchyard, "-c", config_path_};
  options.log_path = dir_.file("switchyard.log");
  options.max_open_files = config.max_open_files;
  return process_.start(options);
}

int Router::health_status() {
  HttpRequest request;
  request.url = status_url("/health");
  request.timeout = std::chrono::milliseconds(2000);
  return http(request).status;
}

bool Router::wait_healthy(std::chrono::milliseconds timeout) {
  return wait_until([this] { return !process_.running() || health_status() == 200; }, timeout,
                    std::chrono::milliseconds(50)) &&
         process_.running();
}

bool Router::start_healthy(const RouterConfig& config, NatsServer& nats) {
  return start(config, nats) && wait_healthy();
}

std::optional<int> Router::stop(std::chrono::milliseconds grace) { return process_.stop(grace); }

std::string Router::url(const std::string& path) const {
  return "http://" + config_.listen_host + ":" + std::to_string(port_) + path;
}

std::string Router::status_url(const std::string& path) const {
  return "http://" + config_.listen_host + ":" + std::to_string(status_port_) + path;
}

HttpResponse Router::get(const std::string& host, const std::string& path, std::chrono::milliseconds timeout) const {
  HttpRequest request;
  request.url = url(path);
  request.host = host;
  request.timeout = timeout;
  return http(request);
}

HttpResponse Router::status_get(const std::string& path, const std::string& user) const {
  HttpRequest request;
  request.url = status_url(path);
  request.user = user;
  request.timeout = std::chrono::milliseconds(5000);
  return http(request);
}

std::string Router::metrics() const {
  const HttpResponse response = status_get("/metrics");
  return response.status == 200 ? response.body : std::string();
}

EchoBackend::EchoBackend(const TempDir& dir, Binaries binaries) : dir_(dir), binaries_(std::move(binaries)) {}

EchoBackend::~EchoBackend() { stop(); }

bool EchoBackend::start(const std::string& name, uint16_t port, std::chrono::milliseconds timeout) {
  name_ = name;
  port_ = 0;
  ProcessOptions options;
  options.argv = {binaries_.echo, "--host", "127.0.0.1", "--port", std::to_string(port), "--name", name};
  options.log_path = dir_.file("echo-" + name + ".log");
  options.stderr_path = dir_.file("echo-" + name + ".err");
  std::remove(options.log_path.c_str());
  if (!process_.start(options)) return false;
  const std::string log_path = options.log_path;
  const bool listening = wait_until(
      [&] {
        const std::string text = read_file(log_path);
        const size_t at = text.find("listening 127.0.0.1:");
        if (at == std::string::npos || text.find('\n', at) == std::string::npos) return !process_.running();
        port_ = static_cast<uint16_t>(std::strtoul(text.c_str() + at + 20, nullptr, 10));
        return true;
      },
      timeout, std::chrono::milliseconds(5));
  return listening && port_ != 0 && process_.running();
}

void EchoBackend::stop() { process_.stop(std::chrono::milliseconds(3000)); }

int EchoBackend::slow_in_flight() const {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port_) + "/stats";
  const HttpResponse response = http(request);
  if (response.status != 200 || response.body.rfind("slow=", 0) != 0) return -1;
  return std::atoi(response.body.c_str() + 5);
}

std::string registry_message(const std::string& host, uint16_t port, const std::vector<std::string>& uris,
                             const std::string& extra_json) {
  std::string text = "{\"host\":" + json_quote(host) + ",\"port\":" + std::to_string(port) + ",\"uris\":[";
  for (size_t i = 0; i < uris.size(); ++i) text += (i == 0 ? "" : ",") + json_quote(uris[i]);
  text += "]";
  if (!extra_json.empty()) text += "," + extra_json;
  return text + "}";
}

bool register_route(NatsClient& nats, const std::string& backend_host, uint16_t port,
                    const std::vector<std::string>& uris, const std::string& extra_json) {
  return nats.publish("router.register", registry_message(backend_host, port, uris, extra_json));
}

bool unregister_route(NatsClient& nats, const std::string& backend_host, uint16_t port,
                      const std::vector<std::string>& uris, const std::string& extra_json) {
  return nats.publish("router.unregister", registry_message(backend_host, port, uris, extra_json));
}

bool register_route(NatsClient& nats, uint16_t port, const std::vector<std::string>& uris,
                    const std::string& extra_json) {
  return register_route(nats, "127.0.0.1", port, uris, extra_json);
}

bool unregister_route(NatsClient& nats, uint16_t port, const std::vector<std::string>& uris,
                      const std::string& extra_json) {
  return unregister_route(nats, "127.0.0.1", port, uris, extra_json);
}

bool wait_routable(const Router& router, const std::string& host, int expected_status, const std::string& path,
                   std::chrono::milliseconds timeout) {
  return wait_until([&] { return router.get(host, path, std::chrono::milliseconds(3000)).status == expected_status; },
                    timeout, std::chrono::milliseconds(20));
}

}  // namespace sy::test
