// The HTTPS listener (enable_ssl), with curl and `openssl s_client` as the
// clients and certificates made by the test: SNI picks between two
// certificates, no SNI gets the first, TLS 1.1 is refused under min 1.2,
// client certificates are required and forwarded per forwarded_client_cert,
// X-Forwarded-Proto says https, and SIGHUP serves a replaced certificate to
// new connections while an open one keeps working.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/test_certs.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;

std::string yaml_block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += std::string(static_cast<size_t>(indent), ' ') + line + "\n";
  return out;
}

// The base64 of a PEM certificate's DER: what X-Forwarded-Client-Cert carries.
std::string der_base64(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), -1), BIO_free);
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  std::string out(4 * ((static_cast<size_t>(len) + 2) / 3) + 1, '\0');
  out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der, len)));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

// A keep-alive HTTPS connection driven by the test (blocking socket).
class TlsConnection {
 public:
  ~TlsConnection() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(uint16_t port, const std::string& sni, const std::string& ca_file) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_tlsext_host_name(ssl_, sni.c_str());
    SSL_set1_host(ssl_, sni.c_str());
    SSL_set_fd(ssl_, fd_);
    const bool ok = SSL_connect(ssl_) == 1;
    ERR_clear_error();
    return ok;
  }
  std::string subject() const {
    X509* cert = SSL_get0_peer_certificate(ssl_);
    char name[256] = "";
    if (cert) X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    return name;
  }
  // Sends a GET and reads its response (Content-Length framed): the status.
  int get(const std::string& host, const std::string& path) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    if (SSL_write(ssl_, req.data(), static_cast<int>(req.size())) <= 0) return 0;
    std::string got;
    char buf[4096];
    for (;;) {
      const size_t end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t cl = got.find("Content-Length: ");
        const size_t length = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + length) return std::stoi(got.substr(9, 3));
      }
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return 0;
      got.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

class TlsTest : public RouterTest {
 protected:
  TlsTest()
      : ca_(make_test_ca("switchyard-test-ca")),
        a_(make_test_cert(ca_, "a.test", {"a.test", "localhost"})),
        b_(make_test_cert(ca_, "b.test", {"b.test", "*.apps.test"})),
        client_cert_(make_test_cert(ca_, "client-1", {})) {
    write(dir_.file("ca.crt"), ca_.cert_pem);
    write(dir_.file("client.crt"), client_cert_.cert_pem);
    write(dir_.file("client.key"), client_cert_.key_pem);
  }

  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Starts nats, the router with HTTPS (and `more` YAML) and an echo backend
  // routed as a.test, b.test and x.apps.test.
  void start(const std::string& more = "") {
    ssl_port_ = free_port();
    RouterConfig config;
    config.extra_yaml = "enable_ssl: true\nssl_port: " + std::to_string(ssl_port_) + "\ntls_pem:\n" + pem_item(a_) +
                        pem_item(b_) + more;
    ASSERT_NO_FATAL_FAILURE(start_all(config));
    EchoBackend& echo = start_echo("tls-app");
    for (const char* host : {"a.test", "b.test", "x.apps.test"}) ASSERT_NO_FATAL_FAILURE(route(host, echo.port()));
  }
  static std::string pem_item(const TestCert& c) {
    return "- cert_chain: " + yaml_block(c.cert_pem, 4) + "  private_key: " + yaml_block(c.key_pem, 4);
  }

  HttpResponse https(const std::string& host, std::vector<std::string> args = {},
                     std::vector<std::string> headers = {}) {
    HttpRequest r;
    r.url = "https://" + host + ":" + std::to_string(ssl_port_) + "/";
    r.resolve = host + ":" + std::to_string(ssl_port_) + ":127.0.0.1";
    r.extra_args = {"--cacert", dir_.file("ca.crt")};
    r.extra_args.insert(r.extra_args.end(), args.begin(), args.end());
    r.headers = std::move(headers);
    return http(r);
  }

  // `openssl s_client` against the HTTPS port: its exit code and output.
  // `request`: sent on the connection (s_client then reads until the router
  // closes it, so it has seen the session tickets); otherwise stdin is empty.
  std::pair<int, std::string> s_client(std::vector<std::string> args, const std::string& request = "") {
    ProcessOptions o;
    if (!request.empty()) {
      o.stdin_path = dir_.file("s_client-request.txt");
      write(o.stdin_path, request);
      args.push_back("-ign_eof");
    }
    o.argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(ssl_port_), "-CAfile", dir_.file("ca.crt")};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.log_path = dir_.file("s_client-" + std::to_string(++s_client_runs_) + ".log");
    const int code = run_process(o, milliseconds(20000)).value_or(-1);
    return {code, read(o.log_path)};
  }

  TestCert ca_, a_, b_, client_cert_;
  uint16_t ssl_port_ = 0;
  int s_client_runs_ = 0;
};

