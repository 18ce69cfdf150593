#pragma once
// router/tls: the node's TLS server side (gorouter's enable_ssl / tls_pem,
// and the tunnel listener's wss://). One OpenSSL context per tls_pem
// certificate, all with the same settings; a client's SNI picks the one whose
// names (subjectAltName DNS entries, else the common name; `*.` wildcards
// match one label) carry it, the first one otherwise. ALPN answers http/1.1.
// Sessions resume by tickets whose keys live as long as the process, so a
// reload (SIGHUP) keeps them valid.
//
// Threading: built on the main thread; a built ServerContexts is immutable
// and shared by every worker (OpenSSL contexts are safe to create SSL
// objects from concurrently). ServerTls holds the current one; a connection
// keeps the one it started with, so a reload never touches it.
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace sy::tls {

struct ServerOptions {
  const config::ServerTlsConfig* tls = nullptr;
  std::string ca_certs;       // gorouter's ca_certs: client certificates verify against it too
  bool client_certs = true;   // false: never ask for one (the tunnel listener)
};

class ServerContexts {
 public:
  // Throws std::runtime_error naming what OpenSSL refused (a validated
  // Config does not make it throw).
  static std::shared_ptr<const ServerContexts> build(const ServerOptions& options);

  // The context new connections start from; SNI may switch them to another.
  boost::asio::ssl::context& initial() const { return *entries_.front().context; }
  // The context whose certificate carries `server_name` (nullptr: none).
  SSL_CTX* find(std::string_view server_name) const;

  ServerContexts() = default;
  ServerContexts(const ServerContexts&) = delete;
  ServerContexts& operator=(const ServerContexts&) = delete;

 private:
  struct Entry {
    std::unique_ptr<boost::asio::ssl::context> context;
    std::vector<std::string> names;  // lower case; "*.example.com" for a wildcard
  };
  void add(const config::TlsCertificate& certificate, const ServerOptions& options);
  std::vector<Entry> entries_;
};

// The contexts in force; replace() on reload.
class ServerTls {
 public:
  explicit ServerTls(std::shared_ptr<const ServerContexts> contexts) : current_(std::move(contexts)) {}
  std::shared_ptr<const ServerContexts> current() const { return std::atomic_load(&current_); }
  void replace(std::shared_ptr<const ServerContexts> contexts) { std::atomic_store(&current_, std::move(contexts)); }

 private:
  std::shared_ptr<const ServerContexts> current_;
};

// The names a certificate is for (lower case), as SNI matching uses them.
std::vector<std::string> certificate_names(X509* certificate);
// Whether `name` (lower case) matches `pattern` (exact, or "*." + one label).
bool name_matches(std::string_view pattern, std::string_view name);

// X-Forwarded-Client-Cert as gorouter writes it: the base64 of the
// certificate's DER, on one line ("" if none).
std::string forwarded_client_cert(X509* certificate);

}  // namespace sy::tls
