// The one write saguard makes to a ServiceAccount's spec: a server-side apply of an
// applied configuration that holds automountServiceAccountToken: false and nothing else
// (besides the identity of the object), sent with PATCH, Content-Type
// application/apply-patch+yaml, fieldManager=saguard and force=true. Secrets,
// imagePullSecrets, labels, annotations and other managers' fields are untouched, and
// managedFields record saguard (operation Apply) as the owner of that one field.
//
// Why server-side apply, and why forced (issue 16, policy/ownership.h):
//   - The reconciler sends it only when ownership.h's mayWriteFalse() says no source of
//     truth declares another value: the field is unset, or someone's plain update
//     (`kubectl edit`, another controller) set it: drift. An unforced apply conflicts
//     with any other owner, an Update owner too (tests/integration/ownership_test.cpp),
//     so reverting drift needs force; force never takes a field from a declaring
//     manager, because saguard does not send it then.
//   - A source of truth that leaves the field out of its configuration never removes it:
//     the field belongs to saguard's applied configuration, not to the tool's (proved
//     against the real API server for client-side and server-side re-applies).
// metadata.uid makes it a precondition, not a create: server-side apply creates an
// object that does not exist, but with a uid that no existing object has the API
// server answers 409 Conflict ("uid mismatch"), and with another object's uid 422.
// The reconciler sends it for an enforced account for which needsPatch() is true; never
// for one already false.
#pragma once

#include <string>
#include <string_view>

#include "objects/objects.h"

namespace saguard::policy {

// Whether the account's field is anything but false (unset counts: it defaults to true).
bool needsPatch(const objects::ServiceAccount& account);

// {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":..,"namespace":..,"uid":..},
//  "automountServiceAccountToken":false}   (uid left out when empty)
std::string disableAutomountApply(std::string_view ns, std::string_view name, std::string_view uid);

}  // namespace saguard::policy
