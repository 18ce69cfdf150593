#pragma once
// What config/ shares with the other binaries' config readers (today the
// registrar's, registrar/config_parse.cpp): Key helpers for the common kinds
// of value, the sections every binary reads alike (`nats` in either gorouter
// style, `logging`), and the entry points from a file or YAML text to a root
// node to read. Start-up only, main thread.
//
// Errors: the Key helpers and section readers throw detail::Invalid whose
// message starts with the dotted key path (`nats.hosts[0].port: value "x" is
// not a port (1..65535)`); read_document() and load_file() catch it — and
// every other exception — and return a one-line ConfigError instead, so
// nothing escapes to the binaries.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_read.hpp"

namespace sy::config::detail {

// Keys (see read_map) that read one value of a kind into `out`, with the
// read_* function of that kind (yaml_read.hpp) and its error message.
Key string_key(std::string_view name, std::string& out);
Key host_key(std::string_view name, std::string& out);  // any non-empty string: "a host name or address"
Key bool_key(std::string_view name, bool& out);
Key port_key(std::string_view name, uint16_t& out);
Key millis_key(std::string_view name, Millis& out);
// `positive`: 0 fails with "a duration greater than zero".
Key seconds_key(std::string_view name, Seconds& out, bool positive = false);
// min..INT_MAX; `what` names the range in the message ("an integer >= 0").
Key int_key(std::string_view name, int& out, long long min, std::string_view what);
Key headers_key(std::string_view name, std::vector<std::string>& out);

// Makes a Key for a server's host name (host_key's signature); a binary with
// a stricter rule than host_key passes its own to read_nats().
using HostKey = Key (*)(std::string_view name, std::string& out);

// The keys of one server map, given the server they fill.
using ServerKeys = std::function<std::vector<Key>(NatsServer& server)>;

// A non-empty list of server maps at `path`, each read with keys_for(its
// server), which starts from NatsServer's defaults. Not a list: "a list of
// servers"; empty: "expected at least one server, got an empty list".
std::vector<NatsServer> read_servers(const YAML::Node& node, const std::string& path, const ServerKeys& keys_for,
                                     std::vector<std::string>& ignored);

// `nats:` in either gorouter style, into `nats`:
// - classic: a list of {host, port, user, pass} (credentials per server);
// - current: {hosts: [{hostname, port}], user, pass, tls_enabled,
//   reconnect_wait, ping_interval}; `tls_enabled: true` is listed in
//   `ignored` (plain NATS only), false is accepted silently.
// A server's host is read with `host` (default host_key), its port with
// port_key. Anything else: "a list of servers or a map with `hosts`".
void read_nats(const YAML::Node& node, const std::string& path, NatsConfig& nats, std::vector<std::string>& ignored,
               HostKey host = host_key);

// `logging: {file, level}`; the level is one of debug, info, warn, error.
// `more`: keys a binary reads there besides (switchyard's access log ones).
void read_logging(const YAML::Node& node, const std::string& path, LoggingConfig& logging,
                  std::vector<std::string>& ignored, std::vector<Key> more = {});

// Parses `text` as one YAML document (load_one_document) and passes its root
// to `read` — a null node when the text holds no document. Never throws:
// returns why it failed as a one-line ConfigError ("YAML syntax error at
// line L, column C: ...", "expected one YAML document, found a second at
// ...", an Invalid's message as is, "YAML error: ..." or "config error: ..."
// for any other exception while parsing or reading); nullopt = read.
std::optional<ConfigError> read_document(const std::string& text,
                                         const std::function<void(const YAML::Node& root)>& read);

// The bytes of the file at `path`, or a ConfigError
// `config file "<path>": cannot open: <reason>` (or `cannot read:`). Never throws.
std::variant<std::string, ConfigError> read_config_file(const std::string& path);

// read_config_file(path), then `parse` of its text; a parse error is
// prefixed with `config file "<path>": ` like the file's own. Never throws
// unless `parse` does.
template <class Parsed>
std::variant<Parsed, ConfigError> load_file(const std::string& path,
                                            std::variant<Parsed, ConfigError> (*parse)(const std::string& text)) {
  std::variant<std::string, ConfigError> text = read_config_file(path);
  if (auto* error = std::get_if<ConfigError>(&text)) return std::move(*error);
  std::variant<Parsed, ConfigError> result = parse(std::get<std::string>(text));
  if (auto* error = std::get_if<ConfigError>(&result)) error->message = "config file \"" + path + "\": " + error->message;
  return result;
}

}  // namespace sy::config::detail
