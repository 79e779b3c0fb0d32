#include "audit/rules.h"

#include <array>

namespace saguard::audit {
namespace {

constexpr std::array<RuleInfo, 6> kRules{{
    {Rule::TokenThroughSelectedAccount, "SAG001", "token-through-selected-account", Level::Error,
     "A workload gets a token through a ServiceAccount that a policy selects.",
     "The pod spec leaves automountServiceAccountToken unset and its ServiceAccount does not set "
     "it "
     "false, so the pod gets an API token, although a policy (or the built-in baseline: no token "
     "through a `default` account) selects the account. Fix: add `automountServiceAccountToken: "
     "false` "
     "at the top level of the ServiceAccount, or under the pod spec."},
    {Rule::PodSetsTrue, "SAG002", "pod-sets-true", Level::Error,
     "A workload sets automountServiceAccountToken: true for an account that a policy selects.",
     "A pod-level true overrides the ServiceAccount, so the pod gets a token whatever the account "
     "says. "
     "Fix: set `automountServiceAccountToken: false` under the pod spec if the pod does not call "
     "the "
     "Kubernetes API; otherwise run it as its own ServiceAccount and exempt that account."},
    {Rule::AccountNotInInput, "SAG003", "account-not-in-input", Level::Warning,
     "A workload's ServiceAccount is not in the input, so whether it gets a token is unknown.",
     "The pod spec leaves automountServiceAccountToken unset and its ServiceAccount is not among "
     "the "
     "linted manifests: the token depends on the account in the cluster. Fix: lint the account "
     "too, or "
     "add `automountServiceAccountToken: false` under the pod spec."},
    {Rule::BindingGrantsSelectedAccount, "SAG004", "binding-grants-selected-account",
     Level::Warning, "A binding grants a role to a ServiceAccount that a policy selects.",
     "The account has RBAC permissions, so its pods may need their token, but a policy disables "
     "it. "
     "Fix: give the pods that call the API an account of their own and exempt it in the policy, or "
     "drop "
     "the binding."},
    {Rule::InvalidPolicy, "SAG005", "invalid-policy", Level::Error,
     "A ServiceAccountPolicy is not valid.",
     "The policy does not pass the checks of the CRD and of saguard; the message names the field. "
     "It is "
     "left out of the evaluation."},
    {Rule::MalformedDocument, "SAG006", "malformed-document", Level::Error,
     "A document is not valid YAML or JSON.",
     "The document could not be parsed and was not checked; the other documents were."},
}};

}  // namespace

std::span<const RuleInfo> allRules() {
  return kRules;
}

const RuleInfo& ruleInfo(Rule rule) {
  return kRules[static_cast<std::size_t>(rule)];
}

const char* toString(Level level) {
  return level == Level::Error ? "error" : "warning";
}

}  // namespace saguard::audit
