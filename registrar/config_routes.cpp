#include "registrar/config_routes.hpp"

#include "common/names/hostname.hpp"
#include "common/names/uri.hpp"
#include "config/readers.hpp"

namespace sy::registrar::parse_detail {
namespace {

namespace detail = config::detail;
using detail::Invalid;
using detail::Key;
using detail::port_key;
using detail::string_key;
using Node = YAML::Node;

// "20s", "1500ms": a duration as a config file would write it.
std::string duration_text(Millis d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

// "http://host[:port][/path][?query]" into `out`; false if it is not one.
bool parse_http_url(std::string_view text, HttpCheck* out) {
  constexpr std::string_view scheme = "http://";
  if (text.size() <= scheme.size() || text.substr(0, scheme.size()) != scheme) return false;
  std::string_view rest = text.substr(scheme.size());
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (target.front() == '?') target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host;
  uint16_t port = 80;
  if (!split_host_port(authority, host, port)) return false;
  out->url = std::string(text);
  out->host = std::string(host);
  out->port = port;
  out->target = target;
  return true;
}

std::string_view kind_of_key(std::string_view key) {
  if (key == "script_path" || key == "args") return "script";
  if (key == "url" || key == "expected_status") return "http";
  return "tcp";  // host, port
}

std::string read_name(const Node& node, const std::string& path) {
  std::string name = detail::read_string(node, path);
  if (name.empty()) detail::fail(path, node, "a non-empty name");
  return name;
}

void read_route_type(const Node& node, const std::string& path) {
  if (!node.IsScalar() || node.Scalar() != "http") {
    detail::fail(path, node, "http (tcp and sni routes need the routing API, which is not supported)");
  }
}

std::vector<std::string> read_uris(const Node& node, const std::string& path) {
  if (!node.IsSequence()) detail::fail(path, node, "a list of uris");
  if (node.size() == 0) throw Invalid{path + ": expected at least one uri, got an empty list"};
  std::vector<std::string> uris;
  for (size_t i = 0; i < node.size(); ++i) {
    const Node item = node[i];
    std::string item_path = detail::index(path, i);
    std::string text = detail::read_string(item, item_path);
    names::Uri uri;
    if (!names::parse_uri(text, &uri)) detail::fail(item_path, item, "a uri (host[/path], such as app.example.com/api)");
    uris.push_back(text);
  }
  return uris;
}

std::vector<std::pair<std::string, std::string>> read_tags(const Node& node, const std::string& path) {
  detail::require_map(node, path);
  std::vector<std::pair<std::string, std::string>> tags;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const Node key = it->first;
    const Node value = it->second;
    if (!key.IsScalar()) detail::fail(path, key, "a string key");
    std::string value_path = detail::join(path, key.Scalar());
    tags.emplace_back(key.Scalar(), value.IsNull() ? std::string() : detail::read_string(value, value_path));
  }
  return tags;
}

Key loadbalancing_key(std::string& out) {
  return {"loadbalancing", [&out](const Node& n, const std::string& p) {
            std::string lb = n.IsScalar() ? n.Scalar() : std::string();
            if (lb != "round-robin" && lb != "least-connection") {
              detail::fail(p, n, "a balancing algorithm (round-robin or least-connection)");
            }
            out = lb;
          }};
}

std::string read_route_service_url(const Node& node, const std::string& path) {
  std::string url = detail::read_string(node, path);
  if (!url.empty() && url.rfind("https://", 0) != 0) detail::fail(path, node, "an https:// URL");
  return url;
}

std::string read_protocol(const Node& node, const std::string& path) {
  std::string protocol = detail::read_string(node, path);
  if (protocol != "http1" && protocol != "http2") detail::fail(path, node, "a protocol (http1 or http2)");
  return protocol;
}

Millis read_positive_millis(const Node& node, const std::string& path, std::string_view example) {
  Millis value = detail::read_millis(node, path);
  if (value.count() <= 0) detail::fail(path, node, "a duration greater than zero (such as " + std::string(example) + ")");
  return value;
}

std::string read_check_type(const Node& node, const std::string& path) {
  std::string type = detail::read_string(node, path);
  if (type != "http" && type != "tcp" && type != "script") {
    detail::fail(path, node, "a health check type (http, tcp or script)");
  }
  return type;
}

std::vector<std::string> read_args(const Node& node, const std::string& path) {
  if (!node.IsSequence()) detail::fail(path, node, "a list of arguments");
  std::vector<std::string> args;
  for (size_t i = 0; i < node.size(); ++i) args.push_back(detail::read_string(node[i], detail::index(path, i)));
  return args;
}

// The keys of a health_check map that belong to one kind of check: each
// notes its key in `c.present` for complete_check().
std::vector<Key> check_kind_keys(CheckDraft& c) {
  auto mark = [&c](const std::string& p) { c.present.emplace_back(p.substr(p.rfind('.') + 1), p); };
  return {
      {"script_path", [&c, mark](const Node& n, const std::string& p) { c.script.path = read_name(n, p), mark(p); }},
      {"args", [&c, mark](const Node& n, const std::string& p) { c.script.args = read_args(n, p), mark(p); }},
      {"url",
       [&c, mark](const Node& n, const std::string& p) {
         if (!parse_http_url(detail::read_string(n, p), &c.http)) {
           detail::fail(p, n, "an http:// URL (such as http://127.0.0.1:8080/health)");
         }
         mark(p);
       }},
      {"expected_status",
       [&c, mark](const Node& n, const std::string& p) {
         c.http.expected_status = static_cast<int>(detail::read_int(n, p, 100, 599, "an HTTP status code (100..599)"));
         mark(p);
       }},
      {"host", [&c, mark](const Node& n, const std::string& p) { c.tcp.host = read_hostname(n, p), mark(p); }},
      {"port", [&c, mark](const Node& n, const std::string& p) { c.tcp.port = detail::read_port(n, p), mark(p); }},
  };
}

CheckDraft read_check(const Node& node, const std::string& path, std::vector<std::string>& ignored) {
  CheckDraft c;
  c.path = path;
  std::vector<Key> keys = check_kind_keys(c);
  keys.push_back(string_key("name", c.name));
  keys.push_back({"type", [&c](const Node& n, const std::string& p) { c.type = read_check_type(n, p); }});
  keys.push_back({"timeout", [&c](const Node& n, const std::string& p) {
                    c.timeout = read_positive_millis(n, p, "5s");
                    c.timeout_text = n.Scalar();
                  }});
  detail::read_map(node, path, keys, ignored);
  return c;
}

// The kind of check and its own rule: the keys it was given are all of that kind.
std::string check_kind(const CheckDraft& c) {
  std::string kind = c.type;
  if (kind.empty() && !c.present.empty()) kind = std::string(kind_of_key(c.present.front().first));
  if (kind.empty()) throw Invalid{c.path + ": expected script_path, url, or type: tcp (what to check)"};
  for (const auto& [key, key_path] : c.present) {
    if (kind_of_key(key) != kind) throw Invalid{key_path + ": not used by a check of type " + kind};
  }
  return kind;
}

// The check with its defaults (TCP: the route's host and port; timeout: half
// the interval) and its rules (what each kind needs; the timeout shorter).
HealthCheck complete_check(const CheckDraft& c, const RouteConfig& route) {
  std::string kind = check_kind(c);
  HealthCheck check;
  check.name = c.name.empty() ? route.name : c.name;
  const Registration& r = route.registration;
  if (kind == "script") {
    if (c.script.path.empty()) throw Invalid{c.path + ".script_path: missing (required for a script check)"};
    check.probe = c.script;
  } else if (kind == "http") {
    if (c.http.host.empty()) throw Invalid{c.path + ".url: missing (required for an http check)"};
    check.probe = c.http;
  } else {
    TcpCheck tcp = c.tcp;
    if (tcp.host.empty()) tcp.host = r.host;
    if (tcp.port == 0) tcp.port = r.port != 0 ? r.port : r.tls_port;
    check.probe = tcp;
  }
  Millis interval = route.registration_interval;
  check.timeout = c.timeout.value_or(interval / 2);
  if (check.timeout >= interval) {
    throw Invalid{c.path + ".timeout: value \"" + c.timeout_text + "\" is not shorter than registration_interval (" +
                  duration_text(interval) + ")"};
  }
  if (check.timeout.count() <= 0) check.timeout = Millis(1);
  return check;
}

}  // namespace

bool split_host_port(std::string_view text, std::string_view& host, uint16_t& port) {
  host = text;
  size_t colon = text.rfind(':');
  bool bracketed = !text.empty() && text.front() == '[';
  if (colon != std::string_view::npos && (bracketed ? text[colon - 1] == ']' : text.find(':') == colon)) {
    std::string_view digits = text.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
    long value = std::stol(std::string(digits));
    if (value < 1 || value > 65535) return false;
    port = static_cast<uint16_t>(value);
    host = text.substr(0, colon);
  }
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  }
  return names::valid_hostname(host);
}

