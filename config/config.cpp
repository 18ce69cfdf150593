// Maps gorouter's YAML keys onto Config. Rules (see config.hpp):
// - a key with a null value (`user:`) counts as absent: the default is kept;
// - a key Switchyard does not implement is appended to ignored_keys (dotted,
//   file order) unless its value is empty (null, "", [], {}) and so configures
//   nothing; under an unknown key nothing is descended into;
// - any bad value fails the whole load with the key path and the value.
#include "config/config.hpp"

#include "common/names/hostname.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "config/readers.hpp"
#include "config/sealed_gateway.hpp"
#include "config/tls_keys.hpp"
#include "common/log/log.hpp"

namespace sy::config {
namespace {

using detail::bool_key;
using detail::fail;
using detail::headers_key;
using detail::host_key;
using detail::int_key;
using detail::Key;
using detail::millis_key;
using detail::port_key;
using detail::read_pem;
using detail::seconds_key;
using detail::string_key;
using Keys = std::vector<Key>;
using Node = YAML::Node;

constexpr long long kMaxInt = std::numeric_limits<int>::max();
constexpr long long kMaxWorkers = 4096;

void read(const Node& map, const std::string& path, const Keys& keys, std::vector<std::string>& ignored) {
  detail::read_map(map, path, keys, ignored);
}

// Reads the root map into `config`: one Key list per group of settings,
// then the cross-key rules (finish()).
class Reader {
 public:
  explicit Reader(Config& config) : config_(config) {}

  void read_root(const Node& root) {
    Keys keys = listener_keys();
    append(keys, route_table_keys());
    append(keys, backend_keys());
    append(keys, header_keys());
    append(keys, detail::tls_keys(config_.tls, config_.ignored_keys));
    read(root, "", keys, config_.ignored_keys);
    finish();
  }

 private:
  static void append(Keys& to, const Keys& from) { to.insert(to.end(), from.begin(), from.end()); }

  Keys listener_keys() {
    Config& c = config_;
    return {
        host_key("bind_address", c.bind_address),
        port_key("port", c.port),
        {"status", [this](const Node& n, const std::string& p) { read_status(n, p); }},
        bool_key("enable_proxy", c.enable_proxy),
        {"nats", [&c](const Node& n, const std::string& p) { detail::read_nats(n, p, c.nats, c.ignored_keys); }},
        {"logging", [this](const Node& n, const std::string& p) { read_logging(n, p); }},
        {"access_log", [this](const Node& n, const std::string& p) { read_access_log(n, p); }},
        headers_key("extra_headers_to_log", c.extra_headers_to_log),
        int_key("index", c.index, 0, "an integer >= 0"),
        string_key("zone", c.zone),
        {"go_max_procs", [this](const Node& n, const std::string& p) { go_max_procs_ = read_workers(n, p); }},
        {"workers", [this](const Node& n, const std::string& p) { workers_ = read_workers(n, p); }},
        int_key("max_client_connections", c.max_client_connections, 0, "an integer >= 0 (0 = from the fd limit)"),
        {"io_engine", [&c](const Node& n, const std::string& p) { c.io_engine = read_io_engine(n, p); }},
        {"tunnel", [this](const Node& n, const std::string& p) { read_tunnel(n, p); }},
        {"socks", [this](const Node& n, const std::string& p) { read_socks(n, p); }},
        detail::sealed_gateway_key(c.sealed_gateway, c.ignored_keys),
    };
  }

  Keys route_table_keys() {
    Config& c = config_;
    return {
        seconds_key("prune_stale_droplets_interval", c.prune_stale_droplets_interval, true),
        seconds_key("droplet_stale_threshold", c.droplet_stale_threshold),
        seconds_key("start_response_delay_interval", c.start_response_delay_interval),
        bool_key("suspend_pruning_if_nats_unavailable", c.suspend_pruning_if_nats_unavailable),
        bool_key("empty_pool_response_code_503", c.empty_pool_response_code_503),
        seconds_key("empty_pool_timeout", c.empty_pool_timeout),
    };
  }

