// config/: YAML loading in both gorouter styles, durations, validation
// errors naming their key, ignored-key reporting and syntax error positions.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace sy::config {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

std::string data_file(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path() / "../../data/config" / name).lexically_normal().string();
}

Config parse_ok(const std::string& yaml) {
  auto result = parse_config(yaml);
  if (auto* error = std::get_if<ConfigError>(&result)) {
    ADD_FAILURE() << "unexpected error: " << error->message << "\nfor:\n" << yaml;
    return Config{};
  }
  return std::get<Config>(result);
}

std::string parse_error(const std::string& yaml) {
  auto result = parse_config(yaml);
  if (auto* error = std::get_if<ConfigError>(&result)) return error->message;
  ADD_FAILURE() << "expected an error for:\n" << yaml;
  return "";
}

TEST(ConfigDefaults, EmptyPathAndEmptyTextGiveDefaults) {
  for (auto result : {load_config(""), parse_config(""), parse_config("# only a comment\n"), parse_config("~\n")}) {
    ASSERT_TRUE(std::holds_alternative<Config>(result));
    const Config& c = std::get<Config>(result);
    EXPECT_EQ(c.bind_address, "127.0.0.1");
    EXPECT_EQ(c.port, 8081);
    EXPECT_EQ(c.status.host, "127.0.0.1");
    EXPECT_EQ(c.status.port, 8082);
    ASSERT_EQ(c.nats.servers.size(), 1u);
    EXPECT_EQ(c.nats.servers[0].host, "127.0.0.1");
    EXPECT_EQ(c.nats.servers[0].port, 4222);
    EXPECT_EQ(c.logging.level, "info");
    EXPECT_EQ(c.workers, 0);
    EXPECT_EQ(c.prune_stale_droplets_interval, 30s);
    EXPECT_EQ(c.droplet_stale_threshold, 120s);
    EXPECT_EQ(c.balancing_algorithm, Balancing::round_robin);
    EXPECT_EQ(c.max_attempts, 3);
    EXPECT_EQ(c.endpoint_timeout, 60s);
    EXPECT_FALSE(c.drain_timeout.has_value());
    EXPECT_EQ(c.effective_drain_timeout(), 60s);
    EXPECT_FALSE(c.tunnel.enabled);
    EXPECT_EQ(c.sticky_session_cookie_names, std::vector<std::string>{"JSESSIONID"});
    EXPECT_FALSE(c.secure_cookies);
    EXPECT_TRUE(c.ignored_keys.empty());
  }
}

TEST(ConfigFile, MissingFileNamesThePath) {
  auto result = load_config("/nonexistent/switchyard.yml");
  ASSERT_TRUE(std::holds_alternative<ConfigError>(result));
  EXPECT_NE(std::get<ConfigError>(result).message.find("/nonexistent/switchyard.yml"), std::string::npos);
}

// The gorouter example from a blog post, re-indented as intended.
TEST(ConfigFile, GorouterSeedLoads) {
  auto result = load_config(data_file("gorouter-seed.yml"));
  ASSERT_TRUE(std::holds_alternative<Config>(result)) << std::get<ConfigError>(result).message;
  const Config& c = std::get<Config>(result);
  EXPECT_EQ(c.status.port, 8082);
  EXPECT_EQ(c.status.user, "admin");
  EXPECT_EQ(c.status.pass, "admin123");
  ASSERT_EQ(c.nats.servers.size(), 1u);
  EXPECT_EQ(c.nats.servers[0].host, "10.90.2.103");
  EXPECT_EQ(c.nats.servers[0].port, 4222);
  EXPECT_EQ(c.nats.servers[0].user, "");  // `user:` (null) = empty
  EXPECT_EQ(c.nats.servers[0].pass, "");
  EXPECT_EQ(c.logging.file, "");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.port, 9999);
  EXPECT_EQ(c.index, 0);
  EXPECT_EQ(c.workers, 0);  // go_max_procs: -1
  EXPECT_EQ(c.prune_stale_droplets_interval, 10s);
  EXPECT_EQ(c.droplet_stale_threshold, 80s);
  EXPECT_EQ(c.extra_headers_to_log, (Strings{"Span-Id", "Trace-Id", "Cache-Control"}));
  // Not implemented, in file order; `logging.syslog:` is null, so it configures
  // nothing and is not reported.
  EXPECT_EQ(c.ignored_keys, (Strings{"publish_start_message_interval", "publish_active_apps_interval",
                                     "route_service_timeout", "route_services_secret"}));
}

