#pragma once
// A WebSocket client for integration tests (Beast, run on a private
// io_context for a bounded time): connect to 127.0.0.1:port with a Host
// header, send messages one at a time and collect each reply.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sy::test {

struct WsMessage {
  bool binary = false;
  std::string payload;
  bool operator==(const WsMessage&) const = default;
};

struct WsResult {
  bool upgraded = false;            // the handshake got 101
  int handshake_status = 0;         // status of the handshake response (0: none)
  std::vector<WsMessage> received;  // one reply per message sent, in order
  bool closed_cleanly = false;      // our close frame was answered
  std::string error;                // first error, if any
};

// For each message in `messages`: send it, then read one message back.
// Finishes with a normal close. Everything is bounded by `timeout`.
WsResult websocket_exchange(uint16_t port, const std::string& host, const std::string& target,
                            const std::vector<WsMessage>& messages,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

}  // namespace sy::test
