#pragma once
// The node's side of the agent's opening request (SPEC §5.2): a WebSocket
// upgrade `GET /v1/tunnel` with Switchyard-Tunnel-Id, an optional
// Switchyard-Tunnel-Host label and, when the node has secrets, a Bearer
// token. Pure: the parsed head in, a verdict out; the listener writes the
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
};

struct HandshakeVerdict {
  int status = 400;     // 101, or 400 / 401 / 404 / 405 / 426
  std::string reason;   // one line for the agent (and the log)
  std::string id;       // the tunnel id
  std::string label;    // "" when none was asked for
  std::string host;     // <label>.<domain>, or md5(id)[:16].<domain>
  std::string accept;   // Sec-WebSocket-Accept (101)
};

HandshakeVerdict check_handshake(const http::RequestHead& head, const HandshakeSettings& settings, int64_t now_unix);

// The full answer: 101 with Sec-WebSocket-Accept and Switchyard-Tunnel-Host,
// or the status with the reason as a one-line plain-text body (and close).
std::string handshake_response(const HandshakeVerdict& verdict);

}  // namespace sy::tunnel
