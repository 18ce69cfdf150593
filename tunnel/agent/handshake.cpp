#include "tunnel/agent/handshake.hpp"

#include <charconv>

#include "router/http/head_parser.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::agent {

namespace {

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (http::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string one_line(std::string_view text) {
  const size_t end = text.find_first_of("\r\n");
  if (end != std::string_view::npos) text = text.substr(0, end);
  if (text.size() > 200) text = text.substr(0, 200);
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == ':'))
      return false;
  return true;
}

HandshakeResult retry(int status, std::string reason) {
  HandshakeResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::string upgrade_request(const ServerUrl& server, const Options& options, std::string_view key) {
  std::string out;
  out.reserve(256 + options.token.size());
  out.append("GET /v1/tunnel HTTP/1.1\r\nHost: ").append(server.authority());
  out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  out.append(key).append("\r\nSwitchyard-Tunnel-Id: ").append(options.id).append("\r\n");
  if (!options.token.empty()) out.append("Authorization: Bearer ").append(options.token).append("\r\n");
  if (!options.label.empty()) out.append("Switchyard-Tunnel-Host: ").append(options.label).append("\r\n");
  if (options.tcp) out.append("Switchyard-Tunnel-Protocol: tcp\r\n");
  if (!options.advertise_address.empty())
    out.append("Switchyard-Tunnel-Address: ").append(options.advertise_address).append("\r\n");
  if (!options.policy.empty()) out.append("Switchyard-Tunnel-Policy: ").append(options.policy).append("\r\n");
  out.append("User-Agent: switchyard-tunnel\r\n\r\n");
  return out;
}

HandshakeResult check_upgrade_response(char* head, size_t length, std::string_view key, std::string_view body) {
  http::ResponseHead response;
  http::HeadLimits limits;
  limits.max_bytes = kMaxResponseHead;
  limits.max_fields = 64;
  if (const http::HeadError e = http::parse_response_head(head, length, limits, &response); e != http::HeadError::none)
    return retry(0, "malformed response head: " + std::string(http::to_string(e)));
  const int status = response.status;
  if (status != 101) {
    HandshakeResult r = retry(status, one_line(body.empty() ? response.reason : body));
    if (r.reason.empty()) r.reason = one_line(response.reason);
    if (status == 401 || status == 409 || status == 400) {
      r.verdict = Verdict::refused;
      r.exit_code = status == 400 ? 2 : 3;
    }
    return r;
  }
  if (!http::iequals(response.find("Upgrade"), "websocket") || !has_token(response.find("Connection"), "upgrade"))
    return retry(status, "101 without Upgrade: websocket / Connection: upgrade");
  if (response.find("Sec-WebSocket-Accept") != ws::accept_key(key))
    return retry(status, "101 with a wrong Sec-WebSocket-Accept");
  if (!response.find("Sec-WebSocket-Extensions").empty() || !response.find("Sec-WebSocket-Protocol").empty())
    return retry(status, "101 with an extension or subprotocol that was not asked for");
  const std::string_view host = response.find("Switchyard-Tunnel-Host");
  if (!valid_host_name(host)) return retry(status, "101 without a valid Switchyard-Tunnel-Host");
  HandshakeResult r;
  r.verdict = Verdict::accepted;
  r.status = status;
  r.host = std::string(host);
  const std::string_view port = response.find("Switchyard-Tunnel-Port");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (!port.empty() && ec == std::errc() && end == port.data() + port.size() && value > 0 && value < 65536)
    r.tcp_port = static_cast<uint16_t>(value);
  return r;
}

}  // namespace sy::agent
