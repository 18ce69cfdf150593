#include "router/tls/server_contexts.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace sy::tls {
namespace asio = boost::asio;
namespace {

using config::ClientCertValidation;
using config::TlsVersion;

int openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::v1_0: return TLS1_VERSION;
    case TlsVersion::v1_1: return TLS1_1_VERSION;
    case TlsVersion::v1_2: return TLS1_2_VERSION;
    default: return TLS1_3_VERSION;
  }
}

[[noreturn]] void refused(const std::string& what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  char reason[256] = "";
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  throw std::runtime_error(what + (e ? std::string(": ") + reason : std::string()));
}

// Ticket keys for the whole process: a reload builds new contexts, and
// tickets issued before it still resume.
const std::array<unsigned char, 80>& ticket_keys() {
  static std::array<unsigned char, 80> keys{};
  static std::once_flag made;
  std::call_once(made, [] {
    if (RAND_bytes(keys.data(), static_cast<int>(keys.size())) != 1) refused("RAND_bytes for ticket keys");
  });
  return keys;
}

// ALPN: http/1.1 when offered; a client offering only others proceeds
// without ALPN (as nginx does) rather than being refused.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned int in_len,
                void*) {
  static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned int i = 0; i < in_len;) {
    const unsigned int len = in[i];
    if (i + 1 + len > in_len) break;
    if (len == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int select_certificate(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* ctx = static_cast<const ServerContexts*>(arg)->find(name);
  if (ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

// Every certificate in `pem` into `store` (and their subjects into `names`).
void add_certificates(const std::string& pem, X509_STORE* store, STACK_OF(X509_NAME)* names) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  while (X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr) {
    X509_STORE_add_cert(store, cert);
    if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
    X509_free(cert);
  }
  ERR_clear_error();  // the end of the PEM text
}

void verify_clients(SSL_CTX* ctx, const config::ServerTlsConfig& t, const std::string& ca_certs) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  add_certificates(t.client_ca_certs, store, names);
  SSL_CTX_set_client_CA_list(ctx, names);  // takes the list
  if (!t.only_trust_client_ca_certs) {
    add_certificates(ca_certs, store, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) ERR_clear_error();
  }
  int mode = SSL_VERIFY_PEER;
  if (t.client_cert_validation == ClientCertValidation::require) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
}

void apply_settings(SSL_CTX* ctx, const ServerOptions& o, ServerContexts* self) {
  const config::ServerTlsConfig& t = *o.tls;
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // an idle connection keeps no record buffers
  if (t.min_version < TlsVersion::v1_2) SSL_CTX_set_security_level(ctx, 0);  // OpenSSL 3 refuses TLS 1.0/1.1 above 0
  if (SSL_CTX_set_min_proto_version(ctx, openssl_version(t.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, openssl_version(t.max_version)) != 1)
    refused("min_tls_version/max_tls_version");
  if (!t.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, t.cipher_list.c_str()) != 1) refused("cipher_suites");
  if (!t.tls13_ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, t.tls13_ciphersuites.c_str()) != 1)
    refused("cipher_suites (TLS 1.3)");
  static constexpr unsigned char kSessionContext[] = "switchyard";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_tlsext_ticket_keys(ctx, const_cast<unsigned char*>(ticket_keys().data()), ticket_keys().size());
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(ctx, select_certificate);
  SSL_CTX_set_tlsext_servername_arg(ctx, self);
  if (o.client_certs && t.client_cert_validation != ClientCertValidation::none) verify_clients(ctx, t, o.ca_certs);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::vector<std::string> certificate_names(X509* certificate) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type != GEN_DNS) continue;
    const ASN1_STRING* s = g->d.dNSName;
    names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s))}));
  }
  GENERAL_NAMES_free(sans);
  if (names.empty()) {
    char cn[256] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(lower(cn));
  }
  ERR_clear_error();
  return names;
}

bool name_matches(std::string_view pattern, std::string_view name) {
  if (pattern == name) return true;
  if (pattern.size() < 3 || pattern.substr(0, 2) != "*.") return false;
  const size_t dot = name.find('.');
  return dot != std::string_view::npos && dot > 0 && name.substr(dot) == pattern.substr(1);
}

std::string forwarded_client_cert(X509* certificate) {
  if (!certificate) return {};
  unsigned char* der = nullptr;
  const int len = i2d_X509(certificate, &der);
  if (len <= 0) return {};
  std::string out(4 * ((static_cast<size_t>(len) + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der, len);
  OPENSSL_free(der);
  out.resize(written > 0 ? static_cast<size_t>(written) : 0);
  return out;
}

void ServerContexts::add(const config::TlsCertificate& certificate, const ServerOptions& options) {
  Entry e;
  e.context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  e.context->use_certificate_chain(asio::buffer(certificate.cert_chain), ec);
  if (!ec) e.context->use_private_key(asio::buffer(certificate.private_key), asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("tls_pem: " + ec.message());
  SSL_CTX* ctx = e.context->native_handle();
  apply_settings(ctx, options, this);
  if (X509* leaf = SSL_CTX_get0_certificate(ctx)) e.names = certificate_names(leaf);
  entries_.push_back(std::move(e));
}

std::shared_ptr<const ServerContexts> ServerContexts::build(const ServerOptions& options) {
  if (!options.tls || options.tls->certificates.empty()) throw std::runtime_error("tls_pem: no certificate");
  auto built = std::make_shared<ServerContexts>();
  for (const config::TlsCertificate& c : options.tls->certificates) built->add(c, options);
  return built;
}

SSL_CTX* ServerContexts::find(std::string_view server_name) const {
  const std::string name = lower(server_name);
  for (const Entry& e : entries_)
    for (const std::string& pattern : e.names)
      if (pattern == name) return e.context->native_handle();
  for (const Entry& e : entries_)
    for (const std::string& pattern : e.names)
      if (name_matches(pattern, name)) return e.context->native_handle();
  return nullptr;
}

}  // namespace sy::tls
