#pragma once
// The agent's side of the tunnel's opening handshake (SPEC §5.2): the
// WebSocket upgrade request it sends, and the verdict on the node's answer.
//
//   101 with Upgrade: websocket, Connection: upgrade, the right
//       Sec-WebSocket-Accept, no extension or subprotocol we did not ask
//       for, and a Switchyard-Tunnel-Host  -> accepted (host = that header)
//   401 (bad token), 409 (host held by another id) -> refused, exit 3
//   400 (bad id or label)                        -> refused, exit 2
//   anything else (a 101 that fails a check, 5xx, a proxy's 404 ...) -> retry
//       with backoff: a node being replaced must not stop the agent.
//
// The reason is the first line of the response body when there is one (the
// node sends a one-line plain-text reason), else the status line's reason
// phrase; non-printable bytes become '?', and it is cut at 200 bytes.
//
// Pure; any thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tunnel/agent/options.hpp"

namespace sy::agent {

// The request text, CRLF-terminated head, no body. `key` is the
// Sec-WebSocket-Key (ws::make_client_key).
std::string upgrade_request(const ServerUrl& server, const Options& options, std::string_view key);

enum class Verdict { accepted, refused, retry };

struct HandshakeResult {
  Verdict verdict = Verdict::retry;
  int status = 0;       // 0: the head did not parse
  int exit_code = 0;    // refused: 3 (401/409) or 2 (400)
  std::string host;     // accepted: the host name the node gave us
  uint16_t tcp_port = 0;  // accepted TCP tunnel: the node's entry port for it
  std::string reason;   // refused / retry: why, one line
};

// `head` is a complete response head (HeadScanner said so), writable for the
// strict parser; `body` is what arrived after it (at most a few hundred
// bytes are looked at).
HandshakeResult check_upgrade_response(char* head, size_t length, std::string_view key, std::string_view body);

// The size limit for the node's response head, and how much body is read for a reason.
inline constexpr size_t kMaxResponseHead = 8 * 1024;
inline constexpr size_t kMaxReasonBody = 512;

}  // namespace sy::agent
