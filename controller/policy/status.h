// The `status` of a ServiceAccountPolicy, rendered as the API server stores it.
//
// Kubernetes conventions: observedGeneration, a condition of type Ready (reason
// Reconciled, Invalid or Error) and those of type Admission and Reports, each of whose
// lastTransitionTime moves only when its status changes, then saguard's summary counts and at most
// 100 findings, most severe first. renderStatus() keeps lastTransitionTime from the previous status
// when the condition did not change, so that an unchanged cluster renders byte-for-byte the same
// JSON and sameStatus() lets the reconciler skip the write.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/findings.h"

namespace saguard::policy {

struct Summary {
  std::int64_t selected = 0;         // accounts the policy selects
  std::int64_t compliant = 0;        // of those, accounts whose field is false
  std::int64_t patched = 0;          // accounts saguard patched for this policy since it started
  std::int64_t podsWithToken = 0;    // pods of selected accounts that hold a token
  std::int64_t bindings = 0;         // bindings that grant a selected account permissions
  std::int64_t declaredByOwner = 0;  // Enforce: left alone, a source of truth declares the field

  friend bool operator==(const Summary&, const Summary&) = default;
};

enum class ReadyReason { Reconciled, Invalid, Error };

const char* toString(ReadyReason reason);

// A condition beside Ready, true or false with a reason and a message:
//   Admission  what saguard keeps at admission for the policy (policy/admission.h):
//              True/Kept, False/Disabled (admission None) or False/Error
//   Reports    whether saguard publishes its findings as policy reports (reports/):
//              True/Published, False/NotInstalled (no report API is served),
//              False/Refused (the API server refused a report) or False/UnexpectedSchema
//              (the installed CRD dropped fields of a report); the same for every policy
struct Condition {
  bool ok = false;
  std::string reason;
  std::string message;

  friend bool operator==(const Condition&, const Condition&) = default;
};

struct PolicyStatus {
  std::int64_t observedGeneration = 0;
  ReadyReason reason = ReadyReason::Reconciled;  // Ready=True only for Reconciled
  std::string message;
  Summary summary;
  std::vector<policy::Finding> findings;  // already ranked and capped
  std::optional<Condition> admission;     // absent: not judged (an invalid policy)
  std::optional<Condition> reports;       // absent: saguard publishes no reports (--reports none)
};

// The status as JSON text. `previousJson` is the status the server has ("" if none).
std::string renderStatus(const PolicyStatus& status, const std::string& previousJson,
                         std::chrono::system_clock::time_point now);

// Whether two status documents say the same (parsed JSON equality; "" equals "{}").
bool sameStatus(const std::string& a, const std::string& b);

// RFC 3339 in UTC with second precision, as metav1.Time serializes.
std::string formatTime(std::chrono::system_clock::time_point t);

}  // namespace saguard::policy
