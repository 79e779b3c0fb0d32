// TLS material for the API connection, parsed once from PEM and installed into the
// OpenSSL context of every new connection, with server verification done by OpenSSL
// itself: chain against the configured CA, then the host name or IP address of the
// server URL against the certificate's subjectAltNames (as Go's crypto/tls does: the
// subject CN is never used). Internal to kube/: config.cpp validates PEM with it,
// cpprest_transport.cpp installs it.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace saguard::kube::detail {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using StorePtr = std::unique_ptr<X509_STORE, StoreDeleter>;

// Every certificate in a PEM bundle. Errors (Invalid) say what is wrong without
// quoting the input: "no PEM certificate found", "malformed PEM certificate: ...".
Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem);
// One unencrypted private key (RSA, EC or Ed25519).
Result<PkeyPtr> parsePrivateKey(std::string_view pem);
// Invalid when the key is not the certificate's.
Status checkKeyPair(X509* certificate, EVP_PKEY* key);

// The reason text of an OpenSSL error code ("certificate verify failed"), or "".
std::string opensslReason(unsigned long code);

class TlsContext {
 public:
  // `host` is the server URL's host: a DNS name or an IPv4 address. Empty
  // `caPem` = keep the system trust store. `verify` false = install no verification
  // (insecure-skip-tls-verify).
  static Result<std::shared_ptr<TlsContext>> create(std::string host, std::string_view caPem,
                                                    std::string_view certPem,
                                                    std::string_view keyPem, bool verify);

  // Sets up a fresh SSL_CTX for one connection. Called on a cpprest I/O thread; keeps
  // this object alive as long as the SSL_CTX.
  void configure(SSL_CTX* ctx);

  // The same for an SSL_CTX nobody else set up (a watch's own connection,
  // detail/stream_connection.h), with what cpprestsdk does besides calling configure():
  // peer verification on (unless insecure) and the system trust store when no CA was
  // given. Call it before making an SSL from `ctx`.
  void configureClient(SSL_CTX* ctx);
  // SNI for a connection made from such a context: the host when it is a DNS name,
  // nothing for an IP address (RFC 6066).
  void setServerName(SSL* ssl) const;

  // Why the most recent verification failed ("certificate verify failed: ..."), then
  // forgotten; "" when none failed since the last call.
  std::string takeVerifyFailure();

 private:
  static int verifyChain(X509_STORE_CTX* storeCtx, void* arg);

  std::string host_;
  bool hostIsIp_ = false;
  bool verify_ = true;
  StorePtr store_;  // null = system trust store
  std::vector<X509Ptr> chain_;
  PkeyPtr key_;
  std::weak_ptr<TlsContext> self_;

  std::mutex mu_;
  std::string verifyFailure_;
};

}  // namespace saguard::kube::detail
