// Findings: what a policy reports about objects that still hold or grant a token,
// shown in the policy's status (at most kMaxFindings, most severe first) and sent as
// Events. The reasons are the fixed Event vocabulary of DESIGN.md.
//
// The reconciler builds findings with the helpers below (pod, binding and account
// findings) for the accounts a policy selects, then calls rankFindings() once per
// status write and findingsToJson() for `status.findings`.
//
// Severity, most severe first (ties: kind, namespace, name, reason, message):
//   Critical  BindingGrantsSelectedAccount  a selected account holds RBAC permissions;
//                                           any token of it, old or new, can use them
//   High      PodOverridesPolicy            a pod holds a token by its own choice and
//                                           keeps it when recreated
//   Medium    TokenMounted                  a pod holds a token that recreating it removes
//   Medium    DeclaredByOwner               Enforce, but a source of truth declares the field
//                                           (policy/ownership.h): saguard does not patch, new
//                                           pods keep getting a token until Git changes; the
//                                           policy is not doing what it says, as urgent as a
//                                           pod holding a token
//   Low       AutomountWouldBeDisabled      Audit: new pods of the account still get a token
//   Info      DriftReverted, AutomountDisabled, PolicyInvalid: actions and policy state,
//             reported as Events and conditions rather than findings
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objects/objects.h"
#include "policy/pod_token.h"
#include "policy/reason.h"
#include "policy/selection.h"

namespace saguard::policy {

inline constexpr std::size_t kMaxFindings = 100;
inline constexpr std::size_t kMaxFindingMessageLength = 1024;  // bytes, as in the CRD

enum class FindingKind : std::uint8_t { ServiceAccount, Pod, RoleBinding, ClusterRoleBinding };

const char* toString(FindingKind kind);

enum class Severity : std::uint8_t { Info, Low, Medium, High, Critical };

const char* toString(Severity severity);
Severity severityOf(Reason reason);

struct Finding {
  FindingKind kind = FindingKind::ServiceAccount;
  std::string namespace_;  // empty for ClusterRoleBindings
  std::string name;
  Reason reason = Reason::TokenMounted;
  std::string message;
  Severity severity = Severity::Info;

  friend bool operator==(const Finding&, const Finding&) = default;
};

// A Finding whose severity is severityOf(reason).
Finding makeFinding(FindingKind kind, std::string namespace_, std::string name, Reason reason,
                    std::string message);

// Sorts most severe first, breaking ties by kind, namespace, name, reason and message
// so that the same set of findings always gives the same status, then keeps the first
// `cap`.
void rankFindings(std::vector<Finding>& findings, std::size_t cap = kMaxFindings);

// The finding for a pod whose account is selected (by any policy with reportPods), or
// nullopt when the pod holds no token. `account` is the pod's ServiceAccount from the
// cache, or nullptr if it is not there. A pod that sets the field true itself and
// holds a token is PodOverridesPolicy; any other pod holding a token is TokenMounted,
// with a message that says where the token came from and what removes it.
std::optional<Finding> podFinding(const objects::Pod& pod, const objects::ServiceAccount* account);
// podFinding()'s reason alone, without building its message: nullopt when the pod holds
// no token. For callers that look at many pods and report few.
std::optional<Reason> podFindingReason(const objects::Pod& pod,
                                       const objects::ServiceAccount* account);

// The finding for a binding that names a selected account through `subject`
// (subjectNamingAccount()): BindingGrantsSelectedAccount, naming the role and the account.
Finding bindingFinding(const objects::Binding& binding, const objects::Subject& subject,
                       std::string_view accountNamespace, std::string_view accountName);

// The finding for an account whose field is not false: AutomountWouldBeDisabled when it
// is audited only; DeclaredByOwner when it is enforced but a source of truth declares
// the field (policy::mayWriteFalse() is false; the message names the manager and the
// fix); nullopt otherwise (an enforced account nobody declares is patched instead).
std::optional<Finding> accountFinding(const objects::ServiceAccount& account,
                                      Enforcement enforcement);

// `status.findings`: [{kind, namespace (omitted when empty), name, reason, message}],
// messages cut to kMaxFindingMessageLength bytes on a UTF-8 character boundary.
nlohmann::json findingsToJson(const std::vector<Finding>& findings);

}  // namespace saguard::policy
