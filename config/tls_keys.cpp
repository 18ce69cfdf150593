// gorouter's TLS keys, checked with OpenSSL as they are read (see tls_keys.hpp).
#include "config/tls_keys.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string_view>

namespace sy::config::detail {
namespace {

using Node = YAML::Node;
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Key_ = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Ctx = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;

Bio memory_bio(const std::string& text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

Cert first_certificate(const std::string& pem) {
  Bio bio = memory_bio(pem);
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

Key_ private_key(const std::string& pem) {
  Bio bio = memory_bio(pem);
  return Key_(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

TlsVersion read_version(const Node& node, const std::string& path) {
  const std::string v = node.IsScalar() ? node.Scalar() : std::string();
  if (v == "TLSv1.0") return TlsVersion::v1_0;
  if (v == "TLSv1.1") return TlsVersion::v1_1;
  if (v == "TLSv1.2") return TlsVersion::v1_2;
  if (v == "TLSv1.3") return TlsVersion::v1_3;
  fail(path, node, "TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3");
}

// tls_pem[i]: {cert_chain, private_key}, the key matching the leaf.
TlsCertificate read_certificate(const Node& node, const std::string& path, std::vector<std::string>& ignored) {
  require_map(node, path);
  TlsCertificate c;
  read_map(node, path,
           {{"cert_chain", [&c](const Node& n, const std::string& p) { c.cert_chain = read_pem(n, p, true); }},
            {"private_key", [&c](const Node& n, const std::string& p) { c.private_key = read_pem(n, p, false); }}},
           ignored);
  if (c.cert_chain.empty()) throw Invalid{path + ".cert_chain: missing (a PEM certificate chain, leaf first)"};
  if (c.private_key.empty()) throw Invalid{path + ".private_key: missing (the leaf certificate's PEM private key)"};
  Cert leaf = first_certificate(c.cert_chain);
  Key_ key = private_key(c.private_key);
  const bool match = leaf && key && X509_check_private_key(leaf.get(), key.get()) == 1;
  ERR_clear_error();
  if (!match) throw Invalid{path + ".private_key: does not match the first certificate of cert_chain"};
  return c;
}

std::vector<TlsCertificate> read_certificates(const Node& node, const std::string& path,
                                              std::vector<std::string>& ignored) {
  if (!node.IsSequence()) fail(path, node, "a list of {cert_chain, private_key}");
  std::vector<TlsCertificate> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(read_certificate(node[i], index(path, i), ignored));
  return out;
}

template <typename E>
E read_choice(const Node& node, const std::string& path, std::initializer_list<std::pair<std::string_view, E>> values,
              std::string_view what) {
  const std::string v = node.IsScalar() ? node.Scalar() : std::string();
  for (const auto& [name, value] : values)
    if (v == name) return value;
  fail(path, node, what);
}

// The OpenSSL name of a TLS <= 1.2 cipher given by its OpenSSL or IANA name,
// or "" if OpenSSL has no such cipher.
std::string openssl_cipher_name(SSL_CTX* all, std::string_view name) {
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    const char* standard = SSL_CIPHER_standard_name(c);
    if (name == SSL_CIPHER_get_name(c) || (standard && name == standard)) return SSL_CIPHER_get_name(c);
  }
  return {};
}

bool is_tls13_suite(std::string_view name) {
  for (std::string_view s : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                             "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"})
    if (name == s) return true;
  return false;
}

}  // namespace

std::string read_pem(const Node& node, const std::string& path, bool certificates) {
  std::string text;
  if (node.IsSequence()) {
    if (!certificates) fail(path, node, "a PEM private key");
    for (size_t i = 0; i < node.size(); ++i) text += read_string(node[i], index(path, i)) + "\n";
  } else {
    text = read_string(node, path);
  }
  const bool ok = certificates ? first_certificate(text) != nullptr : private_key(text) != nullptr;
  ERR_clear_error();
  if (!ok)
    throw Invalid{path + ": not " + std::string(certificates ? "PEM certificates" : "a PEM private key") +
                  " that OpenSSL can read"};
  return text;
}

void split_cipher_suites(const std::string& value, const std::string& path, std::string* cipher_list,
                         std::string* tls13_suites) {
  Ctx all(SSL_CTX_new(TLS_method()));
  if (!all || SSL_CTX_set_cipher_list(all.get(), "ALL:COMPLEMENTOFALL") != 1) {
    ERR_clear_error();
    throw Invalid{path + ": OpenSSL could not list its ciphers"};
  }
  cipher_list->clear();
  tls13_suites->clear();
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find_first_of(":, ", start);
    if (end == std::string::npos) end = value.size();
    const std::string_view name = std::string_view(value).substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    std::string* to = is_tls13_suite(name) ? tls13_suites : cipher_list;
    const std::string mapped = is_tls13_suite(name) ? std::string(name) : openssl_cipher_name(all.get(), name);
    if (mapped.empty()) throw Invalid{path + ": cipher \"" + one_line(name) + "\" is not one OpenSSL knows"};
    *to += (to->empty() ? "" : ":") + mapped;
  }
  if (cipher_list->empty() && tls13_suites->empty()) throw Invalid{path + ": names no cipher"};
  ERR_clear_error();
}

std::vector<Key> tls_keys(ServerTlsConfig& t, std::vector<std::string>& ignored) {
  return {
      {"enable_ssl", [&t](const Node& n, const std::string& p) { t.enabled = read_bool(n, p); }},
      {"ssl_port", [&t](const Node& n, const std::string& p) { t.port = read_port(n, p); }},
      {"disable_http", [&t](const Node& n, const std::string& p) { t.disable_http = read_bool(n, p); }},
      {"tls_pem", [&t, &ignored](const Node& n, const std::string& p) { t.certificates = read_certificates(n, p, ignored); }},
      {"min_tls_version", [&t](const Node& n, const std::string& p) { t.min_version = read_version(n, p); }},
      {"max_tls_version", [&t](const Node& n, const std::string& p) { t.max_version = read_version(n, p); }},
      {"cipher_suites",
       [&t](const Node& n, const std::string& p) {
         split_cipher_suites(read_string(n, p), p, &t.cipher_list, &t.tls13_ciphersuites);
       }},
      {"client_cert_validation",
       [&t](const Node& n, const std::string& p) {
         using V = ClientCertValidation;
         t.client_cert_validation = read_choice<V>(
             n, p, {{"none", V::none}, {"request", V::request}, {"require", V::require}}, "none, request or require");
       }},
      {"client_ca_certs", [&t](const Node& n, const std::string& p) { t.client_ca_certs = read_pem(n, p, true); }},
      {"only_trust_client_ca_certs",
       [&t](const Node& n, const std::string& p) { t.only_trust_client_ca_certs = read_bool(n, p); }},
      {"forwarded_client_cert",
       [&t](const Node& n, const std::string& p) {
         using F = ForwardedClientCert;
         t.forwarded_client_cert =
             read_choice<F>(n, p, {{"always_forward", F::always_forward}, {"forward", F::forward},
                                   {"sanitize_set", F::sanitize_set}},
                            "always_forward, forward or sanitize_set");
       }},
  };
}

void finish_tls(Config& c) {
  const ServerTlsConfig& t = c.tls;
  if ((t.enabled || c.tunnel.tls) && t.certificates.empty())
    throw Invalid{std::string("tls_pem: needs at least one {cert_chain, private_key} when ") +
                  (t.enabled ? "enable_ssl" : "tunnel.tls") + " is true"};
  if (t.min_version > t.max_version)
    throw Invalid{"min_tls_version: must not be above max_tls_version"};
  if (t.disable_http && !t.enabled) throw Invalid{"disable_http: true needs enable_ssl: true (no listener left)"};
  if (t.disable_http && c.tunnel.enabled)
    throw Invalid{"disable_http: nodes forward tunnel requests to each other over the HTTP port; keep it with tunnel"};
  if (t.client_cert_validation != ClientCertValidation::none && t.only_trust_client_ca_certs &&
      t.client_ca_certs.empty())
    throw Invalid{"client_ca_certs: needed when only_trust_client_ca_certs is true and client_cert_validation is " +
                  std::string(t.client_cert_validation == ClientCertValidation::require ? "require" : "request")};
}

}  // namespace sy::config::detail
