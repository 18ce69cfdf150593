#include "tunnel/agent/options.hpp"

#include <charconv>

#include "tunnel/identity/edge_policy.hpp"
#include "tunnel/identity/identity.hpp"

namespace sy::agent {

const char* const kUsage =
    "usage: switchyard-tunnel --server ws://HOST:PORT|wss://HOST:PORT [--server URL]...\n"
    "           --id ID [--token T] [--label L] --to HOST:PORT [--connections N] [--ca FILE]\n"
    "           [--tcp] [--advertise-address IP:PORT]\n"
    "           [--basic-auth USER:PASS] [--allow CIDR]... [--rate N/s|N/m]\n"
    "           [--log-level debug|info|warn|error]\n";

namespace {

bool parse_port(std::string_view text, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

// host:port, host alone (default_port), [v6]:port or [v6].
bool parse_host_port(std::string_view text, uint16_t default_port, std::string* host, uint16_t* port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    h = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() < 2)) return false;
    if (!rest.empty()) p = rest.substr(1);
    for (char c : h)
      if (!(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
        return false;
  } else {
    const size_t colon = text.rfind(':');
    h = colon == std::string_view::npos ? text : text.substr(0, colon);
    if (colon != std::string_view::npos) p = text.substr(colon + 1);
    if (colon != std::string_view::npos && p.empty()) return false;
    for (char c : h)
      if (!host_char(c)) return false;
  }
  if (h.empty()) return false;
  if (p.empty()) {
    if (default_port == 0) return false;
    *port = default_port;
  } else if (!parse_port(p, port)) {
    return false;
  }
  *host = std::string(h);
  return true;
}

bool header_safe(std::string_view value) {
  for (char c : value)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return !value.empty();
}

// The flags that take a value.
constexpr std::string_view kFlags[] = {"--server", "--id",  "--token", "--label",      "--to",
                                       "--connections", "--ca", "--log-level", "--advertise-address",
                                       "--basic-auth", "--allow", "--rate"};

bool apply_more(Options& o, std::string_view flag, std::string_view value, std::string* error) {
  if (flag == "--advertise-address") {
    std::optional<std::string> address = tunnel::canonical_address(value);
    if (!address) return *error = "bad --advertise-address (want IP:PORT, [IPv6]:PORT)", false;
    o.advertise_address = std::move(*address);
  } else if (flag == "--basic-auth") {
    if (value.find(':') == std::string_view::npos || value.front() == ':')
      return *error = "bad --basic-auth (want USER:PASS)", false;
    o.basic_auth = value;
  } else if (flag == "--allow") {
    o.allow.emplace_back(value);
  } else {  // --rate
    o.rate = value;
  }
  return true;
}

bool apply(Options& o, std::string_view flag, std::string_view value, std::string* error) {
  if (flag == "--server") {
    auto url = parse_server_url(value);
    if (!url) return *error = "bad --server URL (want ws://HOST:PORT or wss://HOST:PORT): " + std::string(value), false;
    o.servers.push_back(*url);
  } else if (flag == "--id") {
    if (!valid_tunnel_id(value)) return *error = "bad --id (1-64 of [A-Za-z0-9._-])", false;
    o.id = value;
  } else if (flag == "--token") {
    if (!header_safe(value)) return *error = "bad --token (visible ASCII, no spaces)", false;
    o.token = value;
  } else if (flag == "--label") {
    if (!valid_label(value)) return *error = "bad --label (a DNS label: 1-63 of [a-z0-9-])", false;
    o.label = value;
  } else if (flag == "--to") {
    if (!parse_host_port(value, 0, &o.to_host, &o.to_port)) return *error = "bad --to (want HOST:PORT)", false;
  } else if (flag == "--connections") {
    int n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > 64)
      return *error = "bad --connections (1..64)", false;
    o.connections = n;
  } else if (flag == "--ca") {
    if (value.empty()) return *error = "bad --ca (empty)", false;
    o.ca_file = value;
  } else if (flag != "--log-level") {
    return apply_more(o, flag, value, error);
  } else {
    if (value != "debug" && value != "info" && value != "warn" && value != "error")
      return *error = "bad --log-level", false;
    o.log_level = value;
  }
  return true;
}

}  // namespace

std::string ServerUrl::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::optional<ServerUrl> parse_server_url(std::string_view text) {
  ServerUrl url;
  url.text = std::string(text);
  std::string_view rest;
  if (text.substr(0, 5) == "ws://") {
    rest = text.substr(5);
  } else if (text.substr(0, 6) == "wss://") {
    url.tls = true;
    rest = text.substr(6);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos || rest.find('@') != std::string_view::npos) return std::nullopt;
  if (!parse_host_port(rest, url.tls ? 443 : 80, &url.host, &url.port)) return std::nullopt;
  return url;
}

bool valid_tunnel_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

ParseResult parse_options(const std::vector<std::string>& args) {
  ParseResult result;
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      result.help = true;
      return result;
    }
    if (arg == "--tcp") {
      o.tcp = true;
      continue;
    }
    std::string_view flag = arg, value;
    bool inline_value = false;
    if (const size_t eq = arg.find('='); arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    bool known = false;
    for (std::string_view f : kFlags) known = known || f == flag;
    if (!known) return result.error = "unknown argument: " + std::string(arg), result;
    if (!inline_value) {
      if (i + 1 >= args.size()) return result.error = "missing value for " + std::string(flag), result;
      value = args[++i];
    }
    if (!apply(o, flag, value, &result.error)) return result;
  }
  if (o.servers.empty()) return result.error = "missing --server", result;
  if (o.id.empty()) return result.error = "missing --id", result;
  if (o.to_host.empty()) return result.error = "missing --to", result;
  result.options = std::move(o);
  return result;
}

bool apply_edge_policy(Options& o, std::string* error) {
  if (o.tcp && !o.basic_auth.empty()) return *error = "--basic-auth needs an HTTP tunnel (not --tcp)", false;
  if (o.basic_auth.empty() && o.allow.empty() && o.rate.empty()) return true;
  std::optional<tunnel::EdgePolicy> policy = tunnel::make_edge_policy(o.basic_auth, o.allow, o.rate, error);
  if (!policy) return *error = "bad edge policy: " + *error, false;
  o.policy = tunnel::encode_edge_policy(*policy);
  return true;
}

}  // namespace sy::agent
