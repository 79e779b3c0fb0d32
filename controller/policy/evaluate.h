// evaluate(): what one ServiceAccountPolicy finds in a snapshot of the cluster, as a
// value. Pure: the reconciler writes the policy's status and Events from it, tests
// table it, and nothing in it depends on what saguard did before.
//
//   Evaluation e = evaluate(policy, snapshot);
//   e.counts.selected; e.toPatch;                   // what Enforce changes
//   for (const PendingFinding& f : e.findings) ...  // every finding, messages not built yet
//   std::vector<Finding> shown = showFindings(e.findings);   // status.findings
//
// For each account the snapshot holds, in order:
//   - selectAccount() (selection.h; `bound` from its bindings when unboundOnly);
//   - selected: counted; compliant when its field is false (needsPatch() false); in
//     toPatch when the policy is Enforce and it is not compliant, unless a source of
//     truth declares the field (mayWriteFalse() false, ownership.h): then a
//     DeclaredByOwner finding and counted in declaredByOwner instead;
//   - Audit mode: an AutomountWouldBeDisabled finding while its field is not false;
//   - reportBindings: a BindingGrantsSelectedAccount finding per binding that names it
//     (the API server's built-in all-accounts bindings skipped, bindings.h); `bindings`
//     counts the distinct bindings;
//   - its pods that hold a token count in podsWithToken; with reportPods each gives a
//     TokenMounted or PodOverridesPolicy finding (findings.h).
//   - every finding's message ends with the evidence of the account's token use when
//     there is some (describeUse(), token_use.h).
// The account-level decision across several policies (Enforce beats Audit) is
// combine() of selection.h: evaluate() judges one policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "policy/findings.h"
#include "policy/snapshot.h"
#include "policy/types.h"

namespace saguard::policy {

struct Counts {
  std::int64_t selected = 0;         // accounts the policy selects
  std::int64_t compliant = 0;        // of those, accounts whose field is false
  std::int64_t podsWithToken = 0;    // pods of selected accounts that hold a token
  std::int64_t bindings = 0;         // distinct bindings that grant a selected account permissions
  std::int64_t declaredByOwner = 0;  // Enforce: not compliant, but the field is declared by a
                                     // source of truth, so saguard leaves it (ownership.h)

  friend bool operator==(const Counts&, const Counts&) = default;
};

// A finding before its message is built: most pods that hold a token are neither new
// (their Event went out before) nor among the kMaxFindings a status shows, so their
// message is built only when one of the two is true.
struct PendingFinding {
  FindingKind kind = FindingKind::Pod;
  Reason reason = Reason::TokenMounted;
  Severity severity = Severity::Info;
  Shared<objects::ServiceAccount> account;    // the selected account (every kind)
  Shared<objects::Pod> pod;                   // Pod findings
  Shared<objects::Binding> binding;           // RoleBinding and ClusterRoleBinding findings
  const objects::Subject* subject = nullptr;  // into *binding: the subject naming the account
  UseEvidence use;  // what is known of the account's token use (appended to the message)

  // The namespace and name of the object the finding is about.
  std::string_view namespace_() const;
  std::string_view name() const;
  // What makes two findings "the same" for Events: the object and the reason. The message
  // may change while the finding stays (a pod's TokenMounted reads differently once its
  // account is patched); that is not news worth a second Event. A 64-bit hash: a policy
  // has at most some 10^5 findings, so a collision (one Event not sent) is ~10^-9 likely.
  std::uint64_t key() const;
  Finding build() const;
};

struct Evaluation {
  Counts counts;
  // Enforce: selected, field not false, nobody declares it
  std::vector<Shared<objects::ServiceAccount>> toPatch;
  std::vector<PendingFinding> findings;  // every finding, in account order
  // Selected accounts whose field is false (what counts.compliant counts): the pass
  // results of a policy report (reports/policy_results.h).
  std::vector<Shared<objects::ServiceAccount>> compliant;
};

Evaluation evaluate(const Policy& policy, const Snapshot& snapshot);

// The findings a status shows: the `cap` most severe, ranked as rankFindings() ranks
// them, with messages built for those alone.
std::vector<Finding> showFindings(const std::vector<PendingFinding>& findings,
                                  std::size_t cap = kMaxFindings);

}  // namespace saguard::policy
