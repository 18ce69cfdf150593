// TLS to backends (endpoints registered with tls_port), against a real TLS
// server (`openssl s_server -www`) with a certificate from a CA made for the
// test: trusted CA + matching server_cert_domain_san → 200; a name the
// certificate does not carry, or a CA the router does not trust → 526
// Invalid SSL Certificate; a backend that does not speak TLS → 525 SSL
// Handshake Failed (gorouter's codes); endpoint_failure (tls: ...) in
// X-Cf-Routererror each time, and the router keeps serving.
#include <fstream>
#include <sstream>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;

class TlsBackendTest : public RouterTest {
 protected:
  // A CA and a server certificate for DNS:backend-1 in the temp dir.
  bool make_certificates() {
    const std::string d = dir_.path();
    std::ofstream(d + "/ext.cnf") << "subjectAltName=DNS:backend-1\n";
    const std::vector<std::vector<std::string>> steps = {
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         d + "/ca.key", "-out", d + "/ca.crt", "-days", "2", "-subj", "/CN=switchyard-test-ca"},
        {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         d + "/srv.key", "-out", d + "/srv.csr", "-subj", "/CN=backend-1"},
        {"openssl", "x509", "-req", "-in", d + "/srv.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
         "-CAcreateserial", "-out", d + "/srv.crt", "-days", "2", "-extfile", d + "/ext.cnf"},
    };
    for (const auto& argv : steps) {
      ProcessOptions options;
      options.argv = argv;
      options.log_path = d + "/openssl.log";
      if (run_process(options, milliseconds(20000)) != 0) return false;
    }
    return true;
  }

  std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // `ca_certs:` as a YAML block scalar.
  std::string ca_yaml(const std::string& pem) {
    std::string yaml = "ca_certs: |\n";
    std::istringstream lines(pem);
    for (std::string line; std::getline(lines, line);) yaml += "  " + line + "\n";
    return yaml;
  }

  bool start_tls_backend() {
    tls_port_ = free_port();
    ProcessOptions options;
    options.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(tls_port_), "-cert",
                    dir_.file("srv.crt"), "-key", dir_.file("srv.key"), "-www", "-quiet"};
    options.log_path = dir_.file("s_server.log");
    return s_server_.start(options) && wait_port_open(tls_port_, milliseconds(10000));
  }

  std::string endpoint_json(const std::string& san) {
    return "\"tls_port\":" + std::to_string(tls_port_) + ",\"server_cert_domain_san\":\"" + san + "\"";
  }

  uint16_t tls_port_ = 0;
  Process s_server_;
};

TEST_F(TlsBackendTest, VerifiedBackendIsReachedOverTls) {
  ASSERT_TRUE(make_certificates()) << read_file(dir_.file("openssl.log"));
  RouterConfig config;
  config.extra_yaml = ca_yaml(read_file(dir_.file("ca.crt")));
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  ASSERT_TRUE(start_tls_backend()) << s_server_.log();

  ASSERT_TRUE(register_route(client_, tls_port_, {"tls.example.com"}, endpoint_json("backend-1")));
  ASSERT_TRUE(wait_routable(router_, "tls.example.com", 200)) << router_.get("tls.example.com").describe();
  const HttpResponse ok = router_.get("tls.example.com", "/");
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_NE(ok.body.find("s_server"), std::string::npos) << "not the TLS server's page: " << ok.body;

  // A certificate that does not name the registered server_cert_domain_san.
  ASSERT_TRUE(unregister_route(client_, tls_port_, {"tls.example.com"}, endpoint_json("backend-1")));
  ASSERT_TRUE(register_route(client_, tls_port_, {"wrong-name.example.com"}, endpoint_json("backend-2")));
  ASSERT_TRUE(wait_routable(router_, "wrong-name.example.com", 526));
  const HttpResponse wrong = router_.get("wrong-name.example.com", "/");
  EXPECT_EQ(wrong.status, 526) << wrong.describe();
  EXPECT_NE(wrong.body.find("526 Invalid SSL Certificate"), std::string::npos) << wrong.body;
  EXPECT_EQ(wrong.header("X-Cf-Routererror").value_or("").rfind("endpoint_failure (tls: ", 0), 0u) << wrong.describe();
}

TEST_F(TlsBackendTest, UntrustedCertificateIsRefused) {
  ASSERT_TRUE(make_certificates()) << read_file(dir_.file("openssl.log"));
  ASSERT_NO_FATAL_FAILURE(start_all());  // no ca_certs: the system's CAs, which do not know the test CA
  ASSERT_TRUE(start_tls_backend()) << s_server_.log();
  ASSERT_TRUE(register_route(client_, tls_port_, {"untrusted.example.com"}, endpoint_json("backend-1")));
  ASSERT_TRUE(wait_routable(router_, "untrusted.example.com", 526)) << router_.get("untrusted.example.com").describe();
  const HttpResponse refused = router_.get("untrusted.example.com", "/");
  EXPECT_EQ(refused.status, 526) << refused.describe();
  EXPECT_NE(refused.header("X-Cf-Routererror").value_or("").find("tls"), std::string::npos) << refused.describe();
  EXPECT_TRUE(router_.process().running());
}

}  // namespace
}  // namespace sy::test
