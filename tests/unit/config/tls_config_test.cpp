// gorouter's TLS keys: read, mapped and checked with OpenSSL, every bad
// value refused naming its key.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "config/config.hpp"
#include "tests/support/test_certs.hpp"

namespace sy::config {
namespace {

// `text` as a YAML block scalar indented by `indent` spaces.
std::string block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += std::string(static_cast<size_t>(indent), ' ') + line + "\n";
  return out;
}

class TlsConfigTest : public ::testing::Test {
 protected:
  TlsConfigTest() : ca_(test::make_test_ca("ca")), cert_(test::make_test_cert(ca_, "a.test", {"a.test"})) {}

  std::string tls_pem(const test::TestCert& c, const std::string& key_override = "") {
    return "tls_pem:\n- cert_chain: " + block(c.cert_pem, 4) + "  private_key: " +
           block(key_override.empty() ? c.key_pem : key_override, 4);
  }
  std::variant<Config, ConfigError> parse(const std::string& yaml) { return parse_config(yaml); }
  std::string error(const std::string& yaml) {
    auto r = parse_config(yaml);
    if (auto* e = std::get_if<ConfigError>(&r)) return e->message;
    ADD_FAILURE() << "expected an error for:\n" << yaml;
    return "";
  }

  test::TestCert ca_, cert_;
};

TEST_F(TlsConfigTest, DefaultsAreGorouters) {
  auto r = parse("");
  const Config& c = std::get<Config>(r);
  EXPECT_FALSE(c.tls.enabled);
  EXPECT_EQ(c.tls.port, 443);
  EXPECT_EQ(c.tls.min_version, TlsVersion::v1_2);
  EXPECT_EQ(c.tls.client_cert_validation, ClientCertValidation::none);
  EXPECT_EQ(c.tls.forwarded_client_cert, ForwardedClientCert::always_forward);
}

TEST_F(TlsConfigTest, EveryKeyIsRead) {
  const std::string yaml = "enable_ssl: true\nssl_port: 8443\n" + tls_pem(cert_) +
                           "min_tls_version: TLSv1.1\nmax_tls_version: TLSv1.2\n"
                           "cipher_suites: ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
                           "client_cert_validation: require\nclient_ca_certs: " + block(ca_.cert_pem, 2) +
                           "only_trust_client_ca_certs: true\nforwarded_client_cert: sanitize_set\n";
  auto r = parse(yaml);
  ASSERT_TRUE(std::holds_alternative<Config>(r)) << std::get<ConfigError>(r).message;
  const ServerTlsConfig& t = std::get<Config>(r).tls;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.port, 8443);
  ASSERT_EQ(t.certificates.size(), 1u);
  EXPECT_EQ(t.min_version, TlsVersion::v1_1);
  EXPECT_EQ(t.max_version, TlsVersion::v1_2);
  EXPECT_EQ(t.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384") << "IANA names map to OpenSSL's";
  EXPECT_EQ(t.client_cert_validation, ClientCertValidation::require);
  EXPECT_TRUE(t.only_trust_client_ca_certs);
  EXPECT_EQ(t.forwarded_client_cert, ForwardedClientCert::sanitize_set);
}

TEST_F(TlsConfigTest, Tls13SuitesGoToCiphersuites) {
  auto r = parse("cipher_suites: TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256\n");
  ASSERT_TRUE(std::holds_alternative<Config>(r));
  EXPECT_EQ(std::get<Config>(r).tls.tls13_ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(std::get<Config>(r).tls.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256");
}

TEST_F(TlsConfigTest, UnknownCipherIsNamed) {
  EXPECT_EQ(error("cipher_suites: ECDHE-RSA-AES128-GCM-SHA256:NOT-A-CIPHER\n"),
            "cipher_suites: cipher \"NOT-A-CIPHER\" is not one OpenSSL knows");
}

TEST_F(TlsConfigTest, BadValuesNameTheirKey) {
  EXPECT_EQ(error("min_tls_version: TLSv9\n").rfind("min_tls_version: ", 0), 0u);
  EXPECT_EQ(error("client_cert_validation: always\n").rfind("client_cert_validation: ", 0), 0u);
  EXPECT_EQ(error("forwarded_client_cert: yes\n").rfind("forwarded_client_cert: ", 0), 0u);
  EXPECT_EQ(error("min_tls_version: TLSv1.3\nmax_tls_version: TLSv1.2\n").rfind("min_tls_version: ", 0), 0u);
  EXPECT_EQ(error("enable_ssl: true\n").rfind("tls_pem: ", 0), 0u) << "enable_ssl needs a certificate";
  EXPECT_EQ(error("disable_http: true\n").rfind("disable_http: ", 0), 0u);
  EXPECT_EQ(error("tls_pem:\n- cert_chain: nope\n  private_key: nope\n").rfind("tls_pem[0].cert_chain: ", 0), 0u);
}

TEST_F(TlsConfigTest, KeyOfAnotherCertificateIsRefused) {
  const test::TestCert other = test::make_test_cert(ca_, "b.test", {"b.test"});
  const std::string message = error("enable_ssl: true\n" + tls_pem(cert_, other.key_pem));
  EXPECT_EQ(message, "tls_pem[0].private_key: does not match the first certificate of cert_chain");
  EXPECT_EQ(message.find("PRIVATE KEY"), std::string::npos) << "a key is never echoed";
}

TEST_F(TlsConfigTest, OnlyTrustingClientCasNeedsSome) {
  EXPECT_EQ(error("client_cert_validation: require\nonly_trust_client_ca_certs: true\n").rfind("client_ca_certs: ", 0),
            0u);
}

}  // namespace
}  // namespace sy::config
