#pragma once
// NodeConnection: the agent's byte stream to one node — TCP (ws://) or TLS
// over TCP (wss://) — on an io::Socket of the agent's Poller, TCP_NODELAY.
//
// connect() resolves the server's host and tries each address in turn; for
// wss it then runs the TLS handshake with SNI and host-name verification
// against the context's CAs (system CAs or --ca). A deadline (arm_deadline)
// closes the connection from a timer when the connect + upgrade handshake
// take too long: the pending operation then fails with operation_aborted.
// It holds only a weak reference, so the connection may go first.
//
// At most one read_some and one write in flight at a time (one reader and
// one writer coroutine per session). write() writes everything or fails.
// Over plain TCP both make their own non-blocking syscalls and wait for
// readiness only when the socket is drained (full), so a read or write that
// can be done at once completes without a posted completion.
// Errors come back as error_code; nothing here throws after construction.
// close() is idempotent and completes pending operations with
// operation_aborted.
//
// Threading: the agent's io_context thread only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <tuple>

#include "router/io/poller.hpp"
#include "router/io/socket.hpp"
#include "tunnel/agent/options.hpp"

namespace sy::agent {

namespace asio = boost::asio;
using boost::system::error_code;

class NodeConnection {
 public:
  // `tls`: the client context for wss servers (may be null for ws).
  NodeConnection(io::Poller& poller, asio::ssl::context* tls);
  // An already connected plain socket (tests: one end of a socketpair).
  NodeConnection(io::Poller& poller, int connected_fd);
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  asio::awaitable<error_code> connect(const ServerUrl& server);
  asio::awaitable<std::tuple<error_code, size_t>> read_some(asio::mutable_buffer buffer);
  asio::awaitable<error_code> write(asio::const_buffer buffer);
  void close();
  bool is_open() const { return socket_.is_open(); }

  static void arm_deadline(const std::shared_ptr<NodeConnection>& connection, std::chrono::steady_clock::duration d);
  void disarm_deadline() { deadline_.cancel(); }

 private:
  io::Socket socket_;
  asio::ssl::context* tls_context_;
  std::optional<asio::ssl::stream<io::Socket&>> tls_;
  asio::steady_timer deadline_;
  bool read_drained_ = false;  // the last plain read was short: wait for an edge first
};

}  // namespace sy::agent