  Keys backend_keys() {
    Config& c = config_;
    return {
        {"balancing_algorithm", [&c](const Node& n, const std::string& p) { c.balancing_algorithm = read_balancing(n, p); }},
        {"backends", [this](const Node& n, const std::string& p) { read_backends(n, p); }},
        {"ca_certs", [&c](const Node& n, const std::string& p) { c.ca_certs = read_pem(n, p, true); }},
        bool_key("skip_ssl_validation", c.skip_ssl_validation),
        bool_key("disable_keep_alives", c.disable_keep_alives),
        int_key("max_idle_conns_per_host", c.max_idle_conns_per_host, 0, "an integer >= 0"),
        millis_key("endpoint_timeout", c.endpoint_timeout),
        millis_key("endpoint_dial_timeout", c.endpoint_dial_timeout),
        millis_key("frontend_idle_timeout", c.frontend_idle_timeout),
        millis_key("read_header_timeout", c.read_header_timeout),
        millis_key("drain_wait", c.drain_wait),
        {"drain_timeout", [&c](const Node& n, const std::string& p) { c.drain_timeout = detail::read_millis(n, p); }},
    };
  }

  Keys header_keys() {
    Config& c = config_;
    return {
        {"max_request_header_bytes",
         [&c](const Node& n, const std::string& p) {
           c.max_request_header_bytes = static_cast<size_t>(detail::read_int(n, p, 1024, kMaxInt, "an integer >= 1024"));
         }},
        bool_key("force_forwarded_proto_https", c.force_forwarded_proto_https),
        bool_key("sanitize_forwarded_proto", c.sanitize_forwarded_proto),
        headers_key("hop_by_hop_headers_to_filter", c.hop_by_hop_headers_to_filter),
        {"sticky_session_cookie_names",
         [&c](const Node& n, const std::string& p) {
           c.sticky_session_cookie_names = detail::read_token_list(n, p, "a cookie name");
         }},
        bool_key("secure_cookies", c.secure_cookies),
    };
  }

  void read_status(const Node& node, const std::string& path) {
    StatusConfig& s = config_.status;
    read(node, path,
         {host_key("host", s.host), port_key("port", s.port), string_key("user", s.user), string_key("pass", s.pass),
          {"routes",
           [this, &s](const Node& n, const std::string& p) {
             read(n, p, {port_key("port", s.routes_port)}, config_.ignored_keys);
           }}},
         config_.ignored_keys);
  }

  void read_access_log(const Node& node, const std::string& path) {
    AccessLogConfig& a = config_.access_log;
    read(node, path, {string_key("file", a.file), bool_key("enable_streaming", a.enable_streaming)},
         config_.ignored_keys);
  }

  // gorouter's `logging` section: the component log (shared reader) and the
  // access log's syslog, redaction and attempt details.
  void read_logging(const Node& node, const std::string& path) {
    AccessLogConfig& a = config_.access_log;
    Key redact{"redact_query_params", [&a](const Node& n, const std::string& p) {
                 const std::string v = detail::read_string(n, p);
                 if (v == "none" || v.empty()) a.redact_query_params = RedactQuery::none;
                 else if (v == "all") a.redact_query_params = RedactQuery::all;
                 else if (v == "hash") a.redact_query_params = RedactQuery::hash;
                 else fail(p, n, "none, all or hash");
               }};
    Key network{"syslog_network", [&a](const Node& n, const std::string& p) {
                  a.syslog_network = detail::read_string(n, p);
                  if (a.syslog_network.empty()) a.syslog_network = "udp";
                  if (a.syslog_network != "udp" && a.syslog_network != "tcp" && a.syslog_network != "unixgram")
                    fail(p, n, "udp, tcp or unixgram");
                }};
    Key address{"syslog_addr", [&a](const Node& n, const std::string& p) {
                  a.syslog_addr = detail::read_string(n, p);
                  if (a.syslog_addr.empty()) fail(p, n, "host:port, or a socket path for unixgram");
                }};
    detail::read_logging(node, path, config_.logging, config_.ignored_keys,
                         {string_key("syslog", a.syslog), address, network, redact,
                          bool_key("enable_attempts_details", a.enable_attempts_details),
                          bool_key("disable_log_forwarded_for", a.disable_log_forwarded_for),
                          bool_key("disable_log_source_ip", a.disable_log_source_ip)});
  }