std::string read_hostname(const Node& node, const std::string& path) {
  std::string host = detail::read_string(node, path);
  if (!names::valid_hostname(host)) detail::fail(path, node, "a host name or IP address");
  return host;
}

Key hostname_key(std::string_view name, std::string& out) {
  return {name, [&out](const Node& n, const std::string& p) { out = read_hostname(n, p); }};
}

RouteDraft read_route(const Node& node, const std::string& path, std::vector<std::string>& ignored) {
  RouteDraft d;
  d.path = path;
  Registration& r = d.route.registration;
  std::vector<Key> keys{
      {"name", [&d](const Node& n, const std::string& p) { d.route.name = read_name(n, p), d.has_name = true; }},
      {"type", [](const Node& n, const std::string& p) { read_route_type(n, p); }},
      {"host", [&d, &r](const Node& n, const std::string& p) { r.host = read_hostname(n, p), d.has_host = true; }},
      port_key("port", r.port),
      port_key("tls_port", r.tls_port),
      {"uris", [&d, &r](const Node& n, const std::string& p) { r.uris = read_uris(n, p), d.has_uris = true; }},
      {"tags", [&r](const Node& n, const std::string& p) { r.tags = read_tags(n, p); }},
      {"registration_interval",
       [&d](const Node& n, const std::string& p) { d.route.registration_interval = read_positive_millis(n, p, "20s"); }},
      {"options", [&r, &ignored](const Node& n, const std::string& p) {
         detail::read_map(n, p, {loadbalancing_key(r.loadbalancing)}, ignored);
       }},
      string_key("server_cert_domain_san", r.server_cert_domain_san),
      {"route_service_url", [&r](const Node& n, const std::string& p) { r.route_service_url = read_route_service_url(n, p); }},
      {"protocol", [&r](const Node& n, const std::string& p) { r.protocol = read_protocol(n, p); }},
      {"availability_zone",
       [&d, &r](const Node& n, const std::string& p) { r.availability_zone = detail::read_string(n, p), d.has_zone = true; }},
      {"health_check", [&d, &ignored](const Node& n, const std::string& p) { d.check = read_check(n, p, ignored); }},
  };
  detail::read_map(node, path, keys, ignored);
  return d;
}

RouteConfig complete_route(const RouteDraft& d, const std::string& default_host, const std::string& default_zone) {
  RouteConfig route = d.route;
  Registration& r = route.registration;
  if (!d.has_name) throw Invalid{d.path + ".name: missing (every route needs a name)"};
  if (!d.has_host) r.host = default_host;
  if (r.host.empty()) throw Invalid{d.path + ".host: missing (set it on the route or at the top level)"};
  if (r.port == 0 && r.tls_port == 0) throw Invalid{d.path + ".port: missing (give port or tls_port)"};
  if (r.tls_port != 0 && r.server_cert_domain_san.empty()) {
    throw Invalid{d.path + ".server_cert_domain_san: missing (required with tls_port)"};
  }
  if (!d.has_uris) throw Invalid{d.path + ".uris: missing (a list of at least one uri)"};
  if (route.registration_interval.count() <= 0) throw Invalid{d.path + ".registration_interval: missing (such as 20s)"};
  if (!d.has_zone) r.availability_zone = default_zone;
  if (d.check) route.health_check = complete_check(*d.check, route);
  return route;
}

}  // namespace sy::registrar::parse_detail
