// The leader-election record a coordination.k8s.io/v1 Lease holds (its spec:
// holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions),
// read from and written into the Lease's JSON, and metav1.MicroTime text.
//
// The elector (lease_elector.h) reads a Lease with parseLease(), decides, and writes
// back withRecord(json, record): every field it does not own (labels, annotations,
// managedFields, newer spec fields) is carried over untouched, and so is
// metadata.resourceVersion, which makes the update conditional (optimistic
// concurrency: a Conflict means someone else wrote first).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::leader {

struct LeaseRecord {
  std::string holderIdentity{};  // "" = nobody holds the lease (released, or never held)
  std::int32_t leaseDurationSeconds = 0;
  std::string acquireTime{};  // MicroTime text exactly as stored ("" = absent), so that two
  std::string renewTime{};    // records compare equal only when the stored bytes do
  std::int32_t leaseTransitions = 0;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// A Lease as read from (or returned by a write to) the API.
struct ObservedLease {
  std::string json{};             // the whole object, as the server sent it
  std::string resourceVersion{};  // metadata.resourceVersion
  LeaseRecord record{};
};

// metav1.MicroTime: UTC, always six fraction digits, "2024-05-01T10:00:00.123456Z"
// (the API server's RFC3339Micro). The time is truncated to the microsecond.
std::string formatMicroTime(std::chrono::system_clock::time_point time);

// An RFC 3339 date-time ("Z" or "+HH:MM" offset, 0 to 9 fraction digits), to the
// microsecond; nullopt for anything else. Reads what formatMicroTime writes, and
// metav1.Time's whole seconds.
std::optional<std::chrono::system_clock::time_point> parseMicroTime(std::string_view text);

// Reads a Lease's JSON. Internal when it is not a JSON object or a field has the
// wrong type; absent spec fields read as empty / 0.
Result<ObservedLease> parseLease(std::string_view json);

// `leaseJson` with the record's fields written into its spec: empty strings remove the
// field (an empty holderIdentity is a released lease), numbers are always written.
// Everything else is kept. Internal when `leaseJson` is not a JSON object.
Result<std::string> withRecord(std::string_view leaseJson, const LeaseRecord& record);

// A new Lease object (for create) in `ns` named `name` holding `record`.
std::string newLease(std::string_view ns, std::string_view name, const LeaseRecord& record);

}  // namespace saguard::leader