  void read_backends(const Node& node, const std::string& path) {
    Config& c = config_;
    read(node, path,
         {int_key("max_attempts", c.max_attempts, 1, "an integer >= 1"),
          int_key("max_conns", c.max_conns, 0, "an integer >= 0 (0 = unlimited)"),
          seconds_key("idle_timeout", c.backend_idle_timeout),
          {"cert_chain", [&c](const Node& n, const std::string& p) { c.backend_cert_chain = read_pem(n, p, true); }},
          {"private_key", [&c](const Node& n, const std::string& p) { c.backend_private_key = read_pem(n, p, false); }}},
         config_.ignored_keys);
    if (c.backend_cert_chain.empty() != c.backend_private_key.empty())
      detail::fail(path + (c.backend_cert_chain.empty() ? ".cert_chain" : ".private_key"), node,
                   "set together with backends." +
                       std::string(c.backend_cert_chain.empty() ? "private_key" : "cert_chain"));
  }

  // One secret, or a list (the first mints, all verify). Never echoed in errors.
  static std::vector<std::string> read_secrets(const Node& node, const std::string& path) {
    std::vector<std::string> out;
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) out.push_back(detail::read_string(node[i], detail::index(path, i)));
    } else {
      out.push_back(detail::read_string(node, path));
    }
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].empty()) throw detail::Invalid{detail::index(path, i) + ": a secret must not be empty"};
    return out;
  }

  static bool valid_node_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
    return true;
  }

  void read_tunnel(const Node& node, const std::string& path) {
    TunnelConfig& t = config_.tunnel;
    Key domain{"domain", [&t](const Node& n, const std::string& p) {
                 t.domain = detail::read_string(n, p);
                 if (!names::valid_dns_name(t.domain)) fail(p, n, "a DNS name (such as tunnel.example.com)");
               }};
    Key advertise{"advertise", [&t](const Node& n, const std::string& p) {
                    t.advertise = detail::read_string(n, p);
                    if (!t.advertise.empty() && !names::valid_host_port(t.advertise)) fail(p, n, "host:port");
                  }};
    Key node_id{"node_id", [&t](const Node& n, const std::string& p) {
                  t.node_id = detail::read_string(n, p);
                  if (!valid_node_id(t.node_id)) fail(p, n, "1-64 of [A-Za-z0-9._-]");
                }};
    Key secret{"secret", [&t](const Node& n, const std::string& p) { t.secrets = read_secrets(n, p); }};
    read(node, path,
         {host_key("host", t.host), port_key("port", t.port), domain, secret, advertise, node_id,
          seconds_key("register_interval", t.register_interval, true),
          {"ping_interval", [&t](const Node& n, const std::string& p) { t.ping_interval = detail::read_millis(n, p); }},
          bool_key("tls", t.tls), {"tcp_ports", [&t](const Node& n, const std::string& p) { read_port_range(n, p, t); }}},
         config_.ignored_keys);
    t.enabled = true;
  }

  // "20000-20999" (or one port): the TCP tunnels' entry ports.
  static void read_port_range(const Node& node, const std::string& path, TunnelConfig& t) {
    const std::string text = detail::read_string(node, path);
    const size_t dash = text.find('-');
    unsigned first = 0, last = 0;
    auto number = [](std::string_view s, unsigned* v) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      return ec == std::errc() && end == s.data() + s.size() && *v >= 1 && *v <= 65535;
    };
    const bool ok = dash == std::string::npos ? number(text, &first) && number(text, &last)
                                              : number(std::string_view(text).substr(0, dash), &first) &&
                                                    number(std::string_view(text).substr(dash + 1), &last);
    if (!ok || first > last) fail(path, node, "a port range such as \"20000-20999\"");
    t.tcp_port_first = static_cast<uint16_t>(first);
    t.tcp_port_last = static_cast<uint16_t>(last);
  }

  void read_socks(const Node& node, const std::string& path) {
    SocksConfig& s = config_.socks;
    read(node, path,
         {host_key("host", s.host), port_key("port", s.port), string_key("user", s.user), string_key("pass", s.pass)},
         config_.ignored_keys);
    s.enabled = true;
    if (s.user.size() > 255 || s.pass.size() > 255) fail(path, node, "user and pass of at most 255 bytes (RFC 1929)");
    if (s.user.empty() != s.pass.empty()) fail(path, node, "both user and pass, or neither");
  }

  static Balancing read_balancing(const Node& node, const std::string& path) {
    constexpr std::string_view what = "a balancing algorithm (round-robin or least-connection)";
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    if (text == "round-robin") return Balancing::round_robin;
    if (text == "least-connection") return Balancing::least_connection;
    fail(path, node, what);
  }

  static IoEngine read_io_engine(const Node& node, const std::string& path) {
    constexpr std::string_view what = "an io engine (auto, io_uring or epoll)";
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    if (text == "auto") return IoEngine::automatic;
    if (text == "io_uring") return IoEngine::io_uring;
    if (text == "epoll") return IoEngine::epoll;
    fail(path, node, what);
  }

  // -1 and 0 = one per core (0); N > 0 = N.
  static int read_workers(const Node& node, const std::string& path) {
    long long n = detail::read_int(node, path, -1, kMaxWorkers, "-1, 0 (one per core) or a worker count up to 4096");
    return n < 0 ? 0 : static_cast<int>(n);
  }

  // Cross-key rules, after every key has been read.
  void finish() {
    Config& c = config_;
    if (workers_) {
      c.workers = *workers_;  // Switchyard's key wins over gorouter's
    } else if (go_max_procs_) {
      c.workers = *go_max_procs_;
    }
    const AccessLogConfig& a = c.access_log;
    if (!a.syslog.empty() && a.syslog_network != "unixgram" && !names::valid_host_port(a.syslog_addr))
      throw detail::Invalid{"logging.syslog_addr: value \"" + a.syslog_addr + "\" is not host:port (syslog_network " +
                            a.syslog_network + ")"};
    detail::finish_tls(c);
    if (c.socks.enabled && !c.tunnel.enabled)
      throw detail::Invalid{"socks: the SOCKS5 entry reaches tunnels only; configure tunnel: too"};
    // gorouter: a route must not go stale before the router starts answering.
    if (c.droplet_stale_threshold < c.start_response_delay_interval) {
      c.droplet_stale_threshold = c.start_response_delay_interval;
    }
  }

  Config& config_;
  std::optional<int> workers_;
  std::optional<int> go_max_procs_;
};

}  // namespace

std::variant<Config, ConfigError> parse_config(const std::string& yaml_text) {
  Config config;
  std::optional<ConfigError> error = detail::read_document(yaml_text, [&config](const Node& root) {
    if (!root.IsNull()) Reader(config).read_root(root);
  });
  if (error) return std::move(*error);
  return config;
}

bool apply_logging(const LoggingConfig& logging, const std::vector<std::string>& ignored_keys, const char* program) {
  bool level_ok = true;
  log::set_level(log::parse_level(logging.level, &level_ok));
  if (!logging.file.empty() && !log::set_log_file(logging.file)) {
    std::fprintf(stderr, "%s: cannot open logging.file %s: %s\n", program, logging.file.c_str(), std::strerror(errno));
    return false;
  }
  if (!ignored_keys.empty()) {
    std::string keys;
    for (const auto& k : ignored_keys) keys += (keys.empty() ? "" : ",") + k;
    log::warn("config-keys-ignored", log::Fields()("keys", keys));
  }
  return true;
}

std::variant<Config, ConfigError> load_config(const std::string& path) {
  if (path.empty()) return std::variant<Config, ConfigError>(std::in_place_index<0>);
  return detail::load_file(path, &parse_config);
}

}  // namespace sy::config