// As printed, `port/user/pass` lost their indentation under `- host:`: the
// mis-indented `port:` key at line 8, column 3 ends the list item's map where
// yaml-cpp still expects the `nats:` map to end.
TEST(ConfigFile, GorouterSeedAsPrintedFailsAtLine8Column3) {
  std::string path = data_file("gorouter-seed-as-printed.yml");
  auto result = load_config(path);
  ASSERT_TRUE(std::holds_alternative<ConfigError>(result));
  const std::string& message = std::get<ConfigError>(result).message;
  EXPECT_NE(message.find("line 8, column 3"), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(ConfigSyntax, LineAndColumnAreOneBasedCharacters) {
  EXPECT_NE(parse_error("a: 1\nb: [1, 2\n").find("line 3, column 1"), std::string::npos);
  EXPECT_NE(parse_error("a: 1\n\tb: 2\n").find("line 2, column 1"), std::string::npos);
  // yaml-cpp counts the column in UTF-8 bytes (byte 10); we count characters.
  EXPECT_NE(parse_error("k: \xE5\x9C\xB0\xE5\x9C\xB0 : x\n").find("line 1, column 7"), std::string::npos);
  EXPECT_NE(parse_error("a: 1\r\nb: 2\r\n  c: 3\r\n").find("line 3, column 4"), std::string::npos);
}

// Found by tests/fuzz/fuzz_config: yaml-cpp's messages and YAML keys can
// hold line breaks and NULs; a ConfigError stays one printable line.
TEST(ConfigSyntax, ErrorMessagesAreOneLine) {
  using namespace std::string_literals;
  for (const std::string& yaml : {"port\0\n\0\0\0: 0\nstatus: {port: \"x\"}\n"s, "\"a\\nb\": 1\n\"a\\nb\": 2\n"s,
                                  "\"a\\0b\": 1\n\"a\\0b\": 2\n"s}) {
    const std::string message = parse_error(yaml);
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find_first_of("\n\r"s + '\0'), std::string::npos) << message;
  }
  EXPECT_NE(parse_error("\"a\\nb\": 1\n\"a\\nb\": 2\n").find("a\\nb: duplicate key"), std::string::npos);
  EXPECT_NE(parse_error("\"a\\0b\": 1\n\"a\\0b\": 2\n").find("a b: duplicate key"), std::string::npos);
}

TEST(ConfigStructure, RejectsDuplicatesNonMapsAndSeveralDocuments) {
  EXPECT_NE(parse_error("port: 1\nport: 2\n").find("port: duplicate key"), std::string::npos);
  EXPECT_NE(parse_error("status:\n  port: 1\n  port: 2\n").find("status.port: duplicate key"), std::string::npos);
  EXPECT_NE(parse_error("- a\n- b\n").find("(top level): got a list, expected a map"), std::string::npos);
  EXPECT_NE(parse_error("port: 1\n---\nport: 2\n").find("one YAML document"), std::string::npos);
}

// Found by tests/fuzz/fuzz_config: after "&a e\n? " yaml-cpp 0.7 reports
// empty documents without end; YAML::LoadAll never returned and allocated
// gigabytes. The second document is where reading stops.
TEST(ConfigStructure, EndlessEmptyDocumentsAreOneErrorNotAHang) {
  EXPECT_NE(parse_error("&a e\n? ").find("one YAML document, found a second at line"), std::string::npos);
  EXPECT_NE(parse_error("port: 1\n---\nport: 2\n---\nport: 3\n").find("found a second at line 2"), std::string::npos);
}

TEST(ConfigNats, ClassicStyleListWithPerServerCredentials) {
  Config c = parse_ok(
      "nats:\n"
      "  - host: 10.0.0.1\n    port: 4223\n    user: alice\n    pass: secret1\n"
      "  - host: nats-2.internal\n    user: bob\n    pass: secret2\n");
  ASSERT_EQ(c.nats.servers.size(), 2u);
  EXPECT_EQ(c.nats.servers[0].host, "10.0.0.1");
  EXPECT_EQ(c.nats.servers[0].port, 4223);
  EXPECT_EQ(c.nats.servers[0].user, "alice");
  EXPECT_EQ(c.nats.servers[0].pass, "secret1");
  EXPECT_EQ(c.nats.servers[1].host, "nats-2.internal");
  EXPECT_EQ(c.nats.servers[1].port, 4222);
  EXPECT_EQ(c.nats.servers[1].user, "bob");
  EXPECT_EQ(c.nats.user, "");
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigNats, CurrentStyleHostsWithSharedCredentials) {
  Config c = parse_ok(
      "nats:\n  hosts:\n  - hostname: 10.0.0.5\n    port: 4224\n  - hostname: nats.example\n    port: 4225\n"
      "  user: nats\n  pass: pw\n  tls_enabled: false\n  ca_certs: \"\"\n");
  ASSERT_EQ(c.nats.servers.size(), 2u);
  EXPECT_EQ(c.nats.servers[0].host, "10.0.0.5");
  EXPECT_EQ(c.nats.servers[0].port, 4224);
  EXPECT_EQ(c.nats.servers[1].host, "nats.example");
  EXPECT_EQ(c.nats.servers[1].port, 4225);
  EXPECT_EQ(c.nats.servers[1].user, "");
  EXPECT_EQ(c.nats.user, "nats");
  EXPECT_EQ(c.nats.pass, "pw");
  EXPECT_TRUE(c.ignored_keys.empty());  // tls_enabled: false and an empty ca_certs configure nothing
}

TEST(ConfigNats, TlsSettingsAreReportedIgnored) {
  Config c = parse_ok(
      "nats:\n  hosts: [{hostname: a, port: 1, host: typo}]\n  tls_enabled: true\n  ca_certs: PEM\n"
      "  cert_chain: PEM\n  private_key: PEM\n");
  EXPECT_EQ(c.ignored_keys, (Strings{"nats.hosts[0].host", "nats.tls_enabled", "nats.ca_certs", "nats.cert_chain",
                                     "nats.private_key"}));
}

TEST(ConfigNats, BadServersNameTheirPath) {
  EXPECT_EQ(parse_error("nats:\n  - host: a\n    port: 1\n  - host: b\n    port: x\n"),
            "nats[1].port: value \"x\" is not a port (1..65535)");
  EXPECT_EQ(parse_error("nats:\n  hosts:\n  - hostname: a\n    port: 70000\n"),
            "nats.hosts[0].port: value \"70000\" is not a port (1..65535)");
  EXPECT_NE(parse_error("nats: []\n").find("nats: expected at least one server"), std::string::npos);
  EXPECT_NE(parse_error("nats:\n  hosts: []\n").find("nats.hosts: expected at least one server"), std::string::npos);
  EXPECT_NE(parse_error("nats: nats://x\n").find("nats: value \"nats://x\" is not a list of servers"),
            std::string::npos);
  EXPECT_EQ(parse_error("nats:\n  - just-a-host\n"), "nats[0]: value \"just-a-host\" is not a map");
  EXPECT_EQ(parse_error("nats:\n  tls_enabled: maybe\n"),
            "nats.tls_enabled: value \"maybe\" is not a boolean (true or false)");
}

TEST(ConfigDuration, ParsesIntegersAndGoSyntax) {
  EXPECT_EQ(parse_duration("0"), Millis(0));
  EXPECT_EQ(parse_duration("30"), Millis(30000));
  EXPECT_EQ(parse_duration("30s"), Millis(30000));
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("1m30s"), Millis(90000));
  EXPECT_EQ(parse_duration("1h"), Millis(3600000));
  EXPECT_EQ(parse_duration("2h45m0.5s"), Millis((2 * 3600 + 45 * 60) * 1000 + 500));
  EXPECT_EQ(parse_duration("1.5h"), Millis(5400000));
  EXPECT_EQ(parse_duration(".5s"), Millis(500));
  EXPECT_EQ(parse_duration("1500us"), Millis(1));
  EXPECT_EQ(parse_duration("2000000ns"), Millis(2));
  EXPECT_EQ(parse_duration("3000\xC2\xB5s"), Millis(3));  // µs
  EXPECT_EQ(parse_duration("1s500ms"), Millis(1500));
}

