#include "audit/verdict.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "objects/ref.h"
#include "policy/bindings.h"
#include "policy/selection.h"

namespace saguard::audit {

const char* toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::Unneeded:
      return "unneeded";
    case Verdict::Review:
      return "review";
    case Verdict::Needed:
      return "needed";
    case Verdict::Exempt:
      return "exempt";
    case Verdict::Unused:
      return "unused";
  }
  return "unneeded";
}

std::vector<TokenHolder> findTokenHolders(std::span<const objects::Pod> pods,
                                          std::span<const objects::ServiceAccount> accounts,
                                          std::span<const objects::Binding> bindings,
                                          std::span<const policy::Policy> policies,
                                          const Evidence& evidence) {
  std::map<std::pair<std::string_view, std::string_view>, const objects::ServiceAccount*>
      accountIndex;
  for (const objects::ServiceAccount& a : accounts)
    accountIndex.emplace(std::pair(a.meta.namespace_.view(), a.meta.name()), &a);

  std::vector<TokenHolder> rows;
  for (const objects::Pod& pod : pods) {
    if (pod.token == objects::TokenVolume::None) continue;
    const std::string_view ns = pod.meta.namespace_.view();
    const std::string_view account =
        pod.serviceAccountName.empty() ? "default" : pod.serviceAccountName.view();
    auto it = accountIndex.find({ns, account});
    const objects::ServiceAccount* sa = it == accountIndex.end() ? nullptr : it->second;

    TokenHolder row;
    row.namespace_ = std::string(ns);
    row.pod = pod.meta.name();
    row.account = std::string(account);
    row.source = policy::podToken(pod, sa).source;
    if (sa != nullptr) row.fieldOwner = policy::declarationOf(*sa);
    if (pod.controllerKind != objects::ControllerKind::None) {
      row.controller.kind = objects::toString(pod.controllerKind);
      row.controller.namespace_ = row.namespace_;
      row.controller.name = std::string(pod.controllerName());
    }
    for (const objects::Binding& b : bindings) {
      if (policy::isBuiltinAllAccountsBinding(b) || !policy::bindingNamesAccount(b, ns, account))
        continue;
      row.bindings.push_back(GrantingBinding{b.clusterScoped ? "ClusterRoleBinding" : "RoleBinding",
                                             b.meta.namespace_.str(), std::string(b.meta.name()),
                                             b.roleRef.kind.str(), b.roleRef.name.str()});
    }
    std::sort(row.bindings.begin(), row.bindings.end(),
              [](const GrantingBinding& a, const GrantingBinding& b) {
                return std::tie(a.kind, a.namespace_, a.name) <
                       std::tie(b.kind, b.namespace_, b.name);
              });
    for (const policy::Policy& p : policies) {
      if (const policy::Exemption* e = policy::matchingExemption(p, ns, account)) {
        row.exemptBy = p.name + (e->reason.empty() ? std::string() : ": " + e->reason);
        break;
      }
    }
    policy::UseWithin use = policy::UseWithin::Unknown;
    if (evidence.available) {
      const std::string key = objects::objectKey(ns, account);
      auto recorded = evidence.accounts.find(key);
      policy::UseEvidence facts{.lastUsed = 0, .observingSince = evidence.observingSince};
      if (recorded != evidence.accounts.end()) {
        facts.lastUsed = recorded->second.lastUsed;
        for (const auto& a : recorded->second.accesses) {
          if (row.accesses.size() == 3) break;
          row.accesses.push_back(a.verb + " " + a.resource + (a.refused ? " (403)" : ""));
        }
      }
      if (auto legacy = evidence.legacyTokenDays.find(key);
          legacy != evidence.legacyTokenDays.end()) {
        facts = policy::withUseDay(facts, legacy->second);
      }
      if (sa != nullptr) facts = policy::evidenceFor(facts, *sa);
      row.lastUsed = facts.lastUsed;
      use = policy::useWithin(evidence.window, facts, evidence.now);
    }
    if (!row.exemptBy.empty()) {
      row.verdict = Verdict::Exempt;
    } else if (use == policy::UseWithin::Used) {
      row.verdict = Verdict::Needed;
    } else if (use == policy::UseWithin::NotUsed) {
      row.verdict = row.bindings.empty() ? Verdict::Unneeded : Verdict::Unused;
    } else if (row.bindings.empty()) {
      row.verdict = Verdict::Unneeded;
    } else if (account == "default") {
      row.verdict = Verdict::Review;
    } else {
      row.verdict = Verdict::Needed;
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const TokenHolder& a, const TokenHolder& b) {
    return std::tie(a.namespace_, a.pod) < std::tie(b.namespace_, b.pod);
  });
  return rows;
}

AuditSummary summarize(std::span<const TokenHolder> rows) {
  AuditSummary s;
  s.pods = rows.size();
  for (const TokenHolder& r : rows) {
    switch (r.verdict) {
      case Verdict::Unneeded:
        ++s.unneeded;
        break;
      case Verdict::Review:
        ++s.review;
        break;
      case Verdict::Needed:
        ++s.needed;
        break;
      case Verdict::Exempt:
        ++s.exempt;
        break;
      case Verdict::Unused:
        ++s.unused;
        break;
    }
  }
  return s;
}

}  // namespace saguard::audit