TEST_F(TlsTest, SniPicksTheCertificateAndNoSniGetsTheFirst) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto [code_b, out_b] = s_client({"-servername", "b.test"});
  EXPECT_NE(out_b.find("subject=CN = b.test"), std::string::npos) << out_b;
  EXPECT_NE(out_b.find("Verify return code: 0 (ok)"), std::string::npos) << out_b;
  auto [code_w, out_w] = s_client({"-servername", "x.apps.test"});
  EXPECT_NE(out_w.find("subject=CN = b.test"), std::string::npos) << "the wildcard name: " << out_w;
  auto [code_n, out_n] = s_client({"-noservername"});
  EXPECT_NE(out_n.find("subject=CN = a.test"), std::string::npos) << out_n;
  auto [code_alpn, out_alpn] = s_client({"-servername", "a.test", "-alpn", "h2,http/1.1"});
  EXPECT_NE(out_alpn.find("ALPN protocol: http/1.1"), std::string::npos) << out_alpn;

  for (const char* host : {"a.test", "b.test", "x.apps.test"}) {
    HttpResponse r = https(host);
    ASSERT_EQ(r.status, 200) << host << ": " << r.describe();
    EXPECT_EQ(parse_echo(r.body).header("x-forwarded-proto"), "https");
  }
}

// Plain HTTP (and so any junk) on the HTTPS port fails the handshake: the
// connection closes without an answer and the listener keeps serving.
TEST_F(TlsTest, PlainHttpOnTheHttpsPortIsClosedAndTheRouterGoesOn) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (int i = 0; i < 3; ++i) {
    HttpRequest plain;
    plain.url = "http://127.0.0.1:" + std::to_string(ssl_port_) + "/";
    plain.host = "a.test";
    HttpResponse r = http(plain);
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.exit_code, 0) << r.describe();
  }
  HttpResponse ok = https("a.test");
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_TRUE(router_.process().running());
}

