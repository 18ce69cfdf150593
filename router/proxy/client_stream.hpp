#pragma once
// ClientStream: the client's connection as the session reads and writes it —
// the accepted socket itself, or TLS over it (the HTTPS listener). A plain
// connection calls straight into io::Socket (no indirection on the hot
// path); a TLS one goes through Asio's SSL stream over the same socket.
//
// Threading: the session's worker only. At most one read and one write in
// flight (a WebSocket relay has both), as for io::Socket.
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "router/io/socket.hpp"
#include "router/tls/server_contexts.hpp"

namespace sy::proxy {

class ClientStream {
 public:
  using executor_type = io::Socket::executor_type;
  using TlsStream = boost::asio::ssl::stream<io::Socket&>;

  ClientStream(io::Poller& poller, int fd) : socket_(poller, fd) {}

  // Makes this a TLS connection (before the handshake, after any PROXY
  // header): `contexts` stays alive as long as the connection.
  void start_tls(std::shared_ptr<const tls::ServerContexts> contexts);
  bool tls() const { return tls_ != nullptr; }
  TlsStream* tls_stream() { return tls_.get(); }
  // After the handshake: the client's certificate as X-Forwarded-Client-Cert
  // ("" if it sent none).
  std::string peer_certificate_header() const;

  io::Socket& socket() { return socket_; }
  // Bodies may move by splice only on a plain connection.
  io::Socket* splice_socket() { return tls_ ? nullptr : &socket_; }
  executor_type get_executor() const { return socket_.get_executor(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  void set_nodelay() { socket_.set_nodelay(); }
  void shutdown(int how) { socket_.shutdown(how); }
  void close() { socket_.close(); }
  void cancel() { socket_.cancel(); }

 private:
  io::Socket socket_;
  std::shared_ptr<const tls::ServerContexts> contexts_;
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace sy::proxy
