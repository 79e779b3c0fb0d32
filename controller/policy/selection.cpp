#include "policy/selection.h"

#include <algorithm>

#include "policy/glob.h"
#include "policy/label_selector.h"

namespace saguard::policy {
namespace {

bool anyGlobMatches(const std::vector<std::string>& globs, std::string_view text) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return globMatch(g, text); });
}

Selection no(SelectionReason reason) {
  return Selection{false, reason, {}};
}

void add(AccountVerdict& verdict, const Policy& policy, const objects::ServiceAccount& account,
         const objects::Namespace* ns, const AccountFacts& facts) {
  if (!selectAccount(policy, account, ns, facts).selected) return;
  if (policy.mode == Mode::Enforce) {
    verdict.enforcedBy.push_back(policy.name);
  } else {
    verdict.auditedBy.push_back(policy.name);
  }
}

void finish(AccountVerdict& verdict) {
  std::sort(verdict.enforcedBy.begin(), verdict.enforcedBy.end());
  std::sort(verdict.auditedBy.begin(), verdict.auditedBy.end());
  if (!verdict.enforcedBy.empty()) {
    verdict.enforcement = Enforcement::Enforce;
  } else if (!verdict.auditedBy.empty()) {
    verdict.enforcement = Enforcement::Audit;
  }
}

}  // namespace

const char* toString(SelectionReason reason) {
  switch (reason) {
    case SelectionReason::Selected:
      return "Selected";
    case SelectionReason::NamespaceNotSelected:
      return "NamespaceNotSelected";
    case SelectionReason::NamespaceExcluded:
      return "NamespaceExcluded";
    case SelectionReason::NameNotMatched:
      return "NameNotMatched";
    case SelectionReason::LabelsNotMatched:
      return "LabelsNotMatched";
    case SelectionReason::Bound:
      return "Bound";
    case SelectionReason::RecentlyUsed:
      return "RecentlyUsed";
    case SelectionReason::UseUnknown:
      return "UseUnknown";
    case SelectionReason::Exempt:
      return "Exempt";
  }
  return "Unknown";
}

const char* toString(Enforcement enforcement) {
  switch (enforcement) {
    case Enforcement::None:
      return "None";
    case Enforcement::Audit:
      return "Audit";
    case Enforcement::Enforce:
      return "Enforce";
  }
  return "None";
}

Selection selectAccount(const Policy& policy, const objects::ServiceAccount& account,
                        const objects::Namespace* ns, const AccountFacts& facts) {
  std::string_view nsName = account.meta.namespace_.view();
  if (ns == nullptr || ns->meta.name() != nsName) return no(SelectionReason::NamespaceNotSelected);
  if (policy.namespaces.selector && !matches(*policy.namespaces.selector, ns->labels)) {
    return no(SelectionReason::NamespaceNotSelected);
  }
  if (anyGlobMatches(policy.namespaces.exclude, nsName)) {
    return no(SelectionReason::NamespaceExcluded);
  }
  if (policy.serviceAccounts.names &&
      !anyGlobMatches(*policy.serviceAccounts.names, account.meta.name())) {
    return no(SelectionReason::NameNotMatched);
  }
  if (policy.serviceAccounts.selector &&
      !matches(*policy.serviceAccounts.selector, account.labels)) {
    return no(SelectionReason::LabelsNotMatched);
  }
  if (policy.serviceAccounts.unboundOnly && facts.bound) return no(SelectionReason::Bound);
  if (policy.serviceAccounts.unusedFor) {
    switch (useWithin(*policy.serviceAccounts.unusedFor, facts.use, facts.now)) {
      case UseWithin::Used:
        return no(SelectionReason::RecentlyUsed);
      case UseWithin::Unknown:
        return no(SelectionReason::UseUnknown);
      case UseWithin::NotUsed:
        break;
    }
  }
  if (const Exemption* exemption = matchingExemption(policy, nsName, account.meta.name())) {
    return Selection{false, SelectionReason::Exempt, exemption->reason};
  }
  return Selection{true, SelectionReason::Selected, {}};
}

const Exemption* matchingExemption(const Policy& policy, std::string_view ns,
                                   std::string_view name) {
  for (const auto& exemption : policy.exemptions) {
    if (globMatch(exemption.namespaceGlob, ns) && globMatch(exemption.nameGlob, name))
      return &exemption;
  }
  return nullptr;
}

AccountVerdict combine(std::span<const Policy* const> policies,
                       const objects::ServiceAccount& account, const objects::Namespace* ns,
                       const AccountFacts& facts) {
  AccountVerdict verdict;
  for (const Policy* policy : policies) {
    if (policy != nullptr) add(verdict, *policy, account, ns, facts);
  }
  finish(verdict);
  return verdict;
}

AccountVerdict combine(std::span<const Policy> policies, const objects::ServiceAccount& account,
                       const objects::Namespace* ns, const AccountFacts& facts) {
  AccountVerdict verdict;
  for (const Policy& policy : policies) add(verdict, policy, account, ns, facts);
  finish(verdict);
  return verdict;
}

}  // namespace saguard::policy
