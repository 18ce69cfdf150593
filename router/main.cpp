// switchyard: the router node. Wires the config, the control thread (NATS,
// route registry, pruning, status listener) and the proxy workers, and turns
// signals into shutdowns: SIGTERM/SIGINT stop at once, SIGUSR1 drains,
// SIGHUP reloads the TLS certificates.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <thread>

#include "config/config.hpp"
#include "router/gateway/gateway.hpp"
#include "router/gateway/seal_command.hpp"
#include "common/log/log.hpp"
#include "router/control/control.hpp"
#include "router/dashboard_feed.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"
#include "router/tls/server_contexts.hpp"
#include "router/upstream/tcp_connector.hpp"
#include "status/process_metrics.hpp"
#include "status/status_server.hpp"
#include "tunnel/identity/token_command.hpp"
#include "tunnel/server/connector.hpp"
#include "tunnel/server/node.hpp"
#include "tunnel/server/wiring.hpp"

namespace {

namespace asio = boost::asio;
using namespace sy;

int usage() {
  std::fprintf(stderr, "usage: switchyard [-c CONFIG.yml]\n       switchyard token <id> [--label L] [--ttl 30d] [-c CONFIG.yml]\n"
                       "       switchyard seal <host:port> [-c CONFIG.yml]\n");
  return 2;
}

// SIGUSR1: health 503, wait drain_wait, stop accepting, finish in-flight
// requests up to drain_timeout, then stop.
class Drainer {
 public:
  Drainer(asio::io_context& io, const config::Config& cfg, std::atomic<status::Health>& health,
          proxy::ProxyContext& ctx, std::vector<std::unique_ptr<proxy::Worker>>& workers)
      : timer_(io), cfg_(cfg), health_(health), ctx_(ctx), workers_(workers) {}

  // Called when the workers start draining (after drain_wait).
  void on_drain(std::function<void()> f) { on_drain_ = std::move(f); }

  void begin(std::function<void()> done) {
    if (started_) return;
    started_ = true;
    done_ = std::move(done);
    health_ = status::Health::draining;
    log::info("drain-started", log::Fields()("drain_wait_ms", static_cast<long long>(cfg_.drain_wait.count())));
    timer_.expires_after(cfg_.drain_wait);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      ctx_.draining = true;
      for (auto& w : workers_) w->stop_accepting();
      for (auto& w : workers_) w->drain();
      if (on_drain_) on_drain_();
      deadline_ = std::chrono::steady_clock::now() + cfg_.effective_drain_timeout();
      poll();
    });
  }

 private:
  void poll() {
    int open = 0;
    for (auto& w : workers_) open += w->open_connections();
    if (open == 0 || std::chrono::steady_clock::now() >= deadline_) {
      log::info("drain-finished", log::Fields()("open_connections", open));
      done_();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) poll();
    });
  }

  asio::steady_timer timer_;
  const config::Config& cfg_;
  std::atomic<status::Health>& health_;
  proxy::ProxyContext& ctx_;
  std::vector<std::unique_ptr<proxy::Worker>>& workers_;
  std::function<void()> done_;
  std::function<void()> on_drain_;
  std::chrono::steady_clock::time_point deadline_;
  bool started_ = false;
};

// Raises the soft file-descriptor limit to the hard one (as Go programs do
// since 1.19) and returns the client connections the workers may hold
// together: max_client_connections, or a third of the limit.
int client_connection_limit(const config::Config& cfg) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  long long total = cfg.max_client_connections;
  if (total == 0) total = std::max<long long>(16, (static_cast<long long>(lim.rlim_cur) - 256) / 3);
  total = std::min<long long>(total, std::numeric_limits<int>::max());
  log::info("connection-limit", log::Fields()("max_client_connections", total)(
                                    "nofile", static_cast<unsigned long long>(lim.rlim_cur)));
  return static_cast<int>(total);
}

