#pragma once
// The node's side of the agent's opening request (SPEC §5.2, §7): a
// WebSocket upgrade `GET /v1/tunnel` with Switchyard-Tunnel-Id, an optional
// Switchyard-Tunnel-Host label and, when the node has secrets, a Bearer
// token; optionally Switchyard-Tunnel-Protocol: tcp, a declared address
// (Switchyard-Tunnel-Address: IP:PORT) and an edge policy
// (Switchyard-Tunnel-Policy). Pure: the parsed head in, a verdict out; the listener writes the
// answer and decides 409 (ownership) afterwards, since that needs the node's
// state. Any thread.
#include <cstdint>
#include <string>
#include <vector>

#include "router/http/message.hpp"

namespace sy::tunnel {

struct HandshakeSettings {
  std::string domain;                // agent host names are <label>.<domain>
  std::vector<std::string> secrets;  // empty: no authentication
  bool tcp = false;                  // TCP tunnels allowed (tunnel.tcp_ports set)
};

struct HandshakeVerdict {
  int status = 400;     // 101, or 400 / 401 / 404 / 405 / 426
  std::string reason;   // one line for the agent (and the log)
  std::string id;       // the tunnel id
  std::string label;    // "" when none was asked for
  std::string host;     // <label>.<domain>, or md5(id)[:16].<domain>
  std::string accept;   // Sec-WebSocket-Accept (101)
  bool tcp = false;      // Switchyard-Tunnel-Protocol: tcp
  std::string address;   // Switchyard-Tunnel-Address, canonical IP:PORT ("" when none)
  std::string policy;    // Switchyard-Tunnel-Policy, checked wire text ("" when none)
  uint16_t tcp_port = 0; // the entry port, once admitted (the 101 says it)
};

HandshakeVerdict check_handshake(const http::RequestHead& head, const HandshakeSettings& settings, int64_t now_unix);

// The full answer: 101 with Sec-WebSocket-Accept and Switchyard-Tunnel-Host,
// or the status with the reason as a one-line plain-text body (and close).
std::string handshake_response(const HandshakeVerdict& verdict);

}  // namespace sy::tunnel
