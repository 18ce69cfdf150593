#pragma once
// A raw TCP client for integration tests that need byte-level control over
// what is sent (half a request head, garbage, a PROXY protocol header) or
// need to see when the peer closes the connection. 127.0.0.1 unless told; every
// read is bounded by a timeout. Used from one thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::test {

// One HTTP/1.x response read off a raw connection.
struct RawResponse {
  bool complete = false;  // head and body were read
  int status = 0;         // from the status line; 0 if none
  std::string head;       // status line and headers, without the blank line
  std::string body;       // decoded when the response was chunked

  // First value of a header (case-insensitive name), "" if absent.
  std::string header(std::string_view name) const;
};

class RawSocket {
 public:
  RawSocket() = default;
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Connects to 127.0.0.1:port (blocking connect on loopback).
  bool connect(uint16_t port);
  // Connects to ipv4:port (a dotted IPv4 address).
  bool connect(const std::string& ipv4, uint16_t port);
  // The local (ephemeral) port of the connection; 0 if not connected.
  uint16_t local_port() const;
  // Writes everything; false on error (e.g. the peer reset the connection).
  bool send(std::string_view data);
  // Waits until the peer closes the connection (EOF or reset) or `timeout`
  // passes (0: only looks); bytes that arrive meanwhile are appended to
  // received(). True if it closed.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Writes as much of `data` as the peer takes within `timeout`, reading
  // whatever arrives meanwhile into received(); stops early when the peer
  // closes or resets. True if everything was written.
  bool send_while_open(std::string_view data, std::chrono::milliseconds timeout);
  // Reads one response within `timeout`: the head, then the body as RFC 9112
  // frames it (none for 1xx, 204 and 304, or when `no_body`, say for HEAD;
  // chunked, decoded; Content-Length; else up to EOF). Bytes left over stay
  // buffered for the next call.
  RawResponse read_response(std::chrono::milliseconds timeout, bool no_body = false);
  // Bytes written but not yet read by the process at the other end: this
  // socket's send queue plus the peer socket's receive queue (loopback, so
  // both are on this host; the latter from /proc/net/tcp). nullopt when the
  // peer socket is gone. 0 is the positive signal that the peer has read
  // everything sent so far.
  std::optional<size_t> unread_by_peer() const;
  // True once EOF or a reset was seen.
  bool peer_closed() const { return peer_closed_; }
  // Every byte received and not yet consumed by read_response().
  const std::string& received() const { return buffer_; }
  void close();
  // Sends a FIN and keeps reading (a half-close).
  bool shutdown_write();

 private:
  // One poll+recv bounded by `deadline`: false on timeout or when closed.
  bool read_more(std::chrono::steady_clock::time_point deadline);
  // Decodes a chunked body starting at `at`; npos until it is all there.
  size_t read_chunked(size_t at, std::chrono::steady_clock::time_point deadline, std::string* body);

  int fd_ = -1;
  bool peer_closed_ = false;
  std::string buffer_;
};

}  // namespace sy::test