proxy::AccessLogOptions access_log_options(const config::Config& cfg) {
  const config::AccessLogConfig& a = cfg.access_log;
  proxy::AccessLogOptions o;
  o.file = a.file;
  o.to_stdout = a.enable_streaming;
  o.syslog = proxy::SyslogOptions{a.syslog, a.syslog_network, a.syslog_addr};
  o.format.redact_query = a.redact_query_params == config::RedactQuery::all    ? proxy::RedactQuery::all
                          : a.redact_query_params == config::RedactQuery::hash ? proxy::RedactQuery::hash
                                                                               : proxy::RedactQuery::none;
  o.format.attempts_details = a.enable_attempts_details;
  o.format.disable_forwarded_for = a.disable_log_forwarded_for;
  o.format.disable_source_ip = a.disable_log_source_ip;
  return o;
}

upstream::TcpConnectorOptions tcp_options(const config::Config& cfg) {
  upstream::TcpConnectorOptions o;
  o.tls = upstream::TlsOptions{cfg.ca_certs, cfg.skip_ssl_validation, cfg.backend_cert_chain, cfg.backend_private_key};
  o.dial_timeout = cfg.endpoint_dial_timeout;
  o.idle_timeout = cfg.backend_idle_timeout;
  o.max_idle_per_host = cfg.disable_keep_alives ? 0 : static_cast<size_t>(cfg.max_idle_conns_per_host);
  return o;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The TLS contexts of the HTTPS listener (enable_ssl) and of the tunnel
// listener (tunnel.tls: the same certificates, no client certificates).
struct ServerTlsSet {
  std::unique_ptr<tls::ServerTls> https, tunnel;
};

tls::ServerOptions https_options(const config::Config& cfg) { return {&cfg.tls, cfg.ca_certs, true}; }
tls::ServerOptions tunnel_options(const config::Config& cfg) { return {&cfg.tls, cfg.ca_certs, false}; }

ServerTlsSet make_server_tls(const config::Config& cfg) {
  ServerTlsSet set;
  if (cfg.tls.enabled) set.https = std::make_unique<tls::ServerTls>(tls::ServerContexts::build(https_options(cfg)));
  if (cfg.tunnel.enabled && cfg.tunnel.tls)
    set.tunnel = std::make_unique<tls::ServerTls>(tls::ServerContexts::build(tunnel_options(cfg)));
  return set;
}

// SIGHUP: the certificates (and the rest of the TLS keys) are read again
// from the config file; new connections use them, open ones keep theirs. A
// file that no longer loads changes nothing.
void reload_tls(const std::string& config_path, ServerTlsSet& set) {
  if (!set.https && !set.tunnel) {
    log::info("tls-reload-skipped", log::Fields()("reason", "no TLS listener"));
    return;
  }
  auto loaded = config::load_config(config_path);
  if (auto* err = std::get_if<config::ConfigError>(&loaded)) {
    log::error("tls-reload-failed", log::Fields()("error", err->message));
    return;
  }
  const config::Config& cfg = std::get<config::Config>(loaded);
  try {
    if (cfg.tls.certificates.empty()) throw std::runtime_error("tls_pem is empty in the file; a restart turns TLS off");
    if (set.https) set.https->replace(tls::ServerContexts::build(https_options(cfg)));
    if (set.tunnel) set.tunnel->replace(tls::ServerContexts::build(tunnel_options(cfg)));
    log::info("tls-reloaded", log::Fields()("certificates", cfg.tls.certificates.size()));
  } catch (const std::exception& e) {
    log::error("tls-reload-failed", log::Fields()("error", e.what()));
  }
}

// One worker per core (or `workers`), each with its own proxy listener (and
// HTTPS listener with enable_ssl, tunnel listener when tunnels are on).
// `io_engine`: auto takes io_uring where this kernel (and a container's
// seccomp profile) allows it, else epoll, and says so once; io_uring by name
// stops the start when it cannot be had.
io::Engine choose_io_engine(config::IoEngine wanted) {
  if (wanted == config::IoEngine::epoll) return io::Engine::epoll;
  std::string why;
  if (io::io_uring_available(&why)) return io::Engine::io_uring;
  if (wanted == config::IoEngine::io_uring) throw std::runtime_error("io_engine: io_uring is not available here (" + why + ")");
  log::warn("io-engine-fallback", log::Fields()("engine", "epoll")("reason", why));
  return io::Engine::epoll;
}

std::vector<std::unique_ptr<proxy::Worker>> make_workers(const config::Config& cfg, proxy::ProxyContext& ctx,
                                                         const route::SnapshotHolder& snapshots,
                                                         tunnel::TunnelNode* tunnels, const ServerTlsSet& tls) {
  unsigned n = cfg.workers > 0 ? static_cast<unsigned>(cfg.workers) : std::max(1u, std::thread::hardware_concurrency());
  ctx.max_client_connections = client_connection_limit(cfg);
  ctx.io_engine = choose_io_engine(cfg.io_engine);
  proxy::ConnectorFactory connectors = [base = tcp_options(cfg), tunnels](proxy::Worker& w)
      -> std::unique_ptr<upstream::Connector> {
    upstream::TcpConnectorOptions options = base;
    options.idle_gauge = &w.stats().upstream_idle;
    if (tunnels) return std::make_unique<tunnel::TunnelConnector>(w, *tunnels, options);
    return std::make_unique<upstream::TcpConnector>(w.io(), w.poller(), options);
  };
  auto proxy_endpoint = asio::ip::tcp::endpoint(asio::ip::make_address(cfg.bind_address), cfg.port);
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  for (unsigned i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<proxy::Worker>(static_cast<int>(i), ctx, snapshots, connectors));
    if (!cfg.tls.disable_http)
      workers.back()->bind(proxy::ListenerSpec{"proxy", proxy_endpoint, proxy::serve_connection});
    if (tls::ServerTls* https = tls.https.get())
      workers.back()->bind(proxy::ListenerSpec{
          "https", asio::ip::tcp::endpoint(asio::ip::make_address(cfg.bind_address), cfg.tls.port),
          [https](proxy::Worker& w, int fd, asio::ip::tcp::endpoint peer) {
            return proxy::serve_tls_connection(w, fd, peer, https->current());
          }});
    if (tunnels) tunnel::bind_listeners(*workers.back(), *tunnels, cfg, tls.tunnel.get());
  }
  return workers;
}

