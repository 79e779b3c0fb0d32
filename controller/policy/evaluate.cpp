#include "policy/evaluate.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>

#include "policy/bindings.h"
#include "policy/ownership.h"
#include "policy/patch.h"
#include "policy/selection.h"

namespace saguard::policy {
namespace {

// Pods rank among themselves as rankFindings() ranks them: (namespace, name) is unique
// among pods, so their messages never decide, and they need not be built to rank.
bool morePressing(const PendingFinding& a, const PendingFinding& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  if (a.namespace_() != b.namespace_()) return a.namespace_() < b.namespace_();
  if (a.name() != b.name()) return a.name() < b.name();
  return a.reason < b.reason;
}

PendingFinding pending(FindingKind kind, Reason reason,
                       const Shared<objects::ServiceAccount>& account, const UseEvidence& use) {
  PendingFinding f;
  f.kind = kind;
  f.reason = reason;
  f.severity = severityOf(reason);
  f.account = account;
  f.use = use;
  return f;
}

// The account's findings and counts under `policy`, once it is selected.
void addSelected(const Policy& policy, const Shared<objects::ServiceAccount>& accountPtr,
                 const std::vector<Shared<objects::Binding>>& bindings, const Snapshot& snapshot,
                 std::set<std::string>& bindingsSeen, Evaluation& out) {
  const objects::ServiceAccount& account = *accountPtr;
  const std::string_view ns = account.meta.namespace_.view();
  const UseEvidence use = snapshot.useOf(account);
  ++out.counts.selected;
  if (!needsPatch(account)) {
    ++out.counts.compliant;
    out.compliant.push_back(accountPtr);
  } else if (policy.mode == Mode::Enforce) {
    if (mayWriteFalse(declarationOf(account))) {
      out.toPatch.push_back(accountPtr);
    } else {
      ++out.counts.declaredByOwner;
      out.findings.push_back(
          pending(FindingKind::ServiceAccount, Reason::DeclaredByOwner, accountPtr, use));
    }
  } else {
    out.findings.push_back(
        pending(FindingKind::ServiceAccount, Reason::AutomountWouldBeDisabled, accountPtr, use));
  }
  if (policy.reportBindings) {
    for (const auto& bindingPtr : bindings) {
      const objects::Binding& binding = *bindingPtr;
      if (isBuiltinAllAccountsBinding(binding)) continue;
      const objects::Subject* subject = subjectNamingAccount(binding, ns, account.meta.name());
      if (subject == nullptr) continue;
      bindingsSeen.insert(
          (binding.clusterScoped ? "crb/" : "rb/" + binding.meta.namespace_.str() + "/") +
          std::string(binding.meta.name()));
      PendingFinding f = pending(
          binding.clusterScoped ? FindingKind::ClusterRoleBinding : FindingKind::RoleBinding,
          Reason::BindingGrantsSelectedAccount, accountPtr, use);
      f.binding = bindingPtr;
      f.subject = subject;
      out.findings.push_back(std::move(f));
    }
  }
  for (const auto& podPtr : snapshot.podsOf(ns, account.meta.name())) {
    if (podPtr->token == objects::TokenVolume::None) continue;
    ++out.counts.podsWithToken;
    if (!policy.reportPods) continue;
    if (auto reason = podFindingReason(*podPtr, &account)) {
      PendingFinding f = pending(FindingKind::Pod, *reason, accountPtr, use);
      f.pod = podPtr;
      out.findings.push_back(std::move(f));
    }
  }
}

}  // namespace

std::string_view PendingFinding::namespace_() const {
  if (pod) return pod->meta.namespace_.view();
  if (binding) return binding->meta.namespace_.view();
  return account ? account->meta.namespace_.view() : std::string_view();
}

std::string_view PendingFinding::name() const {
  if (pod) return pod->meta.name();
  if (binding) return binding->meta.name();
  return account ? account->meta.name() : std::string_view();
}

std::uint64_t PendingFinding::key() const {
  constexpr std::uint64_t kPrime = 1099511628211ULL;
  std::uint64_t h = std::hash<std::string_view>{}(namespace_());
  h = h * kPrime ^ std::hash<std::string_view>{}(name());
  return h * kPrime ^ (static_cast<std::uint64_t>(kind) << 8 | static_cast<std::uint64_t>(reason));
}

Finding PendingFinding::build() const {
  Finding f =
      pod       ? *podFinding(*pod, account.get())
      : binding ? bindingFinding(*binding, *subject, account->meta.namespace_.view(),
                                 account->meta.name())
                : *accountFinding(*account, reason == Reason::DeclaredByOwner ? Enforcement::Enforce
                                                                              : Enforcement::Audit);
  if (std::string evidence = describeUse(use); !evidence.empty()) {
    f.message += " (" + evidence + ")";
  }
  return f;
}

Evaluation evaluate(const Policy& policy, const Snapshot& snapshot) {
  Evaluation out;
  std::set<std::string> bindingsSeen;
  const std::int64_t now = policy.serviceAccounts.unusedFor ? snapshot.now() : 0;
  // Namespaces by their interned name: one lookup per namespace, not per account.
  std::unordered_map<const char*, Shared<objects::Namespace>> namespaces;
  for (const auto& accountPtr : snapshot.serviceAccounts()) {
    const objects::ServiceAccount& account = *accountPtr;
    const std::string_view ns = account.meta.namespace_.view();
    auto [nsIt, nsNew] = namespaces.try_emplace(ns.data());
    if (nsNew) nsIt->second = snapshot.namespace_(ns);
    // Bindings are read only when a decision needs them: before selecting with
    // unboundOnly, after it to report them.
    std::vector<Shared<objects::Binding>> bindings;
    AccountFacts facts;
    if (policy.serviceAccounts.unboundOnly) {
      bindings = snapshot.bindingsFor(ns, account.meta.name());
      facts.bound = accountIsBound(bindings.begin(), bindings.end(), ns, account.meta.name());
    }
    if (policy.serviceAccounts.unusedFor) {
      facts.use = snapshot.useOf(account);
      facts.now = now;
    }
    if (!selectAccount(policy, account, nsIt->second.get(), facts).selected) continue;
    if (policy.reportBindings && !policy.serviceAccounts.unboundOnly) {
      bindings = snapshot.bindingsFor(ns, account.meta.name());
    }
    addSelected(policy, accountPtr, bindings, snapshot, bindingsSeen, out);
  }
  out.counts.bindings = static_cast<std::int64_t>(bindingsSeen.size());
  return out;
}

std::vector<Finding> showFindings(const std::vector<PendingFinding>& findings, std::size_t cap) {
  std::vector<const PendingFinding*> pods;
  std::vector<Finding> shown;
  for (const PendingFinding& f : findings) {
    if (f.kind == FindingKind::Pod) {
      pods.push_back(&f);
    } else {
      shown.push_back(f.build());
    }
  }
  // Only the most pressing pods can make the list; the rest need no message.
  if (pods.size() > cap) {
    auto pressing = [](const PendingFinding* a, const PendingFinding* b) {
      return morePressing(*a, *b);
    };
    std::partial_sort(pods.begin(), pods.begin() + static_cast<std::ptrdiff_t>(cap), pods.end(),
                      pressing);
    pods.resize(cap);
  }
  for (const PendingFinding* f : pods) shown.push_back(f->build());
  rankFindings(shown, cap);
  return shown;
}

}  // namespace saguard::policy
