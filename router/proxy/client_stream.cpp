#include "router/proxy/client_stream.hpp"

#include <openssl/ssl.h>

namespace sy::proxy {

void ClientStream::start_tls(std::shared_ptr<const tls::ServerContexts> contexts) {
  contexts_ = std::move(contexts);
  tls_ = std::make_unique<TlsStream>(socket_, contexts_->initial());
}

std::string ClientStream::peer_certificate_header() const {
  if (!tls_) return {};
  return tls::forwarded_client_cert(SSL_get0_peer_certificate(tls_->native_handle()));
}

}  // namespace sy::proxy
