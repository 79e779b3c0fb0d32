// The fixed Event vocabulary of DESIGN.md: every reason saguard may put on a
// Kubernetes Event, with the Event type, the action and the kinds of object it is
// about bound to it. A caller names only the Reason; the recorder (recorder.h) takes
// the type and the action from here, so a reason cannot go out with the wrong type,
// and an Event about an object of the wrong kind is refused before it is queued.
//
//   reason                        type     action     about
//   AutomountDisabled             Normal   Patch      ServiceAccount
//   DriftReverted                 Warning  Patch      ServiceAccount
//   AutomountWouldBeDisabled      Warning  Audit      ServiceAccount
//   TokenMounted                  Warning  Report     Pod
//   PodOverridesPolicy            Warning  Report     Pod
//   BindingGrantsSelectedAccount  Warning  Report     RoleBinding, ClusterRoleBinding
//   PolicyInvalid                 Warning  Reconcile  ServiceAccountPolicy
//   DeclaredByOwner               Warning  Patch      ServiceAccount
//
// DeclaredByOwner: an Enforce policy selects the account, but a source of truth (a
// server-side apply manager, or kubectl's last-applied configuration) declares
// automountServiceAccountToken other than false, so saguard does not patch it
// (policy/ownership.h). Action Patch: it is the patch saguard held back.
//
// The reasons themselves are policy::Reason (policy/reason.h), with its toString().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "policy/reason.h"

namespace saguard::events {

// Every Event saguard writes carries this reportingController.
inline constexpr std::string_view kReportingController = "saguard.io/controller";

enum class EventType : std::uint8_t { Normal, Warning };

using policy::kAllReasons;
using policy::Reason;
using policy::toString;  // the Event's `reason`: toString(Reason::DriftReverted)

// What the vocabulary binds to a reason.
struct ReasonSpec {
  EventType type;                         // the Event's `type`
  std::string_view action;                // the Event's `action`: what saguard did or was doing
  std::array<std::string_view, 2> kinds;  // the kinds of `regarding` (unused slots empty)
};

const ReasonSpec& specOf(Reason reason);
inline EventType typeOf(Reason reason) {
  return specOf(reason).type;
}
inline std::string_view actionOf(Reason reason) {
  return specOf(reason).action;
}
// Events about what saguard itself wrote or held back (actions Patch and Reconcile) are
// written before reports (Report, Audit) and dropped after them (recorder.h).
inline bool isAboutOwnAction(Reason reason) {
  const std::string_view action = actionOf(reason);
  return action == "Patch" || action == "Reconcile";
}
// Whether an Event with this reason may be about an object of `kind`.
bool isAbout(Reason reason, std::string_view kind);

const char* toString(EventType type);
// The Reason named `name` exactly ("DriftReverted"), or nullopt.
std::optional<Reason> parseReason(std::string_view name);

// The kinds Events are about: their API version and scope. Events about
// cluster-scoped objects go to namespace "default" (event.h's eventNamespace()).
struct KindSpec {
  std::string_view kind;
  std::string_view apiVersion;
  bool namespaced;
};
// The spec of `kind` when it is one the vocabulary's Events are about, else nullptr.
const KindSpec* findKind(std::string_view kind);

}  // namespace saguard::events
