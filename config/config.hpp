#pragma once
// Switchyard configuration: one YAML file in gorouter's keys (both the classic
// style — `nats: [{host, port, user, pass}]`, durations as integer seconds —
// and the current one — `nats: {hosts: [{hostname, port}], user, pass}`,
// durations like `30s`). load_config() is called once at start-up, on the main
// thread; the result is immutable afterwards and shared read-only.
//
// Errors never throw: a ConfigError names the key path (`nats.hosts[0].port`),
// the offending value and what was expected, or the YAML line/column (1-based)
// for a syntax error. `switchyard` prints it and exits 2.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sy::config {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

struct NatsServer {
  std::string host = "127.0.0.1";
  uint16_t port = 4222;
  std::string user;  // per-server credentials (classic style); empty = use NatsConfig's
  std::string pass;
};

struct NatsConfig {
  std::vector<NatsServer> servers{NatsServer{}};
  std::string user;  // current style: shared credentials
  std::string pass;
  Millis reconnect_wait{500};
  Millis ping_interval{20000};
};

struct StatusConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8082;
  std::string user;  // basic auth for /routes; empty user and pass = /routes always 401
  std::string pass;
  // status.routes.port: gorouter's own /routes listener on 127.0.0.1 (0 = none;
  // /routes stays on status.port as well).
  uint16_t routes_port = 0;
};

enum class Balancing { round_robin, least_connection };
// The proxy's socket engine (router/io): io_uring where the kernel allows it,
// else epoll (automatic, logged once at start), or one of them by name.
enum class IoEngine { automatic, io_uring, epoll };

struct LoggingConfig {
  std::string file;           // component log; empty = stderr
  std::string level = "info";  // debug|info|warn|error
};

enum class RedactQuery { none, all, hash };

// The access log: access_log.{file, enable_streaming} and the keys gorouter
// keeps under `logging` for it.
struct AccessLogConfig {
  std::string file;               // empty = none (unless enable_streaming)
  bool enable_streaming = false;  // also write access lines to stdout
  // logging.syslog: the app name access lines are sent to syslog under
  // ("" = no syslog), to logging.syslog_addr over logging.syslog_network
  // (udp, tcp, or unixgram with a socket path such as /dev/log).
  std::string syslog;
  std::string syslog_addr = "127.0.0.1:514";
  std::string syslog_network = "udp";
  RedactQuery redact_query_params = RedactQuery::none;  // logging.redact_query_params: none | all | hash
  bool enable_attempts_details = false;                 // logging.enable_attempts_details
  bool disable_log_forwarded_for = false;               // logging.disable_log_forwarded_for
  bool disable_log_source_ip = false;                   // logging.disable_log_source_ip
};

// Reverse tunnels (SPEC §5). enabled only when `tunnel:` is present.
struct TunnelConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";  // the agents' WebSocket listener
  uint16_t port = 8443;
  std::string domain = "tunnel.localhost";  // agent host names are <label>.<domain>
  // HMAC keys for agent tokens and forwarded-node signatures: the first
  // mints, all verify (`secret:` as one string or a list). Empty: no auth.
  std::vector<std::string> secrets;
  std::string advertise;  // host:port other nodes use to reach this node's proxy port; "" = local IP + port
  std::string node_id;    // unique per node; "" = the machine's host name
  Seconds register_interval{20};
  Millis ping_interval{5000};  // yamux ping per session; unanswered within it = dead
  bool tls = false;  // agents connect with wss:// (the node's tls_pem, versions and ciphers; no client certificates)
  // TCP tunnels (`tcp_ports: "20000-20999"`): each gets an entry port from
  // this range on bind_address. 0/0 = TCP tunnels refused.
  uint16_t tcp_port_first = 0, tcp_port_last = 0;
};

// The SOCKS5 entry into tunnels (SPEC §7; RFC 1928, user/pass RFC 1929).
// `user`/`pass` also guard CONNECT on the proxy port (Proxy-Authorization).
struct SocksConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";
  uint16_t port = 1080;
  std::string user, pass;  // both or neither; empty = no authentication
};

// The sealed-address TCP gateway (SPEC §7, seed 004's frontd protocol).
// enabled only when `sealed_gateway:` is present; then port and secret are required.
struct SealedGatewayConfig {
  enum class Relay : uint8_t { splice, copy };
  bool enabled = false;
  std::string host = "0.0.0.0";
  uint16_t port = 0;
  std::string secret;                 // never echoed in errors or logs
  Millis connect_timeout{3000};       // per connect attempt (frontd `timeout`)
  int retry = 1;                      // connect attempts (frontd `retry`)
  Millis read_timeout{10000};         // for the sealed line, from accept to its '\n'
  Relay relay = Relay::splice;        // copy: read/write through a buffer (for the A/B bench)
};

// TLS at the node (gorouter's keys): the HTTPS listener, and the tunnel
// listener when tunnel.tls is on. Values are checked when the file is read
// (PEM readable, each key matching its certificate, cipher names OpenSSL
// knows), so a context built from them at start-up or on SIGHUP cannot fail
// on a value the file had.
enum class TlsVersion : uint8_t { v1_0, v1_1, v1_2, v1_3 };
enum class ClientCertValidation : uint8_t { none, request, require };
enum class ForwardedClientCert : uint8_t { always_forward, forward, sanitize_set };

struct TlsCertificate {
  std::string cert_chain;   // PEM, leaf first
  std::string private_key;  // PEM
};

