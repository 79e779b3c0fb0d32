// RestClient: the real Client (client.h), over a Transport.
//
// What it adds to the transport: request targets (resource.h), the bearer token
// (token_source.h: re-read every minute and after a 401, then the request is tried
// once more), the User-Agent saguard/<version>, errors from Status bodies
// (api_status.h), bounded retries of throttled answers (retry.h), and a RequestObserver
// call after every attempt. Logs name the server and the request path, never a token,
// a key or a certificate.
//
//   auto config = kube::loadConfig({.kubeconfig = flags.kubeconfig});
//   auto client = kube::makeRestClient(*config);          // Result<unique_ptr<Client>>
//   auto sa = (*client)->get(kube::resources::kServiceAccounts, "default", "default");
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/retry.h"
#include "kube/token_source.h"
#include "kube/transport.h"

namespace saguard::kube {

struct ClientOptions {
  std::string userAgent = std::string("saguard/") + SAGUARD_VERSION;
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(30)};  // idle timeout of a call
  // The idle timeout of a watch without timeoutSeconds; with timeoutSeconds it is
  // timeoutSeconds + watchTimeoutMargin, rounded up to a whole minute. A healthy watch receives
  // bookmarks about every minute, so silence for this long means a dead connection.
  std::chrono::milliseconds watchIdleTimeout{std::chrono::minutes(5)};
  std::chrono::milliseconds watchTimeoutMargin{std::chrono::seconds(30)};
  std::chrono::milliseconds tokenRefreshInterval{std::chrono::minutes(1)};
  RetryPolicy retry{};
  // Injected dependencies; null = the real ones. Not owned: they must outlive the client.
  const Clock* clock = nullptr;         // SteadyClock: token age, request durations
  Sleeper* sleeper = nullptr;           // RealSleeper: waits between retries
  RandomSource random{};                // defaultRandomSource(): retry jitter
  RequestObserver* observer = nullptr;  // noopRequestObserver()
  FileReader files{};                   // diskFileReader(): the token file
};

class RestClient final : public Client {
 public:
  // `config` gives the server (for messages) and the credentials that are not TLS-level
  // (token, tokenFile); TLS material is the transport's business.
  RestClient(const RestConfig& config, std::unique_ptr<Transport> transport,
             ClientOptions options = {});

  Result<std::string> get(const Resource& resource, std::string_view ns, std::string_view name,
                          const GetOptions& options = {}) override;
  Result<std::string> list(const Resource& resource, std::string_view ns,
                           const ListOptions& options = {}, const CallOptions& call = {}) override;
  Status watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
               const ChunkSink& onChunk, std::stop_token stop = {}) override;
  Result<std::string> create(const Resource& resource, std::string_view ns, std::string_view body,
                             const WriteOptions& options = {}) override;
  Result<std::string> createSubresource(const Resource& resource, std::string_view ns,
                                        std::string_view name, std::string_view subresource,
                                        std::string_view body,
                                        const WriteOptions& options = {}) override;
  Result<std::string> update(const Resource& resource, std::string_view ns, std::string_view name,
                             std::string_view body, const WriteOptions& options = {}) override;
  Result<std::string> updateStatus(const Resource& resource, std::string_view ns,
                                   std::string_view name, std::string_view body,
                                   const WriteOptions& options = {}) override;
  Result<std::string> patch(const Resource& resource, std::string_view ns, std::string_view name,
                            PatchType type, std::string_view body,
                            const WriteOptions& options = {}) override;
  Result<std::string> remove(const Resource& resource, std::string_view ns, std::string_view name,
                             const DeleteOptions& options = {}) override;
  Result<std::string> discover(std::string_view group, std::string_view version) override;

  const std::string& server() const { return transport_->server(); }

 private:
  // Sends with the token, the 401 re-read and the throttling retries; any 2xx is the
  // body, anything else an Error. `sink` non-null = stream the 2xx body to it.
  Result<std::string> execute(HttpRequest request, const ChunkSink* sink,
                              const std::stop_token& stop);
  Result<std::string> write(const char* method, const Resource& resource, std::string_view ns,
                            std::string_view name, std::string_view subresource, std::string body,
                            std::string contentType, const WriteOptions& options, Query query);
  std::chrono::milliseconds timeoutOr(std::chrono::milliseconds timeout) const;

  std::unique_ptr<Transport> transport_;
  ClientOptions options_;
  const Clock& clock_;
  Sleeper& sleeper_;
  RequestObserver& observer_;
  TokenSource tokens_;
  std::string credentials_;  // "bearer token from file F, from kubeconfig K": for 401 messages
};

// The real client for `config`: a CpprestTransport (TLS set up from the config) under a
// RestClient. Invalid when the PEM material in `config` does not parse.
Result<std::unique_ptr<Client>> makeRestClient(const RestConfig& config,
                                               ClientOptions options = {});

}  // namespace saguard::kube
