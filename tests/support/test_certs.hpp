#pragma once
// Certificates made in-process for tests (OpenSSL's API, no files, no
// processes): an EC P-256 CA and leaf certificates it signs, as PEM.
#include <string>
#include <vector>

namespace sy::test {

struct TestCert {
  std::string cert_pem;  // the certificate (leaf first; no chain)
  std::string key_pem;   // its private key
};

// A self-signed CA named `common_name`.
TestCert make_test_ca(const std::string& common_name);
// A certificate for `dns_names` (subjectAltName; none: only the common
// name), signed by `ca`.
TestCert make_test_cert(const TestCert& ca, const std::string& common_name, const std::vector<std::string>& dns_names);

}  // namespace sy::test