// SIGUSR1 drains, SIGHUP reloads the TLS keys (both keep the node
// running); SIGTERM/SIGINT stop it at once.
bool on_signal_keeps_running(int sig, Drainer& drainer, control::Control& control, const std::string& config_path,
                             ServerTlsSet& tls) {
  if (sig == SIGUSR1) {
    drainer.begin([&control] { control.stop(); });
    return true;
  }
  if (sig == SIGHUP) {
    reload_tls(config_path, tls);
    return true;
  }
  log::info("switchyard-stopping", log::Fields()("signal", sig));
  control.stop();
  return false;
}

// gorouter's separate /routes listener, loopback only, when configured.
std::unique_ptr<status::StatusServer> start_routes_server(const config::Config& cfg, control::Control& control,
                                                          const route::SnapshotHolder& snapshots,
                                                          metrics::Registry& registry,
                                                          std::atomic<status::Health>& health) {
  if (cfg.status.routes_port == 0) return nullptr;
  auto server = std::make_unique<status::StatusServer>(
      control.io(), status::StatusOptions{cfg.status.user, cfg.status.pass, true}, snapshots, registry, health);
  server->start(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), cfg.status.routes_port));
  return server;
}

// At exit: a worker's pooled streams may belong to another worker's tunnel
// session, so every worker ends its connections, then every connector goes,
// while all io_contexts still exist (see Worker::end_connections).
void stop_workers(std::vector<std::unique_ptr<proxy::Worker>>& workers) {
  for (auto& w : workers) w->stop();
  for (auto& w : workers) w->join();
  for (auto& w : workers) w->end_connections();
  for (auto& w : workers) w->drop_connector();
  for (auto& w : workers) w->end_connections();
}