TEST(ConfigDuration, RejectsBadText) {
  for (const char* bad : {"", "-1", "-5s", "+5s", "s", "1.5", "1m30", "5sec", "5 s", " 5s", "1d", "abc", ".s",
                          "99999999999999999999", "9999999999h", "1e3s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(ConfigDuration, KeysAcceptIntegersAndUnits) {
  Config c = parse_ok(
      "prune_stale_droplets_interval: 45\ndroplet_stale_threshold: 2m\nstart_response_delay_interval: 1m30s\n"
      "endpoint_timeout: 500ms\nendpoint_dial_timeout: 3\nfrontend_idle_timeout: 1h\nread_header_timeout: \"10s\"\n"
      "drain_wait: 20s\ndrain_timeout: 45s\nempty_pool_timeout: 1500ms\n");
  EXPECT_EQ(c.prune_stale_droplets_interval, 45s);
  EXPECT_EQ(c.droplet_stale_threshold, 120s);
  EXPECT_EQ(c.start_response_delay_interval, 90s);
  EXPECT_EQ(c.endpoint_timeout, 500ms);
  EXPECT_EQ(c.endpoint_dial_timeout, 3s);
  EXPECT_EQ(c.frontend_idle_timeout, 1h);
  EXPECT_EQ(c.read_header_timeout, 10s);
  EXPECT_EQ(c.drain_wait, 20s);
  ASSERT_TRUE(c.drain_timeout.has_value());
  EXPECT_EQ(c.effective_drain_timeout(), 45s);
  EXPECT_EQ(c.empty_pool_timeout, 2s);  // whole-second keys round up
}

TEST(ConfigDuration, BadDurationsNameTheirKey) {
  EXPECT_EQ(parse_error("endpoint_timeout: -5s\n"),
            "endpoint_timeout: value \"-5s\" is not a valid duration (must not be negative)");
  EXPECT_EQ(parse_error("drain_wait: -1\n"), "drain_wait: value \"-1\" is not a valid duration (must not be negative)");
  EXPECT_EQ(parse_error("droplet_stale_threshold: soon\n"),
            "droplet_stale_threshold: value \"soon\" is not a duration (such as 30s, 500ms, 1m30s, or integer seconds)");
  EXPECT_NE(parse_error("tunnel:\n  register_interval: 1m30\n").find("tunnel.register_interval: value \"1m30\""),
            std::string::npos);
  EXPECT_NE(parse_error("read_header_timeout: [1]\n").find("read_header_timeout: got a list, expected a duration"),
            std::string::npos);
}

TEST(ConfigRules, PruneIntervalMustBePositiveAndStaleThresholdIsRaised) {
  EXPECT_EQ(parse_error("prune_stale_droplets_interval: 0\n"),
            "prune_stale_droplets_interval: value \"0\" is not a duration greater than zero");
  Config c = parse_ok("droplet_stale_threshold: 10\nstart_response_delay_interval: 30\n");
  EXPECT_EQ(c.droplet_stale_threshold, 30s);
  c = parse_ok("droplet_stale_threshold: 60\nstart_response_delay_interval: 30\n");
  EXPECT_EQ(c.droplet_stale_threshold, 60s);
}

TEST(ConfigWorkers, GoMaxProcsAndWorkers) {
  EXPECT_EQ(parse_ok("go_max_procs: -1\n").workers, 0);
  EXPECT_EQ(parse_ok("go_max_procs: 0\n").workers, 0);
  EXPECT_EQ(parse_ok("go_max_procs: 4\n").workers, 4);
  EXPECT_EQ(parse_ok("workers: 2\n").workers, 2);
  EXPECT_EQ(parse_ok("workers: 2\ngo_max_procs: 8\n").workers, 2);  // Switchyard's key wins, in any order
  EXPECT_EQ(parse_ok("go_max_procs: 8\nworkers: 0\n").workers, 0);
  EXPECT_NE(parse_error("go_max_procs: -2\n").find("go_max_procs: value \"-2\""), std::string::npos);
  EXPECT_NE(parse_error("workers: many\n").find("workers: value \"many\""), std::string::npos);
}

TEST(ConfigIoEngine, AutoByDefaultAndEachEngineByName) {
  EXPECT_EQ(parse_ok("port: 80\n").io_engine, IoEngine::automatic);
  EXPECT_EQ(parse_ok("io_engine: auto\n").io_engine, IoEngine::automatic);
  EXPECT_EQ(parse_ok("io_engine: io_uring\n").io_engine, IoEngine::io_uring);
  EXPECT_EQ(parse_ok("io_engine: epoll\n").io_engine, IoEngine::epoll);
  EXPECT_NE(parse_error("io_engine: kqueue\n").find("io_engine: value \"kqueue\" is not an io engine (auto, io_uring or epoll)"),
            std::string::npos);
  EXPECT_NE(parse_error("io_engine: [epoll]\n").find("io_engine"), std::string::npos);
}

TEST(ConfigKeys, MapsEveryImplementedKey) {
  Config c = parse_ok(R"(bind_address: 0.0.0.0
port: 80
status: {host: 0.0.0.0, port: 8080, user: u, pass: p}
enable_proxy: true
logging: {file: /var/log/sy.log, level: debug}
access_log: {file: /var/log/access.log, enable_streaming: yes}
index: 3
zone: z1
suspend_pruning_if_nats_unavailable: false
empty_pool_response_code_503: false
balancing_algorithm: least-connection
backends: {max_attempts: 1, max_conns: 50, idle_timeout: 30s}
disable_keep_alives: true
max_idle_conns_per_host: 0
max_request_header_bytes: 4096
force_forwarded_proto_https: true
sanitize_forwarded_proto: true
hop_by_hop_headers_to_filter: [X-Forwarded-Client-Cert, X-Debug]
sticky_session_cookie_names: [JSESSIONID, SESSION]
secure_cookies: true
)");
  EXPECT_EQ(c.bind_address, "0.0.0.0");
  EXPECT_EQ(c.port, 80);
  EXPECT_EQ(c.status.host, "0.0.0.0");
  EXPECT_EQ(c.status.port, 8080);
  EXPECT_EQ(c.status.user, "u");
  EXPECT_EQ(c.status.pass, "p");
  EXPECT_TRUE(c.enable_proxy);
  EXPECT_EQ(c.logging.file, "/var/log/sy.log");
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.access_log.file, "/var/log/access.log");
  EXPECT_TRUE(c.access_log.enable_streaming);
  EXPECT_EQ(c.index, 3);
  EXPECT_EQ(c.zone, "z1");
  EXPECT_FALSE(c.suspend_pruning_if_nats_unavailable);
  EXPECT_FALSE(c.empty_pool_response_code_503);
  EXPECT_EQ(c.balancing_algorithm, Balancing::least_connection);
  EXPECT_EQ(c.max_attempts, 1);
  EXPECT_EQ(c.max_conns, 50);
  EXPECT_EQ(c.backend_idle_timeout, 30s);
  EXPECT_TRUE(c.disable_keep_alives);
  EXPECT_EQ(c.max_idle_conns_per_host, 0);
  EXPECT_EQ(c.max_request_header_bytes, 4096u);
  EXPECT_TRUE(c.force_forwarded_proto_https);
  EXPECT_TRUE(c.sanitize_forwarded_proto);
  EXPECT_EQ(c.hop_by_hop_headers_to_filter, (Strings{"X-Forwarded-Client-Cert", "X-Debug"}));
  EXPECT_EQ(c.sticky_session_cookie_names, (Strings{"JSESSIONID", "SESSION"}));
  EXPECT_TRUE(c.secure_cookies);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigKeys, NullValuesKeepDefaults) {
  Config c = parse_ok("port:\nstatus:\n  host:\nnats:\nlogging:\n  level:\ntunnel:\nbalancing_algorithm: ~\n");
  EXPECT_EQ(c.port, 8081);
  EXPECT_EQ(c.status.host, "127.0.0.1");
  EXPECT_EQ(c.nats.servers.size(), 1u);
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_FALSE(c.tunnel.enabled);
  EXPECT_EQ(c.balancing_algorithm, Balancing::round_robin);
}

TEST(ConfigTunnel, PresenceEnablesAndDomainIsValidated) {
  EXPECT_TRUE(parse_ok("tunnel: {}\n").tunnel.enabled);
  Config c = parse_ok(
      "tunnel:\n  host: 0.0.0.0\n  port: 9443\n  domain: Tunnel.Example.COM\n  secret: s3cret\n"
      "  advertise: 10.0.0.7:8081\n  register_interval: 10s\n");
  EXPECT_TRUE(c.tunnel.enabled);
  EXPECT_EQ(c.tunnel.host, "0.0.0.0");
  EXPECT_EQ(c.tunnel.port, 9443);
  EXPECT_EQ(c.tunnel.domain, "tunnel.example.com");
  EXPECT_EQ(c.tunnel.secrets, std::vector<std::string>{"s3cret"});
  EXPECT_EQ(c.tunnel.advertise, "10.0.0.7:8081");
  EXPECT_EQ(c.tunnel.register_interval, 10s);
  for (const char* domain : {"-bad.example", "bad-.example", "a..b", "under_score.example", "exa mple", "x.", "\"\""}) {
    std::string message = parse_error(std::string("tunnel:\n  domain: ") + domain + "\n");
    EXPECT_NE(message.find("tunnel.domain: value"), std::string::npos) << domain << ": " << message;
    EXPECT_NE(message.find("is not a DNS name"), std::string::npos) << message;
  }
  EXPECT_NE(parse_error("tunnel:\n  advertise: nohostport\n").find("tunnel.advertise: value \"nohostport\""),
            std::string::npos);
  EXPECT_NE(parse_error("tunnel:\n  register_interval: 0\n").find("tunnel.register_interval"), std::string::npos);
  EXPECT_NE(parse_error("tunnel: yes\n").find("tunnel: value \"yes\" is not a map"), std::string::npos);
}

TEST(ConfigTunnel, SecretListNodeIdAndPingInterval) {
  Config c = parse_ok("tunnel:\n  secret: [new-key, old-key]\n  node_id: node-a\n  ping_interval: 2s\n");
  EXPECT_EQ(c.tunnel.secrets, (std::vector<std::string>{"new-key", "old-key"}));
  EXPECT_EQ(c.tunnel.node_id, "node-a");
  EXPECT_EQ(c.tunnel.ping_interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(parse_ok("tunnel: {}\n").tunnel.ping_interval, std::chrono::milliseconds(5000));
  const std::string empty = parse_error("tunnel:\n  secret: [a, \"\"]\n");
  EXPECT_NE(empty.find("tunnel.secret[1]"), std::string::npos) << empty;
  EXPECT_NE(parse_error("tunnel:\n  node_id: \"a b\"\n").find("tunnel.node_id"), std::string::npos);
}

// SPEC §7: TCP tunnels' entry ports and the SOCKS5 entry.
TEST(ConfigTunnel, TcpPortsAndSocks) {
  Config c = parse_ok("tunnel:\n  tcp_ports: \"20000-20999\"\nsocks:\n  port: 1081\n  user: ops\n  pass: pw\n");
  EXPECT_EQ(c.tunnel.tcp_port_first, 20000);
  EXPECT_EQ(c.tunnel.tcp_port_last, 20999);
  EXPECT_TRUE(c.socks.enabled);
  EXPECT_EQ(c.socks.host, "127.0.0.1");
  EXPECT_EQ(c.socks.port, 1081);
  EXPECT_EQ(c.socks.user, "ops");
  EXPECT_EQ(parse_ok("tunnel:\n  tcp_ports: 7000\n").tunnel.tcp_port_last, 7000);
  EXPECT_EQ(parse_ok("tunnel: {}\n").tunnel.tcp_port_first, 0) << "TCP tunnels are off by default";
  EXPECT_FALSE(parse_ok("tunnel: {}\n").socks.enabled);
  for (const char* bad : {"\"2000-1000\"", "\"0-10\"", "\"1-70000\"", "\"a-b\"", "\"10-\"", "\"-\""}) {
    const std::string message = parse_error(std::string("tunnel:\n  tcp_ports: ") + bad + "\n");
    EXPECT_NE(message.find("tunnel.tcp_ports: value"), std::string::npos) << bad << ": " << message;
  }
  EXPECT_NE(parse_error("tunnel: {}\nsocks:\n  user: ops\n").find("socks"), std::string::npos) << "user without pass";
  EXPECT_NE(parse_error("socks:\n  port: 1080\n").find("socks:"), std::string::npos) << "socks without tunnel";
}

struct BadValue {
  const char* yaml;
  const char* message;  // the whole expected ConfigError message
};

TEST(ConfigValidation, EveryErrorNamesKeyValueAndExpectation) {
  const BadValue cases[] = {
      {"port: 0\n", "port: value \"0\" is not a port (1..65535)"},
      {"port: 65536\n", "port: value \"65536\" is not a port (1..65535)"},
      {"port: http\n", "port: value \"http\" is not a port (1..65535)"},
      {"port: {a: 1}\n", "port: got a map, expected a port (1..65535)"},
      {"status:\n  port: -1\n", "status.port: value \"-1\" is not a port (1..65535)"},
      {"status: [1]\n", "status: got a list, expected a map"},
      {"status:\n  user: [a]\n", "status.user: got a list, expected a string"},
      {"bind_address: \"\"\n", "bind_address: value \"\" is not a host name or address"},
      {"balancing_algorithm: random\n",
       "balancing_algorithm: value \"random\" is not a balancing algorithm (round-robin or least-connection)"},
      {"enable_proxy: maybe\n", "enable_proxy: value \"maybe\" is not a boolean (true or false)"},
      {"disable_keep_alives: 1\n", "disable_keep_alives: value \"1\" is not a boolean (true or false)"},
      {"access_log:\n  enable_streaming: sure\n",
       "access_log.enable_streaming: value \"sure\" is not a boolean (true or false)"},
      {"backends:\n  max_attempts: 0\n", "backends.max_attempts: value \"0\" is not an integer >= 1"},
      {"backends:\n  max_conns: -1\n", "backends.max_conns: value \"-1\" is not an integer >= 0 (0 = unlimited)"},
      {"max_idle_conns_per_host: -3\n", "max_idle_conns_per_host: value \"-3\" is not an integer >= 0"},
      {"max_request_header_bytes: 512\n", "max_request_header_bytes: value \"512\" is not an integer >= 1024"},
      {"index: 1.5\n", "index: value \"1.5\" is not an integer >= 0"},
      {"logging:\n  level: verbose\n", "logging.level: value \"verbose\" is not a log level (debug, info, warn or error)"},
      {"extra_headers_to_log: Trace-Id\n", "extra_headers_to_log: value \"Trace-Id\" is not a list of header names"},
      {"extra_headers_to_log: [Ok, \"Bad Header\"]\n", "extra_headers_to_log[1]: value \"Bad Header\" is not a header name"},
      {"hop_by_hop_headers_to_filter: [{a: b}]\n", "hop_by_hop_headers_to_filter[0]: got a map, expected a header name"},
      {"sticky_session_cookie_names: JSESSIONID\n",
       "sticky_session_cookie_names: value \"JSESSIONID\" is not a list of cookie names"},
      {"sticky_session_cookie_names: [\"a;b\"]\n",
       "sticky_session_cookie_names[0]: value \"a;b\" is not a cookie name"},
      {"secure_cookies: often\n", "secure_cookies: value \"often\" is not a boolean (true or false)"},
      {"status:\n  routes: {port: 70000}\n", "status.routes.port: value \"70000\" is not a port (1..65535)"},
      {"nats:\n  hosts:\n  - hostname: \"\"\n", "nats.hosts[0].hostname: value \"\" is not a host name or address"},
  };
  for (const BadValue& bad : cases) EXPECT_EQ(parse_error(bad.yaml), bad.message) << bad.yaml;
}

TEST(ConfigIgnored, UnimplementedAndUnknownKeysInFileOrder) {
  Config c = parse_ok(R"(secure_cookies: false
status:
  port: 8082
  routes: {port: 8083}
  tls: {}
logging:
  syslog: vcap.gorouter
  syslog_addr:
  format: {timestamp: rfc3339}
  level: info
routing_api:
  uri: http://api
  port: 3000
oauth: {token_endpoint: uaa}
totally_unknown_key: 1
empty_unknown_key:
trace_key: ""
access_log:
  file: /tmp/a.log
  extra: [1]
backends:
  tls_pem: PEM
tracing: {enable_zipkin: true}
prometheus:
  port: 9100
)");
  EXPECT_EQ(c.ignored_keys,
            (Strings{"logging.format", "routing_api", "oauth", "totally_unknown_key",
                     "access_log.extra", "backends.tls_pem", "tracing", "prometheus"}));
  EXPECT_EQ(c.status.port, 8082);
  EXPECT_EQ(c.status.routes_port, 8083);
  EXPECT_EQ(c.access_log.file, "/tmp/a.log");
}

// TLS to backends: PEM that OpenSSL cannot read stops the start naming the
// key, without echoing the value (it may be a private key).
TEST(ConfigTls, BadPemNamesTheKeyWithoutEchoingIt) {
  EXPECT_EQ(parse_error("ca_certs: not-a-certificate\n"),
            "ca_certs: not PEM certificates that OpenSSL can read");
  const std::string key_error = parse_error("backends:\n  cert_chain: x\n  private_key: secret-material\n");
  EXPECT_EQ(key_error.find("secret-material"), std::string::npos) << key_error;
  EXPECT_EQ(key_error.rfind("backends.cert_chain: ", 0), 0u) << key_error;
  EXPECT_EQ(parse_error("skip_ssl_validation: maybe\n"),
            "skip_ssl_validation: value \"maybe\" is not a boolean (true or false)");
  const Config defaults = parse_ok("");
  EXPECT_TRUE(defaults.ca_certs.empty());
  EXPECT_FALSE(defaults.skip_ssl_validation);
}

TEST(ConfigIgnored, IgnoredValuesAreNotValidated) {
  // Whatever an unimplemented key holds, it neither fails nor changes anything.
  Config c = parse_ok("enable_http2: not-a-bool\nroute_services_secret: [x]\nmax_idle_conns: -1\n");
  EXPECT_EQ(c.ignored_keys, (Strings{"enable_http2", "route_services_secret", "max_idle_conns"}));
}

}  // namespace
}  // namespace sy::config

