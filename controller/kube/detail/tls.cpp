#include "kube/detail/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <climits>

namespace saguard::kube::detail {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

Result<BioPtr> memoryBio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return makeError(ErrorKind::Invalid, "PEM data too large");
  }
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return makeError(ErrorKind::Internal, "out of memory");
  return bio;
}

// The last error of the thread's OpenSSL queue, which is then emptied: a stale entry
// would be misread by the next TLS operation on this thread.
std::string drainErrors() {
  unsigned long last = 0;
  while (unsigned long code = ERR_get_error()) last = code;
  return opensslReason(last);
}

bool isNoMoreData(unsigned long code) {
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

// Refuses to prompt on the terminal for the passphrase of an encrypted key.
int noPassphrase(char*, int, int, void*) {
  return -1;
}

int exDataIndex() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        // The C API hands back the holder configure() allocated.
        // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
        delete static_cast<std::shared_ptr<TlsContext>*>(ptr);
      });
  return index;
}

}  // namespace

std::string opensslReason(unsigned long code) {
  if (code == 0) return {};
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : std::string();
}

Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem) {
  auto bio = memoryBio(pem);
  if (!bio) return bio.error();
  ERR_clear_error();
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio->get(), nullptr, noPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  unsigned long code = ERR_peek_last_error();
  bool clean = code == 0 || isNoMoreData(code);
  std::string reason = drainErrors();
  if (!clean) {
    return makeError(ErrorKind::Invalid,
                     "malformed PEM certificate" + (reason.empty() ? "" : ": " + reason));
  }
  if (certs.empty()) return makeError(ErrorKind::Invalid, "no PEM certificate found");
  return certs;
}

Result<PkeyPtr> parsePrivateKey(std::string_view pem) {
  auto bio = memoryBio(pem);
  if (!bio) return bio.error();
  ERR_clear_error();
  PkeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, noPassphrase, nullptr));
  unsigned long code = ERR_peek_last_error();
  std::string reason = drainErrors();
  if (!key) {
    if (code == 0 || isNoMoreData(code))
      return makeError(ErrorKind::Invalid, "no PEM private key found");
    return makeError(ErrorKind::Invalid, "malformed or encrypted PEM private key" +
                                             (reason.empty() ? "" : ": " + reason));
  }
  return key;
}

Status checkKeyPair(X509* certificate, EVP_PKEY* key) {
  ERR_clear_error();
  int ok = X509_check_private_key(certificate, key);
  drainErrors();
  if (ok != 1)
    return makeError(ErrorKind::Invalid, "the private key does not match the client certificate");
  return {};
}

Result<std::shared_ptr<TlsContext>> TlsContext::create(std::string host, std::string_view caPem,
                                                       std::string_view certPem,
                                                       std::string_view keyPem, bool verify) {
  auto ctx = std::make_shared<TlsContext>();
  ctx->self_ = ctx;
  ctx->host_ = std::move(host);
  ctx->verify_ = verify;
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(ctx->host_.c_str());
  ctx->hostIsIp_ = ip != nullptr;
  ASN1_OCTET_STRING_free(ip);
  ERR_clear_error();

  if (verify && !caPem.empty()) {
    auto cas = parseCertificates(caPem);
    if (!cas) return makeError(ErrorKind::Invalid, "certificate authority: " + cas.error().message);
    ctx->store_.reset(X509_STORE_new());
    if (!ctx->store_) return makeError(ErrorKind::Internal, "out of memory");
    for (auto& ca : *cas) {
      if (X509_STORE_add_cert(ctx->store_.get(), ca.get()) != 1) {
        std::string reason = drainErrors();
        // The same CA listed twice is harmless.
        if (reason.find("already in hash table") == std::string::npos) {
          return makeError(ErrorKind::Invalid,
                           "certificate authority: cannot be trusted: " + reason);
        }
      }
    }
  }
  if (certPem.empty() != keyPem.empty()) {
    return makeError(ErrorKind::Invalid, certPem.empty()
                                             ? "a client key without a client certificate"
                                             : "a client certificate without a client key");
  }
  if (!certPem.empty()) {
    auto chain = parseCertificates(certPem);
    if (!chain)
      return makeError(ErrorKind::Invalid, "client certificate: " + chain.error().message);
    auto key = parsePrivateKey(keyPem);
    if (!key) return makeError(ErrorKind::Invalid, "client key: " + key.error().message);
    if (Status st = checkKeyPair(chain->front().get(), key->get()); !st) return st.error();
    ctx->chain_ = std::move(*chain);
    ctx->key_ = std::move(*key);
  }
  return ctx;
}

void TlsContext::configure(SSL_CTX* ctx) {
  if (!chain_.empty()) {
    SSL_CTX_use_certificate(ctx, chain_.front().get());
    for (std::size_t i = 1; i < chain_.size(); ++i) SSL_CTX_add1_chain_cert(ctx, chain_[i].get());
    SSL_CTX_use_PrivateKey(ctx, key_.get());
  }
  if (verify_) {
    if (store_) SSL_CTX_set1_cert_store(ctx, store_.get());  // replaces the system store
    auto self = self_.lock();
    // Owned by the SSL_CTX from here on: its ex_data free callback deletes it.
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
    auto* holder = new std::shared_ptr<TlsContext>(std::move(self));
    SSL_CTX_set_ex_data(ctx, exDataIndex(), holder);
    SSL_CTX_set_cert_verify_callback(ctx, &TlsContext::verifyChain, holder->get());
  }
  drainErrors();
}

void TlsContext::configureClient(SSL_CTX* ctx) {
  if (verify_) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!store_) SSL_CTX_set_default_verify_paths(ctx);
  }
  configure(ctx);
}

void TlsContext::setServerName(SSL* ssl) const {
  if (!hostIsIp_) SSL_set_tlsext_host_name(ssl, host_.c_str());
}

// Replaces the whole chain verification of the handshake (SSL_CTX_set_cert_verify_callback).
// cpprestsdk installs Boost's rfc2818 host check as the per-certificate callback; it
// cannot say why it failed, and it falls back to the subject CN, which Kubernetes
// clients no longer accept. Here OpenSSL checks the chain and the subjectAltNames
// (X509_VERIFY_PARAM) and the failure reason is kept for the error message.
int TlsContext::verifyChain(X509_STORE_CTX* storeCtx, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  // OpenSSL's own verdict per certificate, unchanged (cpprestsdk's rfc2818 callback is dropped).
  X509_STORE_CTX_set_verify_cb(storeCtx, [](int ok, X509_STORE_CTX*) { return ok; });
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(storeCtx);
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int set = self->hostIsIp_
                ? X509_VERIFY_PARAM_set1_ip_asc(param, self->host_.c_str())
                : X509_VERIFY_PARAM_set1_host(param, self->host_.c_str(), self->host_.size());
  if (set != 1) {
    std::lock_guard lock(self->mu_);
    self->verifyFailure_ = "cannot verify the server name " + self->host_;
    return 0;
  }
  if (X509_verify_cert(storeCtx) == 1) return 1;
  int code = X509_STORE_CTX_get_error(storeCtx);
  std::string why = "certificate verify failed: ";
  why += X509_verify_cert_error_string(code);
  if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    why += " (the server certificate is not valid for " + self->host_ + ")";
  }
  std::lock_guard lock(self->mu_);
  self->verifyFailure_ = std::move(why);
  return 0;
}

std::string TlsContext::takeVerifyFailure() {
  std::lock_guard lock(mu_);
  return std::exchange(verifyFailure_, std::string());
}

}  // namespace saguard::kube::detail
