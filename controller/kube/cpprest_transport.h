// The real Transport: HTTP/1.1 over TLS with cpprestsdk (Boost.ASIO and OpenSSL) for
// whole answers; streams (watches) each on a connection of their own, read on the
// calling thread with Boost.Beast (detail/stream_connection.h says why), with the same
// TLS verification and messages.
//
// TLS: the server certificate is always verified (chain, and host name or IP address
// against its subjectAltNames) unless the configuration says insecureSkipTlsVerify. When a CA is
// configured it is the only one trusted (the system store is not consulted, and create()
// sets SSL_CERT_FILE=/dev/null so that cpprestsdk stops parsing the system store for
// every new connection: see skipSystemTrustStoreLoad()). The
// client certificate and key are loaded from memory. A failed handshake is a
// Transport error that says why: "TLS handshake with https://127.0.0.1:6443 failed:
// certificate verify failed: self-signed certificate in certificate chain".
//
// Connections of whole answers are pooled and reused (keep-alive). Per-request timeouts are idle
// timeouts (see HttpRequest::timeout). Proxies are not used. A server named by an IPv6
// literal ("https://[fd00::1]:443") is refused at create(): cpprestsdk 2.10 hands the
// bracketed text to its resolver, which cannot resolve it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "kube/transport.h"

namespace saguard::kube {

struct TransportConfig {
  std::string server{};  // "https://host:port" (or http:// for a local proxy)
  std::string caPem{};   // empty = the system trust store
  bool insecureSkipTlsVerify = false;
  std::string clientCertPem{};
  std::string clientKeyPem{};
  std::string userAgent{};  // "saguard/0.1.0"
};

// Sizes cpprestsdk's process-wide I/O thread pool (its default is 40 threads). Call it
// once from main() before any request: later calls, and calls after the pool started,
// return an Internal error and change nothing. Every request saguard makes blocks its
// own calling thread, so the pool only runs socket and TLS completions; one thread
// does that with far fewer context switches (and per-thread allocator arenas) than 40.
// Nothing may block a pool thread (no .get() or .wait() in a continuation). The pool's
// threads block every signal, so signals go to the application's own threads.
Status setIoThreads(std::size_t threads);

class CpprestTransport final : public Transport {
 public:
  // Validates the PEM material (Invalid errors say which part is wrong, never its text).
  static Result<std::unique_ptr<CpprestTransport>> create(const TransportConfig& config);
  ~CpprestTransport() override;

  const std::string& server() const override;
  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop = {}) override;
  Result<HttpResponse> stream(const HttpRequest& request, const ChunkSink& sink,
                              std::stop_token stop) override;

  struct Impl;

 private:
  explicit CpprestTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saguard::kube
