// The verdicts of `saguard audit` in words, shared by its table/json/yaml output
// (audit_command.cpp) and its report output (audit_reports.h), so both explain a verdict
// the same way.
#pragma once

#include <string>

#include "audit/verdict.h"

namespace saguard::audit {

// "RoleBinding/shop/ci (ClusterRole/edit)", "ClusterRoleBinding/all (ClusterRole/view)".
std::string bindingText(const GrantingBinding& b);

// When the account's token was last used: "2h ago", "today" (a day-granular record of
// today), "never", "-" (no evidence).
std::string lastUsedText(const TokenHolder& h, const Evidence& e);

// Why the verdict, from the evidence of use: "used 2h ago: list configmaps", "no binding
// and no use in 30d", ...; "" without evidence.
std::string evidenceText(const TokenHolder& h, const Evidence& e);

// Who declares the account's automountServiceAccountToken, and how (policy/ownership.h):
//   "-"                                         nobody (or the account was not read)
//   "argocd-controller (apply)"                 server-side apply: an Enforce policy
//                                               leaves a value other than false alone
//   "kubectl-client-side-apply (last-applied)"  client-side apply's annotation
//   "kubectl-edit (update)"                     a plain write: drift, reverted
std::string ownerText(const policy::Declaration& d);

}  // namespace saguard::audit
