#include "router/upstream/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

namespace sy::upstream {

std::unique_ptr<asio::ssl::context> make_client_context(const TlsOptions& options) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (options.skip_verify) {
    context->set_verify_mode(asio::ssl::verify_none);
  } else {
    context->set_verify_mode(asio::ssl::verify_peer);
    if (options.ca_certs.empty())
      context->set_default_verify_paths();
    else
      context->add_certificate_authority(asio::buffer(options.ca_certs));
  }
  if (!options.cert_chain.empty()) {
    context->use_certificate_chain(asio::buffer(options.cert_chain));
    context->use_private_key(asio::buffer(options.private_key), asio::ssl::context::pem);
  }
  return context;
}

TlsStream::TlsStream(io::Poller& poller, asio::ssl::context& context) : socket_(poller, -1), tls_(socket_, context) {}

bool TlsStream::set_server_name(const std::string& name, bool verify) {
  if (name.empty()) return true;
  if (!SSL_set_tlsext_host_name(tls_.native_handle(), name.c_str())) return false;
  if (!verify) return true;
  error_code ec;
  tls_.set_verify_callback(asio::ssl::host_name_verification(name), ec);
  return !ec;
}

// A verification failure with no certificate error recorded is the host
// name check's (Asio's host_name_verification rejects a verified chain).
TlsFailure TlsStream::classify(const error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category() ||
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) != SSL_R_CERTIFICATE_VERIFY_FAILED)
    return TlsFailure::handshake;
  const long result = SSL_get_verify_result(tls_.native_handle());
  return result == X509_V_OK || result == X509_V_ERR_HOSTNAME_MISMATCH ? TlsFailure::hostname_mismatch
                                                                        : TlsFailure::invalid_cert;
}

void TlsStream::close() {
  socket_.shutdown(SHUT_RDWR);
  socket_.close();
}

void TlsStream::shutdown_send() { socket_.shutdown(SHUT_WR); }

// Bytes waiting may be a TLS 1.3 session ticket, not a stray response: only
// EOF (the backend closed) makes a pooled TLS connection unusable here.
bool TlsStream::idle_usable() { return socket_.peek() != io::Socket::Peek::closed; }

void TlsStream::do_read_some(asio::mutable_buffer buffer, IoHandler handler) {
  tls_.async_read_some(buffer, std::move(handler));
}

void TlsStream::do_write_some(BufferList buffers, IoHandler handler) {
  tls_.async_write_some(buffers, std::move(handler));
}

}  // namespace sy::upstream
