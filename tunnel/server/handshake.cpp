#include "tunnel/server/handshake.hpp"

#include "tunnel/identity/edge_policy.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::tunnel {
namespace {

HandshakeVerdict refuse(int status, std::string reason) {
  HandshakeVerdict v;
  v.status = status;
  v.reason = std::move(reason);
  return v;
}

const char* token_problem(TokenCheck check) {
  switch (check) {
    case TokenCheck::malformed: return "malformed token";
    case TokenCheck::bad_signature: return "token does not match this id and label";
    case TokenCheck::expired: return "token expired";
    case TokenCheck::ok: break;
  }
  return "";
}

// "Bearer <token>" (the scheme is case-insensitive); "" when absent.
std::string_view bearer(std::string_view authorization) {
  if (authorization.size() < 7 || !http::iequals(authorization.substr(0, 7), "bearer ")) return {};
  std::string_view t = authorization.substr(7);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return t;
}

bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (http::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

HandshakeVerdict check_handshake(const http::RequestHead& head, const HandshakeSettings& settings, int64_t now_unix) {
  if (head.path() != "/v1/tunnel") return refuse(404, "no such path: the tunnel endpoint is /v1/tunnel");
  if (head.method != "GET") return refuse(405, "the tunnel endpoint takes GET");
  if (!head.upgrade || !lists_token(head.upgrade_protocol, "websocket") || head.find("sec-websocket-version") != "13")
    return refuse(426, "expected a WebSocket upgrade (version 13)");
  const std::string_view key = head.find("sec-websocket-key");
  if (!ws::valid_client_key(key)) return refuse(400, "bad Sec-WebSocket-Key");
  HandshakeVerdict v;
  v.id = std::string(head.find("switchyard-tunnel-id"));
  if (!valid_tunnel_id(v.id)) return refuse(400, "bad Switchyard-Tunnel-Id: 1-64 of [A-Za-z0-9._-]");
  v.label = std::string(head.find("switchyard-tunnel-host"));
  if (!v.label.empty() && !valid_label(v.label)) return refuse(400, "bad Switchyard-Tunnel-Host: a DNS label [a-z0-9-]");
  if (!settings.secrets.empty()) {
    const std::string_view token = bearer(head.find("authorization"));
    if (token.empty()) return refuse(401, "missing Authorization: Bearer <token>");
    TokenCheck check = check_token(settings.secrets, token, v.id, v.label, now_unix);
    if (check != TokenCheck::ok) return refuse(401, token_problem(check));
  }
  const std::string_view protocol = head.find("switchyard-tunnel-protocol");
  if (!protocol.empty() && protocol != "tcp" && protocol != "http")
    return refuse(400, "bad Switchyard-Tunnel-Protocol: http or tcp");
  v.tcp = protocol == "tcp";
  if (v.tcp && !settings.tcp) return refuse(400, "this node takes no TCP tunnels (tunnel.tcp_ports is not set)");
  if (const std::string_view address = head.find("switchyard-tunnel-address"); !address.empty()) {
    std::optional<std::string> canonical = canonical_address(address);
    if (!canonical) return refuse(400, "bad Switchyard-Tunnel-Address: IP:PORT");
    v.address = std::move(*canonical);
  }
  if (const std::string_view policy = head.find("switchyard-tunnel-policy"); !policy.empty()) {
    std::string error;
    std::optional<EdgePolicy> parsed = decode_edge_policy(policy, &error);
    if (!parsed) return refuse(400, "bad Switchyard-Tunnel-Policy: " + error);
    v.policy = encode_edge_policy(*parsed);
  }
  v.host = tunnel_host(v.id, v.label, settings.domain);
  v.accept = ws::accept_key(key);
  v.status = 101;
  v.reason = "ok";
  return v;
}

std::string handshake_response(const HandshakeVerdict& v) {
  if (v.status == 101) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
           v.accept + "\r\nSwitchyard-Tunnel-Host: " + v.host +
           (v.tcp_port ? "\r\nSwitchyard-Tunnel-Port: " + std::to_string(v.tcp_port) : std::string()) + "\r\n\r\n";
  }
  static constexpr std::pair<int, const char*> kReasons[] = {
      {400, "Bad Request"}, {401, "Unauthorized"}, {404, "Not Found"}, {405, "Method Not Allowed"},
      {409, "Conflict"},    {426, "Upgrade Required"}, {503, "Service Unavailable"}};
  const char* phrase = "Bad Request";
  for (const auto& [code, text] : kReasons)
    if (code == v.status) phrase = text;
  const std::string body = v.reason + "\n";
  return "HTTP/1.1 " + std::to_string(v.status) + " " + phrase +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace sy::tunnel
