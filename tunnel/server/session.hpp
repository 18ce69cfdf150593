#pragma once
// TunnelSession: one agent connection on the tunnel listener, from the
// opening request to the end of its yamux session (SPEC §5.2). It is a
// proxy::Connection of the worker that accepted it, so the worker's tick
// runs its keepalive and handshake deadline, a drain sends yamux GoAway
// (the agent opens a replacement elsewhere, then closes this one), and the
// worker counts it.
//
// Two coroutines own the socket once the session runs: the reader (socket
// → WebSocket frames → yamux → the streams' waiting reads) and the writer
// (yamux output and control frames → one gathered write). The reader stops
// feeding while yamux's output is over its bound and waits for the writer,
// so an agent cannot grow the node's memory by sending faster than the node
// can answer. An idle session holds no read buffer.
//
// Threading: the accepting worker only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "router/io/socket.hpp"
#include "router/proxy/client_stream.hpp"
#include "router/proxy/connection.hpp"
#include "router/proxy/io_buffer.hpp"
#include "tunnel/server/core.hpp"
#include "tunnel/server/handshake.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;

// What the tunnel listener does with an accepted socket (a ServeFn); with
// `tls` (tunnel.tls) the agent speaks wss:// and the TLS handshake comes first.
boost::asio::awaitable<void> serve_agent(TunnelNode& node, proxy::Worker& worker, int fd,
                                         boost::asio::ip::tcp::endpoint peer,
                                         std::shared_ptr<const tls::ServerContexts> tls = nullptr);

class TunnelSession final : public proxy::Connection {
 public:
  static constexpr size_t kMaxHandshake = 8 * 1024;
  static constexpr std::chrono::seconds kHandshakeTimeout{10};
  static constexpr std::chrono::seconds kCloseGrace{5};

  TunnelSession(TunnelNode& node, proxy::Worker& worker, int fd, const boost::asio::ip::tcp::endpoint& peer,
                std::shared_ptr<const tls::ServerContexts> tls);
  ~TunnelSession() override;
  boost::asio::awaitable<void> run();

  void check_deadline(route::TimePoint now) override;
  void drain() override;
  void abort() override;

 private:
  boost::asio::awaitable<bool> tls_handshake();
  boost::asio::awaitable<bool> handshake();
  void admit(HandshakeVerdict& verdict);
  boost::asio::awaitable<bool> answer(const std::string& response);
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  // Decodes and feeds what `in_` holds; false when the session is over.
  boost::asio::awaitable<bool> take_input();

  TunnelNode& node_;
  proxy::Worker& worker_;
  proxy::ClientStream socket_;  // plain, or TLS (wss://)
  std::shared_ptr<const tls::ServerContexts> tls_;  // until the TLS handshake
  proxy::IoBuffer in_;
  std::string remote_;
  std::shared_ptr<SessionHandle> handle_;
  std::shared_ptr<SessionCore> core_;
  route::TimePoint handshake_deadline_;
  route::TimePoint close_deadline_{};
  bool running_ = false;  // past the handshake
  bool drained_ = false;
};

}  // namespace sy::tunnel