namespace sy::config {
namespace {

// gorouter's access-log keys under `logging`: read, not reported as ignored.
TEST(ConfigLogging, AccessLogKeysUnderLogging) {
  auto loaded = parse_config(R"(logging:
  syslog: vcap.gorouter
  syslog_addr: 127.0.0.1:5514
  syslog_network: tcp
  redact_query_params: hash
  enable_attempts_details: true
  disable_log_forwarded_for: true
  disable_log_source_ip: true
  level: debug
)");
  ASSERT_TRUE(std::holds_alternative<Config>(loaded)) << std::get<ConfigError>(loaded).message;
  const Config& c = std::get<Config>(loaded);
  EXPECT_TRUE(c.ignored_keys.empty());
  EXPECT_EQ(c.access_log.syslog, "vcap.gorouter");
  EXPECT_EQ(c.access_log.syslog_addr, "127.0.0.1:5514");
  EXPECT_EQ(c.access_log.syslog_network, "tcp");
  EXPECT_EQ(c.access_log.redact_query_params, RedactQuery::hash);
  EXPECT_TRUE(c.access_log.enable_attempts_details);
  EXPECT_TRUE(c.access_log.disable_log_forwarded_for);
  EXPECT_TRUE(c.access_log.disable_log_source_ip);
  EXPECT_EQ(c.logging.level, "debug");
}

TEST(ConfigLogging, DefaultsAndBadValues) {
  auto loaded = parse_config("logging:\n  syslog: gr\n");
  ASSERT_TRUE(std::holds_alternative<Config>(loaded));
  const Config& c = std::get<Config>(loaded);
  EXPECT_EQ(c.access_log.syslog_addr, "127.0.0.1:514");
  EXPECT_EQ(c.access_log.syslog_network, "udp");
  EXPECT_EQ(c.access_log.redact_query_params, RedactQuery::none);
  auto error = [](const std::string& yaml) {
    auto r = parse_config(yaml);
    return std::holds_alternative<ConfigError>(r) ? std::get<ConfigError>(r).message : std::string("(loaded)");
  };
  EXPECT_EQ(error("logging:\n  redact_query_params: some\n"),
            "logging.redact_query_params: value \"some\" is not none, all or hash");
  EXPECT_EQ(error("logging:\n  syslog_network: udp6x\n"),
            "logging.syslog_network: value \"udp6x\" is not udp, tcp or unixgram");
  EXPECT_NE(error("logging:\n  syslog: gr\n  syslog_addr: nowhere\n").find("logging.syslog_addr"), std::string::npos);
  // A socket path is an address for unixgram.
  auto local = parse_config("logging:\n  syslog: gr\n  syslog_network: unixgram\n  syslog_addr: /dev/log\n");
  EXPECT_TRUE(std::holds_alternative<Config>(local));
}

}  // namespace
}  // namespace sy::config
