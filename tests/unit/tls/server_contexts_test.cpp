// router/tls: the server contexts, driven by real OpenSSL handshakes between
// a client and a server SSL joined by memory BIOs (no sockets, no threads):
// SNI picks the certificate, ALPN says http/1.1, versions are enforced,
// client certificates are asked for and verified. (Resumption by ticket,
// across a reload too, is tested with `openssl s_client` in
// tests/integration/tls_test.cpp.)
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "router/tls/server_contexts.hpp"
#include "tests/support/test_certs.hpp"

namespace sy::tls {
namespace {

using config::ClientCertValidation;
using config::TlsVersion;

X509* read_cert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), -1), BIO_free);
  return PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
}

// One handshake: the client (with its own options) against `server`.
struct Handshake {
  bool ok = false;
  std::string served_name;  // the first name of the certificate the server chose
  std::string alpn;
  std::string peer_cert_header;    // what the server saw of the client's certificate
};

struct ClientOptions {
  ClientOptions(std::string server_name = {}) : sni(std::move(server_name)) {}  // NOLINT: {"name"} reads well
  std::string sni;
  int max_version = 0;
  const test::TestCert* client_cert = nullptr;
};

Handshake run(const ServerContexts& server, const ClientOptions& o) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> cctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_security_level(cctx.get(), 0);
  if (o.max_version) SSL_CTX_set_max_proto_version(cctx.get(), o.max_version);
  if (o.client_cert) {
    X509* c = read_cert(o.client_cert->cert_pem);
    SSL_CTX_use_certificate(cctx.get(), c);
    X509_free(c);
    std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new_mem_buf(o.client_cert->key_pem.data(), -1), BIO_free);
    EVP_PKEY* k = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr);
    SSL_CTX_use_PrivateKey(cctx.get(), k);
    EVP_PKEY_free(k);
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> client(SSL_new(cctx.get()), SSL_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> srv(SSL_new(server.initial().native_handle()), SSL_free);
  BIO *c_bio = nullptr, *s_bio = nullptr;
  BIO_new_bio_pair(&c_bio, 0, &s_bio, 0);
  SSL_set_bio(client.get(), c_bio, c_bio);
  SSL_set_bio(srv.get(), s_bio, s_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(srv.get());
  if (!o.sni.empty()) SSL_set_tlsext_host_name(client.get(), o.sni.c_str());
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(client.get(), kAlpn, sizeof kAlpn - 1);
  Handshake h;
  for (int i = 0; i < 50; ++i) {
    const int c = SSL_do_handshake(client.get());
    const int s = SSL_do_handshake(srv.get());
    if (c == 1 && s == 1) {
      h.ok = true;
      break;
    }
    const int ce = SSL_get_error(client.get(), c), se = SSL_get_error(srv.get(), s);
    if ((c != 1 && ce != SSL_ERROR_WANT_READ && ce != SSL_ERROR_WANT_WRITE) ||
        (s != 1 && se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE))
      break;
  }
  ERR_clear_error();
  if (!h.ok) return h;
  // Some application data both ways, as a connection would.
  char byte;
  SSL_write(srv.get(), "x", 1);
  SSL_read(client.get(), &byte, 1);
  if (X509* served = SSL_get_certificate(srv.get())) {
    auto names = certificate_names(served);
    if (!names.empty()) h.served_name = names.front();
  }
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(srv.get(), &proto, &len);
  h.alpn.assign(reinterpret_cast<const char*>(proto), len);
  h.peer_cert_header = forwarded_client_cert(SSL_get0_peer_certificate(srv.get()));
  return h;
}

class ServerContextsTest : public ::testing::Test {
 protected:
  ServerContextsTest()
      : ca_(test::make_test_ca("test-ca")),
        a_(test::make_test_cert(ca_, "a.test", {"a.test"})),
        wild_(test::make_test_cert(ca_, "wild", {"*.apps.test"})),
        client_(test::make_test_cert(ca_, "client", {})) {
    cfg_.certificates = {{a_.cert_pem, a_.key_pem}, {wild_.cert_pem, wild_.key_pem}};
  }
  std::shared_ptr<const ServerContexts> build() { return ServerContexts::build(ServerOptions{&cfg_, "", true}); }

  test::TestCert ca_, a_, wild_, client_;
  config::ServerTlsConfig cfg_;
};

TEST(TlsNames, WildcardMatchesOneLabel) {
  EXPECT_TRUE(name_matches("a.test", "a.test"));
  EXPECT_TRUE(name_matches("*.apps.test", "x.apps.test"));
  EXPECT_FALSE(name_matches("*.apps.test", "apps.test"));
  EXPECT_FALSE(name_matches("*.apps.test", "y.x.apps.test"));
  EXPECT_FALSE(name_matches("*.apps.test", ".apps.test"));
}

TEST_F(ServerContextsTest, SniPicksTheCertificateAndTheFirstIsTheDefault) {
  auto server = build();
  EXPECT_EQ(run(*server, {"x.apps.test"}).served_name, "*.apps.test");
  EXPECT_EQ(run(*server, {"A.TEST"}).served_name, "a.test") << "SNI is case-insensitive";
  EXPECT_EQ(run(*server, {""}).served_name, "a.test") << "no SNI: the first certificate";
  EXPECT_EQ(run(*server, {"other.example"}).served_name, "a.test") << "unknown name: the first certificate";
}

TEST_F(ServerContextsTest, AlpnAnswersHttp11) {
  auto server = build();
  Handshake h = run(*server, {"a.test"});
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(h.alpn, "http/1.1") << "h2 is offered first but not spoken";
}

TEST_F(ServerContextsTest, VersionBelowTheMinimumIsRefused) {
  auto server = build();
  ClientOptions old{"a.test"};
  old.max_version = TLS1_1_VERSION;
  EXPECT_FALSE(run(*server, old).ok) << "min_tls_version TLSv1.2";
  cfg_.min_version = TlsVersion::v1_1;
  cfg_.cipher_list += ":ECDHE-ECDSA-AES128-SHA";  // TLS 1.1 has no GCM ciphers: the operator adds one
  EXPECT_TRUE(run(*build(), old).ok) << "min_tls_version TLSv1.1 lets it in";
}

TEST_F(ServerContextsTest, RequiredClientCertificateIsVerifiedAndForwarded) {
  cfg_.client_cert_validation = ClientCertValidation::require;
  cfg_.client_ca_certs = ca_.cert_pem;
  cfg_.only_trust_client_ca_certs = true;
  auto server = build();
  EXPECT_FALSE(run(*server, {"a.test"}).ok) << "no client certificate";
  ClientOptions with{"a.test"};
  with.client_cert = &client_;
  Handshake h = run(*server, with);
  ASSERT_TRUE(h.ok);
  EXPECT_FALSE(h.peer_cert_header.empty());
  EXPECT_EQ(h.peer_cert_header.find('\n'), std::string::npos) << "one line";
  const test::TestCert stranger_ca = test::make_test_ca("stranger");
  const test::TestCert stranger = test::make_test_cert(stranger_ca, "stranger", {});
  with.client_cert = &stranger;
  EXPECT_FALSE(run(*server, with).ok) << "a certificate from a CA not trusted";
}

TEST_F(ServerContextsTest, RequestedClientCertificateIsOptional) {
  cfg_.client_cert_validation = ClientCertValidation::request;
  cfg_.client_ca_certs = ca_.cert_pem;
  auto server = build();
  Handshake h = run(*server, {"a.test"});
  EXPECT_TRUE(h.ok);
  EXPECT_TRUE(h.peer_cert_header.empty());
}

}  // namespace
}  // namespace sy::tls
