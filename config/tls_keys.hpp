#pragma once
// The TLS keys of the node (gorouter's names, at the root of the file) and
// PEM reading, for config.cpp. Every value is checked with OpenSSL as it is
// read — PEM that parses, a private key that matches its certificate, cipher
// names OpenSSL knows — so a context built from a Config cannot fail on a
// value the file had. Start-up and SIGHUP only, main thread.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_read.hpp"

namespace sy::config::detail {

// PEM text (a string, or for certificates a list of strings joined): at
// least one certificate (or a private key) that OpenSSL can read. Errors
// never echo the value (it may be a key).
std::string read_pem(const YAML::Node& node, const std::string& path, bool certificates);

// enable_ssl, ssl_port, disable_http, tls_pem, min_tls_version,
// max_tls_version, cipher_suites, client_cert_validation, client_ca_certs,
// only_trust_client_ca_certs, forwarded_client_cert.
// Unknown keys inside a tls_pem item go to `ignored`.
std::vector<Key> tls_keys(ServerTlsConfig& tls, std::vector<std::string>& ignored);

// Cross-key rules once the file is read: enable_ssl (or tunnel.tls) needs
// tls_pem; min <= max; require/request with only_trust_client_ca_certs needs
// client_ca_certs; disable_http needs enable_ssl.
void finish_tls(Config& config);

// cipher_suites ("A:B:..." with OpenSSL or IANA names) split into an OpenSSL
// cipher list for TLS <= 1.2 and TLS 1.3 suites. Throws Invalid naming the
// first name OpenSSL lacks.
void split_cipher_suites(const std::string& value, const std::string& path, std::string* cipher_list,
                         std::string* tls13_suites);

}  // namespace sy::config::detail
