// Which ServiceAccounts a policy selects, and what several policies decide together.
//
// The reconciler calls selectAccount() for each (policy, account) pair it reconciles,
// then combine() for each account across all valid policies: the verdict says
// whether the account is patched (Enforce), only reported (Audit), or left alone.
//
// One policy selects an account when, in this order (the first failing step is the
// reason reported):
//   1. the account's Namespace is known and passes `namespaces.selector` (omitted = all),
//   2. its name matches no `namespaces.exclude` glob,
//   3. the account's name matches one of `serviceAccounts.names` (omitted = all),
//   4. its labels pass `serviceAccounts.selector` (omitted = all),
//   5. with `unboundOnly`, no binding names it (policy/bindings.h),
//   6. with `unusedFor`, no use of its token is recorded in that window, and observation
//      covers the whole window (policy/token_use.h: useWithin() is NotUsed),
//   7. no exemption of this policy matches its namespace and name.
// Several policies: enforced if any Enforce policy selects it, audited if only Audit
// policies do. Exemptions count per policy: an account exempt in A but selected by an
// Enforce policy B is enforced.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "objects/objects.h"
#include "policy/token_use.h"
#include "policy/types.h"

namespace saguard::policy {

enum class SelectionReason : std::uint8_t {
  Selected,
  NamespaceNotSelected,  // namespace unknown, or its labels fail namespaces.selector
  NamespaceExcluded,     // the namespace name matches a namespaces.exclude glob
  NameNotMatched,        // the account name matches no serviceAccounts.names glob
  LabelsNotMatched,      // the account labels fail serviceAccounts.selector
  Bound,                 // unboundOnly, and a binding names the account
  RecentlyUsed,          // unusedFor, and a use of its token is recorded in the window
  UseUnknown,            // unusedFor, and observation does not cover the window yet
  Exempt,                // an exemption of the policy matches
};

const char* toString(SelectionReason reason);

struct Selection {
  bool selected = false;
  SelectionReason reason = SelectionReason::NamespaceNotSelected;
  std::string exemptionReason;  // for Exempt: the matching exemption's `reason` text

  friend bool operator==(const Selection&, const Selection&) = default;
};

// What selection needs to know about an account beyond its record. Each part is read
// only when a policy asks for it, so a caller may leave out what no policy asks for.
struct AccountFacts {
  bool bound = false;    // a binding names the account (accountIsBound()): unboundOnly
  UseEvidence use;       // what is known of its token's use: unusedFor
  std::int64_t now = 0;  // seconds since the epoch: unusedFor
};

// `ns` is the account's Namespace from the cache, or nullptr when it is not (yet)
// known: an account in an unknown namespace is not selected (its labels cannot be
// judged). A Namespace whose name is not the account's namespace counts as unknown.
Selection selectAccount(const Policy& policy, const objects::ServiceAccount& account,
                        const objects::Namespace* ns, const AccountFacts& facts);

// The first exemption of `policy` whose globs match the account ns/name, or nullptr:
// the one exemption test (selectAccount() step 6, `saguard audit`'s exempt verdict).
const Exemption* matchingExemption(const Policy& policy, std::string_view ns,
                                   std::string_view name);

enum class Enforcement : std::uint8_t {
  None,     // no policy selects the account
  Audit,    // only Audit policies select it: report, never write
  Enforce,  // an Enforce policy selects it: the field must be false
};

const char* toString(Enforcement enforcement);

struct AccountVerdict {
  Enforcement enforcement = Enforcement::None;
  std::vector<std::string> enforcedBy;  // names of the Enforce policies selecting it, sorted
  std::vector<std::string> auditedBy;   // names of the Audit policies selecting it, sorted

  friend bool operator==(const AccountVerdict&, const AccountVerdict&) = default;
};

AccountVerdict combine(std::span<const Policy* const> policies,
                       const objects::ServiceAccount& account, const objects::Namespace* ns,
                       const AccountFacts& facts);
AccountVerdict combine(std::span<const Policy> policies, const objects::ServiceAccount& account,
                       const objects::Namespace* ns, const AccountFacts& facts);

}  // namespace saguard::policy
