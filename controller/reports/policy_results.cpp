#include "reports/policy_results.h"

#include <string>

#include "objects/ref.h"
#include "policy/ownership.h"
#include "policy/pod_token.h"
#include "policy/token_use.h"

namespace saguard::reports {
namespace {

// The apiVersions of the kinds findings are about.
constexpr std::string_view kCoreV1 = "v1";
constexpr std::string_view kRbacV1 = "rbac.authorization.k8s.io/v1";

objects::ObjectRef refOf(std::string_view apiVersion, std::string_view kind,
                         const objects::Meta& meta) {
  return objects::ObjectRef{.apiVersion = std::string(apiVersion),
                            .kind = std::string(kind),
                            .namespace_ = meta.namespace_.str(),
                            .name = std::string(meta.name()),
                            .uid = std::string(meta.uid()),
                            .resourceVersion = {}};
}

objects::ObjectRef accountRef(const objects::ServiceAccount& account) {
  return refOf(kCoreV1, "ServiceAccount", account.meta);
}

void addUse(const policy::UseEvidence& use, std::map<std::string, std::string>& properties) {
  if (use.lastUsed != 0) properties["tokenLastUsed"] = policy::useDayOf(use.lastUsed);
  if (use.observingSince != 0) {
    properties["observingSince"] = policy::useDayOf(use.observingSince);
  }
}

}  // namespace

std::optional<Outcome> outcomeOf(policy::Reason reason) {
  switch (reason) {
    case policy::Reason::TokenMounted:
    case policy::Reason::PodOverridesPolicy:
    case policy::Reason::AutomountWouldBeDisabled:
    case policy::Reason::DeclaredByOwner:
      return Outcome::Fail;
    case policy::Reason::BindingGrantsSelectedAccount:
      return Outcome::Warn;
    case policy::Reason::AutomountDisabled:
    case policy::Reason::DriftReverted:
    case policy::Reason::PolicyInvalid:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Result> resultOf(const policy::PendingFinding& finding, std::string_view policyName,
                               Timestamp at) {
  const std::optional<Outcome> outcome = outcomeOf(finding.reason);
  if (!outcome || !finding.account) return std::nullopt;
  const objects::ServiceAccount& account = *finding.account;
  Result r;
  r.policy = std::string(policyName);
  r.rule = policy::toString(finding.reason);
  r.result = *outcome;
  r.severity = finding.severity;
  r.timestamp = at;
  r.message = finding.build().message;
  r.properties["serviceAccount"] =
      objects::objectKey(account.meta.namespace_.view(), account.meta.name());
  if (finding.pod) {
    r.resources.push_back(refOf(kCoreV1, "Pod", finding.pod->meta));
    r.resources.push_back(accountRef(account));
    r.properties["tokenSource"] = policy::toString(policy::podToken(*finding.pod, &account).source);
  } else if (finding.binding) {
    const objects::Binding& binding = *finding.binding;
    r.resources.push_back(
        refOf(kRbacV1, binding.clusterScoped ? "ClusterRoleBinding" : "RoleBinding", binding.meta));
    r.resources.push_back(accountRef(account));
    r.properties["role"] = binding.roleRef.kind.str() + "/" + binding.roleRef.name.str();
    if (finding.subject != nullptr) {
      r.properties["subject"] = finding.subject->kind.str() + "/" + finding.subject->name.str();
    }
  } else {
    r.resources.push_back(accountRef(account));
    r.properties["automountServiceAccountToken"] = objects::toString(account.automount);
    if (finding.reason == policy::Reason::DeclaredByOwner) {
      const policy::Declaration declared = policy::declarationOf(account);
      r.properties["declaredBy"] = declared.manager.str();
      r.properties["declaration"] = policy::toString(declared.kind);
    }
  }
  addUse(finding.use, r.properties);
  return r;
}

std::vector<Result> resultsOf(std::string_view policyName,
                              std::span<const policy::PendingFinding> findings, Timestamp at) {
  std::vector<Result> out;
  out.reserve(findings.size());
  for (const policy::PendingFinding& f : findings) {
    if (auto r = resultOf(f, policyName, at)) out.push_back(std::move(*r));
  }
  return out;
}

Result passOf(std::string_view policyName, const objects::ServiceAccount& account, Timestamp at) {
  Result r;
  r.policy = std::string(policyName);
  r.rule = std::string(kAccountCompliantRule);
  r.result = Outcome::Pass;
  r.timestamp = at;
  r.resources.push_back(accountRef(account));
  r.message = "automountServiceAccountToken is false: new pods of this account get no token";
  r.properties["serviceAccount"] =
      objects::objectKey(account.meta.namespace_.view(), account.meta.name());
  r.properties["automountServiceAccountToken"] = objects::toString(account.automount);
  return r;
}

}  // namespace saguard::reports
