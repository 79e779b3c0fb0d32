// The three Lease calls leader election needs (get, create, update of a
// coordination.k8s.io/v1 Lease, bodies as JSON text), behind an interface so the
// elector is unit-tested against MemoryLeaseApi (tests/support/memory_lease_api.h) and
// runs against the API server through KubeLeaseApi.
//
//   auto client = kube::makeRestClient(config);            // main.cpp
//   leader::KubeLeaseApi leases(**client);
//   auto elector = leader::LeaseElector::create(options, callbacks, leases);
//
// Errors are the API's: NotFound (get of a missing Lease), AlreadyExists (create lost a
// race), Conflict (update with a stale metadata.resourceVersion: someone else wrote
// first), and the transport kinds. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "kube/client.h"

namespace saguard::leader {

class LeaseApi {
 public:
  virtual ~LeaseApi() = default;

  // The Lease's JSON. NotFound when it does not exist. `timeout` bounds the call
  // (0 = the implementation's default).
  virtual Result<std::string> get(std::string_view ns, std::string_view name,
                                  std::chrono::milliseconds timeout) = 0;
  // Creates the Lease `body` (JSON, metadata.name set) in `ns`; the created object.
  virtual Result<std::string> create(std::string_view ns, std::string_view body,
                                     std::chrono::milliseconds timeout) = 0;
  // Replaces the Lease `name` with `body`; the stored object. Conflict when body's
  // metadata.resourceVersion is not the stored one.
  virtual Result<std::string> update(std::string_view ns, std::string_view name,
                                     std::string_view body, std::chrono::milliseconds timeout) = 0;
};

// Leases through a kube::Client (resources::kLeases). The client must outlive this.
class KubeLeaseApi final : public LeaseApi {
 public:
  explicit KubeLeaseApi(kube::Client& client, std::string fieldManager = "saguard")
      : client_(client), fieldManager_(std::move(fieldManager)) {}

  Result<std::string> get(std::string_view ns, std::string_view name,
                          std::chrono::milliseconds timeout) override;
  Result<std::string> create(std::string_view ns, std::string_view body,
                             std::chrono::milliseconds timeout) override;
  Result<std::string> update(std::string_view ns, std::string_view name, std::string_view body,
                             std::chrono::milliseconds timeout) override;

 private:
  kube::Client& client_;
  const std::string fieldManager_;
};

}  // namespace saguard::leader
