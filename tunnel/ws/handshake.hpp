#pragma once
// The two computations of the RFC 6455 opening handshake that are not HTTP
// parsing: checking a client's Sec-WebSocket-Key and deriving the server's
// Sec-WebSocket-Accept. (The upgrade request itself is parsed by the HTTP
// layer that owns the listener.)
#include <span>
#include <string>
#include <string_view>

namespace sy::ws {

// True for the base64 encoding of exactly 16 bytes (24 characters, "==").
bool valid_client_key(std::string_view key);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view client_key);

// A client's Sec-WebSocket-Key from 16 bytes of randomness.
std::string make_client_key(std::span<const unsigned char, 16> random);

}  // namespace sy::ws
