// What the reconciler writes, and only that: the one apply to a ServiceAccount and the
// status of a ServiceAccountPolicy. A small interface so tests count writes exactly;
// the real one (reconcile/api_writer.h) goes through the kube Client.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::reconcile {

class ClusterWriter {
 public:
  virtual ~ClusterWriter() = default;

  // Sets automountServiceAccountToken to false on ns/name, the account with this uid,
  // with a forced server-side apply as field manager "saguard" of that field alone
  // (policy/patch.h). Returns the patched object's resourceVersion.
  // Errors: NotFound (deleted meanwhile), Conflict (deleted meanwhile: no object has the
  // uid), Invalid (deleted and created again: another uid), and the transport's kinds.
  virtual Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                               std::string_view uid) = 0;

  // Sets the saguard.io/token-last-used annotation of ns/name to `day` with a JSON merge
  // patch naming only that annotation, on the condition that the account is still at
  // `resourceVersion` (else Conflict: the reconciler looks again with fresh data).
  virtual Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                              std::string_view resourceVersion) = 0;
  // Replaces `status` of the named policy (merge patch on the status subresource).
  virtual Status patchPolicyStatus(std::string_view name, const std::string& statusJson) = 0;
};

}  // namespace saguard::reconcile