TEST_F(TlsTest, Tls11IsRefusedUnderMinimum12) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto [old_code, old_out] = s_client({"-servername", "a.test", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(old_code, 0) << old_out;
  EXPECT_NE(old_out.find("alert protocol version"), std::string::npos) << old_out;
  auto [ok_code, ok_out] = s_client({"-servername", "a.test", "-tls1_2"});
  EXPECT_NE(ok_out.find("Protocol  : TLSv1.2"), std::string::npos) << ok_out;
  HttpResponse r = https("a.test", {"--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(router_.process().running());
}

TEST_F(TlsTest, RequiredClientCertificateIsSanitizedAndSet) {
  ASSERT_NO_FATAL_FAILURE(start("client_cert_validation: require\nclient_ca_certs: " + yaml_block(ca_.cert_pem, 2) +
                                "forwarded_client_cert: sanitize_set\n"));
  HttpResponse refused = https("a.test");
  EXPECT_NE(refused.exit_code, 0) << "no client certificate: " << refused.describe();
  EXPECT_EQ(refused.status, 0);

  const std::vector<std::string> cert = {"--cert", dir_.file("client.crt"), "--key", dir_.file("client.key")};
  HttpResponse ok = https("a.test", cert, {"X-Forwarded-Client-Cert: forged-by-the-client"});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  const EchoSeen seen = parse_echo(ok.body);
  EXPECT_EQ(seen.headers.count("x-forwarded-client-cert"), 1u);
  EXPECT_EQ(seen.header("x-forwarded-client-cert"), der_base64(client_cert_.cert_pem));
}

TEST_F(TlsTest, ForwardModeKeepsTheHeaderOnlyWithACertificate) {
  ASSERT_NO_FATAL_FAILURE(start("client_cert_validation: request\nclient_ca_certs: " + yaml_block(ca_.cert_pem, 2) +
                                "forwarded_client_cert: forward\n"));
  HttpResponse without = https("a.test", {}, {"X-Forwarded-Client-Cert: from-the-client"});
  ASSERT_EQ(without.status, 200) << "request: a certificate is optional; " << without.describe();
  EXPECT_FALSE(parse_echo(without.body).has("x-forwarded-client-cert")) << "no certificate: stripped";
  HttpResponse with = https("a.test", {"--cert", dir_.file("client.crt"), "--key", dir_.file("client.key")},
                            {"X-Forwarded-Client-Cert: from-the-client"});
  ASSERT_EQ(with.status, 200) << with.describe();
  EXPECT_EQ(parse_echo(with.body).header("x-forwarded-client-cert"), "from-the-client");
  HttpRequest plain;  // the HTTP listener: never a certificate, so stripped too
  plain.url = "http://127.0.0.1:" + std::to_string(router_.port()) + "/";
  plain.host = "a.test";
  plain.headers = {"X-Forwarded-Client-Cert: from-the-client"};
  HttpResponse over_http = http(plain);
  ASSERT_EQ(over_http.status, 200) << over_http.describe();
  EXPECT_FALSE(parse_echo(over_http.body).has("x-forwarded-client-cert"));
}

// Tickets: a second connection resumes the first one's session, also after
// a reload (the ticket keys live as long as the process).
TEST_F(TlsTest, SessionsResumeByTicketAlsoAfterAReload) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string session = dir_.file("session.pem");
  const std::string get = "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
  auto [first_code, first] = s_client({"-servername", "a.test", "-sess_out", session}, get);
  ASSERT_NE(first.find("New, TLSv1.3"), std::string::npos) << first;
  auto [again_code, again] = s_client({"-servername", "a.test", "-sess_in", session}, get);
  EXPECT_NE(again.find("Reused, TLSv1.3"), std::string::npos) << again;
  ASSERT_TRUE(router_.process().signal(SIGHUP));
  ASSERT_TRUE(wait_until([&] { return router_.log().find("tls-reloaded") != std::string::npos; }, milliseconds(10000)));
  auto [after_code, after] = s_client({"-servername", "a.test", "-sess_in", session}, get);
  EXPECT_NE(after.find("Reused, TLSv1.3"), std::string::npos) << after;
}

TEST_F(TlsTest, SighupServesTheNewCertificateAndOpenConnectionsGoOn) {
  ASSERT_NO_FATAL_FAILURE(start());
  TlsConnection open;
  ASSERT_TRUE(open.connect(ssl_port_, "a.test", dir_.file("ca.crt")));
  EXPECT_EQ(open.subject(), "a.test");
  ASSERT_EQ(open.get("a.test", "/"), 200);

  const TestCert renewed = make_test_cert(ca_, "a.test renewed", {"a.test"});
  std::string yaml = read(router_.config_path());
  for (const auto& [from, to] : {std::pair{a_.cert_pem, renewed.cert_pem}, {a_.key_pem, renewed.key_pem}}) {
    const std::string old_block = yaml_block(from, 4), new_block = yaml_block(to, 4);
    const size_t at = yaml.find(old_block);
    ASSERT_NE(at, std::string::npos);
    yaml.replace(at, old_block.size(), new_block);
  }
  write(router_.config_path(), yaml);
  ASSERT_TRUE(router_.process().signal(SIGHUP));

  const bool renewed_served = wait_until(
      [&] {
        TlsConnection fresh;
        return fresh.connect(ssl_port_, "a.test", dir_.file("ca.crt")) && fresh.subject() == "a.test renewed";
      },
      milliseconds(10000));
  EXPECT_TRUE(renewed_served) << router_.log();
  EXPECT_EQ(open.get("a.test", "/"), 200) << "the connection opened before the reload";
  HttpResponse r = https("a.test");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_NE(router_.log().find("tls-reloaded"), std::string::npos);
}

TEST_F(TlsTest, BrokenReloadKeepsTheOldCertificates) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string yaml = read(router_.config_path());
  write(router_.config_path(), yaml + "min_tls_version: TLSv9\n");
  ASSERT_TRUE(router_.process().signal(SIGHUP));
  ASSERT_TRUE(wait_until([&] { return router_.log().find("tls-reload-failed") != std::string::npos; },
                         milliseconds(10000)));
  EXPECT_NE(router_.log().find("min_tls_version"), std::string::npos);
  HttpResponse r = https("a.test");
  EXPECT_EQ(r.status, 200) << r.describe();
}

// tunnel.tls: the tunnel listener speaks wss:// with the node's certificates,
// and the agent verifies the node by the CA it was given (--ca).
TEST_F(TlsTest, AgentOverWssWithAPinnedCa) {
  const uint16_t tunnel_port = free_port();
  ASSERT_NO_FATAL_FAILURE(start("tunnel:\n  host: 127.0.0.1\n  port: " + std::to_string(tunnel_port) +
                                "\n  domain: t.test\n  secret: wss-test-secret\n  node_id: wss-node\n"
                                "  tls: true\n"));
  const std::string minted = mint_token(test_binaries(), dir_, router_.config_path(), "shop-1", {"--label", "shop"});
  ASSERT_FALSE(minted.empty()) << read(dir_.file("token.err"));

  EchoBackend& app = start_echo("behind-nat");
  Process agent;
  ProcessOptions a;
  a.argv = {std::string(SY_BIN_DIR) + "/switchyard-tunnel", "--server", "wss://localhost:" + std::to_string(tunnel_port),
            "--id", "shop-1", "--label", "shop", "--token", minted, "--to", "127.0.0.1:" + std::to_string(app.port()),
            "--connections", "1", "--ca", dir_.file("ca.crt")};
  a.log_path = dir_.file("agent.log");
  ASSERT_TRUE(agent.start(a));
  ASSERT_TRUE(wait_routable(router_, "shop.t.test", 200)) << read(dir_.file("agent.log")) << router_.log();
  EXPECT_EQ(parse_echo(router_.get("shop.t.test").body).name, "behind-nat");
  EXPECT_NE(read(dir_.file("agent.log")).find("tunnel-ready"), std::string::npos);
  agent.signal(SIGTERM);
  agent.wait_exit(milliseconds(5000));
}

}  // namespace
}  // namespace sy::test
