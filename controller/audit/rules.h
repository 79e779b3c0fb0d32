// The rules of `saguard lint`, one id per kind of finding. Ids are stable: SARIF
// uploads, CI suppressions and docs refer to them, so a rule is never renumbered.
//
//   SAG001 token-through-selected-account  error
//          A workload (Pod or pod template) leaves automountServiceAccountToken unset,
//          and its ServiceAccount, present in the input, does not set it false although
//          a policy selects it (the built-in baseline selects every `default` account).
//   SAG002 pod-sets-true                   error
//          A workload sets automountServiceAccountToken: true itself, which overrides
//          any account setting, while a policy selects its account.
//   SAG003 account-not-in-input            warning
//          A workload leaves the field unset and its ServiceAccount is not in the
//          input, so whether it gets a token cannot be told; reported, not guessed.
//   SAG004 binding-grants-selected-account warning
//          A RoleBinding/ClusterRoleBinding names an account a policy selects: the
//          account may need its token; exempt it or drop the binding.
//   SAG005 invalid-policy                  error
//          A ServiceAccountPolicy in the input or in --policy is not valid.
//   SAG006 malformed-document              error
//          A document is not valid YAML or JSON; the other documents are still checked.
#pragma once

#include <cstdint>
#include <span>

namespace saguard::audit {

enum class Rule : std::uint8_t {
  TokenThroughSelectedAccount,
  PodSetsTrue,
  AccountNotInInput,
  BindingGrantsSelectedAccount,
  InvalidPolicy,
  MalformedDocument,
};

enum class Level : std::uint8_t { Error, Warning };

struct RuleInfo {
  Rule rule;
  const char* id;    // "SAG001"
  const char* name;  // "token-through-selected-account"
  Level level;
  const char* summary;      // one line
  const char* description;  // a few sentences, with the fix
};

std::span<const RuleInfo> allRules();
const RuleInfo& ruleInfo(Rule rule);
const char* toString(Level level);  // "error", "warning" (SARIF levels)

}  // namespace saguard::audit
