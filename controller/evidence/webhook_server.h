// The HTTPS endpoint the kube-apiserver's audit webhook backend posts to. The API server
// is started with --audit-webhook-config-file, a kubeconfig whose cluster.server is this
// server's URL and whose user holds a client certificate; it POSTs one audit.k8s.io/v1
// EventList (JSON) per batch and retries the batch on any non-2xx answer or connection
// error. This server authenticates the caller by that certificate (it must chain to
// clientCaFile, or the TLS handshake fails), reads the whole body and hands it to one
// BatchHandler, whose answer goes back to the API server.
//
// Threading: one I/O thread runs every connection asynchronously, so a slow client never
// blocks another; the handler and the hooks are called on that thread, one at a time.
// HTTP/1.1 keep-alive is kept (the Go client reuses its connections). Any path is served;
// only POST is handled (other methods: 405 with Allow: POST). The Content-Type is not
// checked. Bodies are never logged: they hold request URIs and user names.
//
//   auto server = WebhookServer::start(
//       {.bindAddress = ":9443", .certFile = "/tls/tls.crt", .keyFile = "/tls/tls.key",
//        .clientCaFile = "/tls/client-ca.crt"},
//       [&](std::string& body) { return decoder.accept(body); });   // fast, no API calls
//   if (!server) die(server.error());
//   ...
//   (*server)->stop();   // or let it go out of scope
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace saguard::evidence {

struct WebhookServerOptions {
  // Where to listen: "HOST:PORT" with HOST an IPv4 address, "localhost" (127.0.0.1) or a
  // bracketed IPv6 address ("[::1]:9443"); ":PORT" for every interface (IPv6 and IPv4
  // where the host has IPv6, else IPv4). Port 0 binds a free port (tests): see port().
  std::string bindAddress;
  // PEM files, read once at start(). certFile may hold the chain (leaf first).
  std::string certFile;
  std::string keyFile;  // unencrypted
  // PEM CA certificate(s): a client must present a certificate that chains to one of
  // them, or its TLS handshake is refused.
  std::string clientCaFile;
  // The largest body accepted; a larger one is answered 413 (and the connection closed)
  // without reaching the handler. Must be > 0.
  std::size_t maxBodyBytes = std::size_t{16} << 20;
  // A connection that sends nothing for this long is closed, and a request (headers and
  // body) must arrive within it once its first byte has. Must be > 0.
  std::chrono::seconds idleTimeout{60};
  // Connections held at once; one more is closed as soon as it is accepted. Must be >= 1.
  std::size_t maxConnections = 64;
};

// What the handler answers: an HTTP status in 200..599 (anything else is answered 500)
// and a short message, sent as a text/plain body. A non-2xx status makes the API server
// send the batch again.
struct WebhookAnswer {
  int status = 200;
  std::string message;
};

// Observers, for metrics. All optional; called on the I/O thread, so they must be cheap
// and must not throw.
struct WebhookHooks {
  // Every request answered (whatever the status), with the seconds from its first byte
  // read to the last byte of the answer written.
  std::function<void(int status, double seconds)> onRequest;
  // A TLS handshake that failed: no or an untrusted client certificate, not TLS at all,
  // or a handshake that did not finish within idleTimeout.
  std::function<void()> onHandshakeRefused;
};

// Called once per POST with the whole body, on the I/O thread: it must answer fast (no
// API calls; queue the work elsewhere). The body is the handler's to keep or move from.
// Its capacity is at least body.size() + 64, so a simdjson decoder may parse it as
// padded input (simdjson::padded_string_view(body.data(), body.size(), body.capacity()))
// without a copy. An exception is caught and answered 500; its text is not logged (it
// might quote the batch).
using BatchHandler = std::function<WebhookAnswer(std::string& body)>;

class WebhookServer {
 public:
  // Loads the certificate, key and client CAs, binds, and starts the I/O thread.
  // Invalid: bad options (the message names the field), a file that cannot be read, PEM
  // that does not parse, or a key that is not the certificate's (the message names the
  // file). Unavailable: the address cannot be listened on (in use, or not local).
  static Result<std::unique_ptr<WebhookServer>> start(WebhookServerOptions options,
                                                      BatchHandler handler,
                                                      WebhookHooks hooks = {});
  // Stops (see stop()).
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // The port listened on (the one chosen when bindAddress asked for port 0).
  std::uint16_t port() const { return port_; }

  // Closes the listener and every connection (a request in flight is dropped; the API
  // server will send its batch again) and joins the I/O thread. Idempotent; to be called
  // from one thread at a time, and never from the handler or a hook.
  void stop();

 private:
  struct Impl;
  WebhookServer(std::unique_ptr<Impl> impl, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
};

}  // namespace saguard::evidence
