#pragma once
// TlsStream: ByteStream over TLS to an endpoint registered with tls_port
// (gorouter's TLS to backends). The io::Socket underneath is connected by the
// connector, then handshake() verifies the backend's certificate against the
// configured CAs and, by name, against its server_cert_domain_san.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "router/io/socket.hpp"
#include "router/upstream/byte_stream.hpp"
#include "router/upstream/connector.hpp"

namespace sy::upstream {

// What the router trusts and presents when it dials TLS endpoints.
struct TlsOptions {
  std::string ca_certs;     // PEM; empty = the system's CAs
  bool skip_verify = false;  // skip_ssl_validation
  std::string cert_chain;   // client certificate (PEM), optional
  std::string private_key;
};
// A client context for TLS 1.2+; throws std::system_error on unusable PEM.
std::unique_ptr<asio::ssl::context> make_client_context(const TlsOptions& options);

class TlsStream final : public ByteStream {
 public:
  TlsStream(io::Poller& poller, asio::ssl::context& context);
  io::Socket& socket() { return socket_; }
  // SNI, and (when `verify`) the name the certificate must carry.
  bool set_server_name(const std::string& name, bool verify);
  // What a failed handshake (`ec`) was, for the metrics.
  TlsFailure classify(const error_code& ec);
  template <typename Token>
  auto async_handshake(Token&& token) {
    return tls_.async_handshake(asio::ssl::stream_base::client, std::forward<Token>(token));
  }

  executor_type get_executor() override { return socket_.get_executor(); }
  void close() override;
  void shutdown_send() override;  // TCP half-close (no close_notify: the stream is ending anyway)
  bool idle_usable() override;
  // splice_socket() stays nullptr: bytes must go through TLS, never splice.

 protected:
  void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override;
  void do_write_some(BufferList buffers, IoHandler handler) override;

 private:
  io::Socket socket_;
  asio::ssl::stream<io::Socket&> tls_;
};

}  // namespace sy::upstream