int run(const config::Config& cfg, const std::string& config_path) {
  metrics::Registry registry;
  route::SnapshotHolder snapshots;
  std::atomic<status::Health> health{status::Health::starting};
  proxy::ProxyContext ctx(cfg, registry, proxy::AccessLog::open(access_log_options(cfg)));
  std::unique_ptr<gateway::Gateway> sealed = gateway::Gateway::from_config(cfg, registry);  // before the workers

  control::Control control(cfg, registry, snapshots, health);
  std::unique_ptr<tunnel::TunnelNode> tunnels = tunnel::make_tunnel_node(cfg, control, registry, ctx);
  metrics::ProcessMetrics process(registry);
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  // Before /metrics is written: every gauge sampled, the workers' counts summed.
  auto refresh = [&] {
    control.refresh_gauges();
    if (tunnels) tunnels->refresh_metrics();
    process.refresh();
    ctx.metrics.publish(*sum_workers(workers), control.components(),
                        ctx.client_connections.load(std::memory_order_relaxed), workers.size());
  };
  status::StatusServer status_server(control.io(), status::StatusOptions{cfg.status.user, cfg.status.pass, false},
                                     snapshots, registry, health, refresh);
  if (tunnels) tunnel::wire_tunnels(*tunnels, control, status_server);
  ServerTlsSet server_tls = make_server_tls(cfg);
  workers = make_workers(cfg, ctx, snapshots, tunnels.get(), server_tls);
  if (sealed)
    for (auto& w : workers) w->bind(sealed->listener());  // SO_REUSEPORT: the workers share the port
  wire_dashboard(status_server, DashboardSources{control, ctx, workers, snapshots, process, tunnels.get(),
                                                 tunnels ? tunnels->node_id() : host_name(),
                                                 std::chrono::system_clock::now()});
  status_server.start(asio::ip::tcp::endpoint(asio::ip::make_address(cfg.status.host), cfg.status.port));
  std::unique_ptr<status::StatusServer> routes_server = start_routes_server(cfg, control, snapshots, registry, health);
  for (auto& w : workers) w->start();
  control.start([&workers] {
    for (auto& w : workers) w->open();
  });
  log::info("switchyard-started", log::Fields()("port", cfg.port)("status_port", cfg.status.port)("workers", workers.size())(
                                      "io_engine", io::to_string(ctx.io_engine))("bind", cfg.bind_address)("ssl_port", cfg.tls.enabled ? cfg.tls.port : 0));

  Drainer drainer(control.io(), cfg, health, ctx, workers);
  if (tunnels) drainer.on_drain([&tunnels] { tunnels->drain(); });
  asio::signal_set signals(control.io(), SIGTERM, SIGINT, SIGUSR1);
  signals.add(SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (!ec && on_signal_keeps_running(sig, drainer, control, config_path, server_tls)) signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  control.run();

  status_server.stop();
  if (routes_server) routes_server->stop();
  if (tunnels) tunnels->close_entries();
  stop_workers(workers);
  log::info("switchyard-stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // splice(2) into a socket the peer has reset raises SIGPIPE (it cannot
  // take MSG_NOSIGNAL): the proxy's body splice and the gateway's relay want
  // EPIPE instead, as every other write here gets.
  std::signal(SIGPIPE, SIG_IGN);
  std::string config_path;
  std::vector<std::string> command;  // `token ...`, `seal ...`
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-c" || a == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "token" || a == "seal" || !command.empty()) {
      command.push_back(a);
    } else {
      return usage();
    }
  }
  auto loaded = config::load_config(config_path);
  if (auto* err = std::get_if<config::ConfigError>(&loaded)) {
    std::fprintf(stderr, "switchyard: config error: %s\n", err->message.c_str());
    return 2;
  }
  const config::Config& cfg = std::get<config::Config>(loaded);
  if (!command.empty() && command[0] == "seal")
    return gateway::seal_command({command.begin() + 1, command.end()}, cfg.sealed_gateway);
  if (!command.empty()) return tunnel::token_command({command.begin() + 1, command.end()}, cfg.tunnel);
  if (!config::apply_logging(cfg.logging, cfg.ignored_keys, "switchyard")) return 2;
  try {
    return run(cfg, config_path);
  } catch (const std::exception& e) {
    log::error("switchyard-start-failed", log::Fields()("error", e.what()));
    return 1;
  }
}
