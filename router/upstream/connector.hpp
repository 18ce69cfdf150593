#pragma once
// Connector: the one way the proxy opens a stream to an endpoint. TCP to a
// backend is the first implementation; the tunnel adds "into a local yamux
// session" and "to the node that owns the tunnel".
//
// Threading: one Connector per worker; open()/release() run on that worker.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "router/route/endpoint.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::upstream {

// Errors a connector reports besides system errors (classification for
// retries and for the error table lives in proxy/errors).
enum class OpenError {
  none,
  connect_failed,   // refused, unreachable, reset: nothing was sent -> retriable
  connect_timeout,  // dial deadline passed -> retriable
  no_tunnel,        // tunnel endpoint without a live session -> retriable
  tls_failed,       // TLS handshake or certificate check failed -> retriable
};

struct OpenResult {
  OpenError error = OpenError::none;
  error_code ec;                        // the underlying cause, for logs
  std::unique_ptr<ByteStream> stream;
  bool reused = false;                  // came from the keep-alive pool
  std::string extra_headers;            // "Name: value\r\n"... to add to the request head
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Opens (or reuses) a stream to `endpoint`, giving up at `deadline`.
  // `allow_reuse` false forces a fresh stream (after a pooled one turned out dead).
  virtual asio::awaitable<OpenResult> open(const route::Endpoint& endpoint, route::TimePoint deadline,
                                           bool allow_reuse) = 0;
  // Returns a stream whose last exchange ended cleanly, for reuse.
  virtual void release(const route::Endpoint& endpoint, std::unique_ptr<ByteStream> stream) = 0;
  // Periodic housekeeping (drop expired idle streams); called by the worker.
  virtual void sweep(route::TimePoint /*now*/) {}
};

}  // namespace sy::upstream
