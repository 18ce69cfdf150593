#pragma once
// Connector: the one way the proxy opens a stream to an endpoint. Three
// families plug in here and the proxy cannot tell them apart: TCP/TLS to a
// backend (TcpConnector), a yamux stream in a tunnel session this node holds,
// and a pooled connection to the node that holds a tunnel (tunnel/). A
// dispatching connector picks one by the endpoint's kind().
//
// Threading: one Connector per worker; open()/release()/sweep() run on that
// worker. The streams it returns follow byte_stream.hpp's contract.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "router/http/message.hpp"
#include "router/outcome/outcome.hpp"
#include "router/route/endpoint.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::upstream {

// What a connector may read of the request it opens a stream for, and add to
// it: a node connector adds the forwarded-node header, a tunnel connector
// refuses a request that already went through this node (a loop).
struct OpenRequest {
  const http::RequestHead* head = nullptr;  // valid during open() only
  std::string_view request_id;              // X-Vcap-Request-Id
  std::string_view client_ip;
  route::TimePoint deadline;                // give up by then (endpoint_timeout)
  bool allow_reuse = true;                  // false: a fresh stream (a pooled one turned out dead)
};

// Which of gorouter's TLS counters a failed handshake belongs to
// (handshake: 525 ssl_handshake_error; the others: 526 ssl_certificate_error).
enum class TlsFailure : uint8_t {
  none,
  hostname_mismatch,  // backend_invalid_id: the certificate names another instance
  invalid_cert,       // backend_invalid_tls_cert: it did not verify
  handshake,          // backend_tls_handshake_failed: anything else
};

struct OpenResult {
  // none: `stream` is open. Otherwise why not, as a row of the outcome table
  // (dial_failed, dial_timeout, ssl_*_error, no_tunnel: another endpoint may
  // serve the request; forwarding_loop: no endpoint may).
  std::optional<outcome::Failure> failure;
  std::string detail;                   // endpoint_failure (<detail>), for the client and the logs
  std::unique_ptr<ByteStream> stream;
  bool reused = false;                  // came from the keep-alive pool (may be stale)
  bool to_node = false;                 // leads to another Switchyard node (its 502 tunnel_not_here is retriable)
  bool keep_forwarded_for = false;      // a node forwarded the request (verified): append no hop to X-Forwarded-For
  std::string extra_headers;            // "Name: value\r\n"... to add to the request head
  TlsFailure tls_failure = TlsFailure::none;  // ssl_*_error: why
  // A stream made now (not pooled): the time spent resolving, connecting and
  // in the TLS handshake (the access log's attempt details; zero if none).
  std::chrono::nanoseconds dns_time{0}, dial_time{0}, tls_time{0};
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Opens (or reuses) a stream to `endpoint` for `request`.
  virtual asio::awaitable<OpenResult> open(const route::Endpoint& endpoint, const OpenRequest& request) = 0;
  // Returns a stream whose last exchange ended cleanly, for reuse.
  virtual void release(const route::Endpoint& endpoint, std::unique_ptr<ByteStream> stream) = 0;
  // Periodic housekeeping (drop expired idle streams); called by the worker.
  virtual void sweep(route::TimePoint /*now*/) {}
};

}  // namespace sy::upstream
