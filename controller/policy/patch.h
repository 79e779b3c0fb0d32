// The one write saguard makes to a ServiceAccount: a JSON merge patch (RFC 7386) that
// sets automountServiceAccountToken to false and mentions nothing else, so secrets,
// imagePullSecrets, labels, annotations and other managers' fields are untouched.
// Sent with PATCH and Content-Type kMergePatchContentType by the reconciler, for an
// enforced account for which needsPatch() is true; never for one already false.
#pragma once

#include <string>
#include <string_view>

#include "objects/objects.h"

namespace saguard::policy {

inline constexpr std::string_view kMergePatchContentType = "application/merge-patch+json";

// Whether the account's field is anything but false (unset counts: it defaults to true).
bool needsPatch(const objects::ServiceAccount& account);

// {"automountServiceAccountToken":false}
std::string disableAutomountPatch();

}  // namespace saguard::policy
