#include "config/readers.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "common/log/log.hpp"

namespace sy::config::detail {
namespace {

using Node = YAML::Node;

// The value of `text`'s one YAML document, or why there is none to read.
std::variant<Node, ConfigError> load_yaml(const std::string& text) {
  try {
    return load_one_document(text);
  } catch (const Invalid& e) {
    return ConfigError{e.message};
  } catch (const YAML::Exception& e) {
    return ConfigError{"YAML syntax error at " + describe_mark(e.mark, text) + ": " + one_line(e.msg)};
  } catch (const std::exception& e) {
    return ConfigError{"YAML error: " + one_line(e.what())};
  }
}

}  // namespace

Key string_key(std::string_view name, std::string& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_string(n, p); }};
}
Key host_key(std::string_view name, std::string& out) {
  return {name, [&out](const Node& n, const std::string& p) {
            out = read_string(n, p);
            if (out.empty()) fail(p, n, "a host name or address");
          }};
}
Key bool_key(std::string_view name, bool& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_bool(n, p); }};
}
Key port_key(std::string_view name, uint16_t& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_port(n, p); }};
}
Key millis_key(std::string_view name, Millis& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_millis(n, p); }};
}
Key seconds_key(std::string_view name, Seconds& out, bool positive) {
  return {name, [&out, positive](const Node& n, const std::string& p) {
            out = read_seconds(n, p);
            if (positive && out.count() == 0) fail(p, n, "a duration greater than zero");
          }};
}
Key int_key(std::string_view name, int& out, long long min, std::string_view what) {
  return {name, [&out, min, what](const Node& n, const std::string& p) {
            out = static_cast<int>(read_int(n, p, min, std::numeric_limits<int>::max(), what));
          }};
}
Key headers_key(std::string_view name, std::vector<std::string>& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_header_list(n, p); }};
}

std::vector<NatsServer> read_servers(const Node& node, const std::string& path, const ServerKeys& keys_for,
                                     std::vector<std::string>& ignored) {
  if (!node.IsSequence()) fail(path, node, "a list of servers");
  if (node.size() == 0) throw Invalid{path + ": expected at least one server, got an empty list"};
  std::vector<NatsServer> servers(node.size());
  for (size_t i = 0; i < node.size(); ++i) read_map(node[i], index(path, i), keys_for(servers[i]), ignored);
  return servers;
}

void read_nats(const Node& node, const std::string& path, NatsConfig& nats, std::vector<std::string>& ignored,
               HostKey host) {
  if (node.IsSequence()) {  // classic
    nats.servers = read_servers(node, path, [host](NatsServer& s) {
      return std::vector<Key>{host("host", s.host), port_key("port", s.port), string_key("user", s.user),
                              string_key("pass", s.pass)};
    }, ignored);
    return;
  }
  if (!node.IsMap()) fail(path, node, "a list of servers or a map with `hosts`");
  ServerKeys hosts = [host](NatsServer& s) { return std::vector<Key>{host("hostname", s.host), port_key("port", s.port)}; };
  read_map(node, path,
           {{"hosts", [&](const Node& n, const std::string& p) { nats.servers = read_servers(n, p, hosts, ignored); }},
            string_key("user", nats.user),
            string_key("pass", nats.pass),
            {"tls_enabled",
             [&ignored](const Node& n, const std::string& p) {
               if (read_bool(n, p)) ignored.push_back(p);  // false: plain NATS, as implemented
             }},
            millis_key("reconnect_wait", nats.reconnect_wait),
            millis_key("ping_interval", nats.ping_interval)},
           ignored);
}

void read_logging(const Node& node, const std::string& path, LoggingConfig& logging, std::vector<std::string>& ignored,
                  std::vector<Key> more) {
  Key level{"level", [&logging](const Node& n, const std::string& p) {
              bool ok = false;
              logging.level = read_string(n, p);
              log::parse_level(logging.level, &ok);
              if (!ok) fail(p, n, "a log level (debug, info, warn or error)");
            }};
  more.push_back(string_key("file", logging.file));
  more.push_back(level);
  read_map(node, path, more, ignored);
}

std::optional<ConfigError> read_document(const std::string& text, const std::function<void(const Node& root)>& read) {
  std::variant<Node, ConfigError> root = load_yaml(text);
  if (auto* error = std::get_if<ConfigError>(&root)) return std::move(*error);
  try {
    read(std::get<Node>(root));
  } catch (const Invalid& e) {
    return ConfigError{e.message};
  } catch (const std::exception& e) {  // yaml-cpp's own, or bad_alloc
    return ConfigError{"config error: " + one_line(e.what())};
  }
  return std::nullopt;
}

std::variant<std::string, ConfigError> read_config_file(const std::string& path) {
  const std::string prefix = "config file \"" + path + "\": ";
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return ConfigError{prefix + "cannot open: " + std::strerror(errno)};
  std::string text;
  char buffer[8192];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) return ConfigError{prefix + "cannot read: " + std::strerror(errno)};
  return text;
}

}  // namespace sy::config::detail