struct ServerTlsConfig {
  bool enabled = false;  // enable_ssl
  uint16_t port = 443;   // ssl_port (on bind_address)
  bool disable_http = false;  // no plain HTTP listener (gorouter disable_http)
  // tls_pem: chosen by the client's SNI among each certificate's names; the
  // first one for a client without SNI or with a name none carries.
  std::vector<TlsCertificate> certificates;
  TlsVersion min_version = TlsVersion::v1_2;
  TlsVersion max_version = TlsVersion::v1_3;  // gorouter's default is TLSv1.2
  // cipher_suites, split by protocol: TLS <= 1.2 as an OpenSSL cipher list
  // (gorouter's and IANA names mapped to OpenSSL's), TLS 1.3 suites named
  // there ("" = OpenSSL's defaults).
  std::string cipher_list =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::string tls13_ciphersuites;
  ClientCertValidation client_cert_validation = ClientCertValidation::none;
  std::string client_ca_certs;              // PEM
  bool only_trust_client_ca_certs = false;  // false: ca_certs and the system's CAs verify client certificates too
  ForwardedClientCert forwarded_client_cert = ForwardedClientCert::always_forward;
};

struct Config {
  // Listeners.
  std::string bind_address = "127.0.0.1";  // proxy listener address (Switchyard key)
  uint16_t port = 8081;                      // proxy listener port (gorouter `port`)
  StatusConfig status;
  bool enable_proxy = false;  // accept PROXY protocol v1/v2 on the proxy listeners
  ServerTlsConfig tls;

  NatsConfig nats;
  LoggingConfig logging;
  AccessLogConfig access_log;
  std::vector<std::string> extra_headers_to_log;

  int index = 0;
  std::string zone;
  int workers = 0;  // 0 = one per core (`workers`, or gorouter `go_max_procs` > 0)
  // Client connections the proxy listener holds at once, across workers
  // (Switchyard key); beyond it a new connection is answered 503 and closed.
  // 0 = a third of the file-descriptor limit (each client may need an
  // upstream connection and a pipe as well).
  int max_client_connections = 0;
  IoEngine io_engine = IoEngine::automatic;  // `io_engine: auto | io_uring | epoll`

  // Route table.
  Seconds prune_stale_droplets_interval{30};
  Seconds droplet_stale_threshold{120};
  Seconds start_response_delay_interval{5};
  bool suspend_pruning_if_nats_unavailable = true;
  bool empty_pool_response_code_503 = true;
  Seconds empty_pool_timeout{0};

  // Load balancing and backends.
  Balancing balancing_algorithm = Balancing::round_robin;
  int max_attempts = 3;          // backends.max_attempts (>= 1)
  int max_conns = 0;             // backends.max_conns, 0 = unlimited
  // TLS to endpoints registered with tls_port: the CAs to trust (PEM; empty =
  // the system's), whether to skip verification, and an optional client
  // certificate (backends.cert_chain / backends.private_key, PEM).
  std::string ca_certs;
  bool skip_ssl_validation = false;
  std::string backend_cert_chain;
  std::string backend_private_key;
  bool disable_keep_alives = false;
  int max_idle_conns_per_host = 100;
  Seconds backend_idle_timeout{90};

  // Timeouts.
  Millis endpoint_timeout{60000};       // whole backend request (not after a 101)
  Millis endpoint_dial_timeout{5000};
  Millis frontend_idle_timeout{900000};  // idle keep-alive client connection
  Millis read_header_timeout{30000};     // from first byte to end of request head
  size_t max_request_header_bytes = 1024 * 1024;

  // Draining (SIGUSR1).
  Millis drain_wait{0};
  std::optional<Millis> drain_timeout;  // default: endpoint_timeout

  // Header handling.
  bool force_forwarded_proto_https = false;
  bool sanitize_forwarded_proto = false;
  std::vector<std::string> hop_by_hop_headers_to_filter;

  // Sticky sessions: a request carrying one of these cookies and __VCAP_ID__
  // goes back to that instance; secure_cookies forces Secure on __VCAP_ID__.
  std::vector<std::string> sticky_session_cookie_names{"JSESSIONID"};
  bool secure_cookies = false;

  TunnelConfig tunnel;
  SocksConfig socks;
  SealedGatewayConfig sealed_gateway;

  // Keys present in the file that Switchyard does not implement, dotted
  // (`route_services_secret`, `logging.syslog`), in file order.
  std::vector<std::string> ignored_keys;

  Millis effective_drain_timeout() const { return drain_timeout.value_or(endpoint_timeout); }
};

struct ConfigError {
  std::string message;  // one line, e.g. "nats.hosts[0].port: value \"x\" is not a port (1..65535)"
};

// Start-up of either binary once its config is loaded: the log level and
// file from `logging`, and one `config-keys-ignored` line. False (after a
// message on stderr, prefixed with `program`) if logging.file cannot be opened.
bool apply_logging(const LoggingConfig& logging, const std::vector<std::string>& ignored_keys, const char* program);

// Loads `path`. An empty path returns the defaults above (loopback
// everything). Never throws.
std::variant<Config, ConfigError> load_config(const std::string& path);
// Same, from YAML text (for tests and `-` stdin).
std::variant<Config, ConfigError> parse_config(const std::string& yaml_text);

// Parses a duration: an integer (seconds) or a number with a unit
// (ns, us, ms, s, m, h, and Go-style combinations such as 1m30s).
std::optional<Millis> parse_duration(const std::string& text);

}  // namespace sy::config
