// Certificates made at run time with the OpenSSL C API (EC P-256), for the tests that need
// one tests/unit/support/test_pki.h does not hold (a chain to another CA, a forged issuer)
// and for bench/audit_webhook's throwaway PKI. Header-only and free of gtest, so a bench
// includes it without linking saguard_testing; every failure throws std::runtime_error.
//
//   auto caKey = test_support::newKey();
//   auto ca = test_support::issue({.subject = "ca", .subjectKey = caKey.get(),
//                                  .extensions = {{NID_basic_constraints, "critical,CA:TRUE"}}});
//   std::string pem = test_support::certificatePem(ca.get());
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace saguard::test_support {

struct OpenSslFree {
  void operator()(X509* x) const { X509_free(x); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree>;

// A new EC P-256 key.
inline OpenSslPtr<EVP_PKEY> newKey() {
  OpenSslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("cannot make a P-256 key");
  return key;
}

// The private key in `pem` (e.g. test_pki::k_client_key).
inline OpenSslPtr<EVP_PKEY> readKey(const char* pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem, -1));
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("cannot read a private key");
  return key;
}

namespace detail {
inline std::string pemOf(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(size)};
}
}  // namespace detail

inline std::string certificatePem(X509* cert) {
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), cert);
  return detail::pemOf(out.get());
}

inline std::string keyPem(EVP_PKEY* key) {
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return detail::pemOf(out.get());
}

struct CertificateSpec {
  const char* subject = nullptr;  // the CN, the whole subject name
  EVP_PKEY* subjectKey = nullptr;
  // The issuer's CN as written in the certificate, and the key that signs it (the issuer's,
  // or a forger's); both left out: self-signed.
  const char* issuer = nullptr;
  EVP_PKEY* issuerKey = nullptr;
  // (NID, value) as in openssl.cnf: {NID_basic_constraints, "critical,CA:FALSE"}
  std::vector<std::pair<int, const char*>> extensions;
};

// A certificate for `spec.subjectKey`, valid from an hour ago for a day, with a serial
// number no other certificate made here has.
inline OpenSslPtr<X509> issue(const CertificateSpec& spec) {
  static std::atomic<long> serial{0x5000};
  OpenSslPtr<X509> made(X509_new());
  X509* cert = made.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, spec.subjectKey);
  for (auto [name, cn] :
       {std::pair{X509_get_subject_name(cert), spec.subject},
        std::pair{X509_get_issuer_name(cert), spec.issuer ? spec.issuer : spec.subject}}) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);  // "hash" reads the subject's key
  for (const auto& [nid, value] : spec.extensions) {
    OpenSslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || !X509_add_ext(cert, ext.get(), -1)) {
      throw std::runtime_error(std::string("bad extension ") + value);
    }
  }
  EVP_PKEY* signer = spec.issuerKey ? spec.issuerKey : spec.subjectKey;
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) {
    throw std::runtime_error(std::string("cannot sign the certificate of ") + spec.subject);
  }
  return made;
}

}  // namespace saguard::test_support
