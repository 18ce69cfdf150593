#include "tests/support/test_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace sy::test {
namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

std::string to_pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("X509V3_EXT_conf_nid " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

TestCert issue(const std::string& common_name, const std::vector<std::string>& dns_names, bool is_ca,
               const TestCert* ca) {
  Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Cert cert(X509_new(), X509_free);
  static long serial = 1;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  Key ca_key(nullptr, EVP_PKEY_free);
  Cert ca_cert(nullptr, X509_free);
  if (ca) {
    std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new_mem_buf(ca->key_pem.data(), -1), BIO_free);
    ca_key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new_mem_buf(ca->cert_pem.data(), -1), BIO_free);
    ca_cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  }
  X509* issuer = ca ? ca_cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  add_extension(cert.get(), issuer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (!dns_names.empty()) {
    std::string san;
    for (const std::string& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    add_extension(cert.get(), issuer, NID_subject_alt_name, san);
  }
  if (X509_sign(cert.get(), ca ? ca_key.get() : key.get(), EVP_sha256()) <= 0) throw std::runtime_error("X509_sign");
  return TestCert{to_pem(cert.get()), to_pem(key.get())};
}

}  // namespace

TestCert make_test_ca(const std::string& common_name) { return issue(common_name, {}, true, nullptr); }

TestCert make_test_cert(const TestCert& ca, const std::string& common_name, const std::vector<std::string>& dns_names) {
  return issue(common_name, dns_names, false, &ca);
}

}  // namespace sy::test
