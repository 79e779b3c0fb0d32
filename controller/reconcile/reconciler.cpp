#include "reconcile/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "policy/bindings.h"
#include "policy/patch.h"
#include "policy/pod_token.h"
#include "policy/selection.h"
#include "reconcile/keys.h"

namespace saguard::reconcile {
namespace {

ObjectRef accountRef(const objects::ServiceAccount& account) {
  return {"v1", "ServiceAccount", account.meta.namespace_.str(), std::string(account.meta.name()),
          std::string(account.meta.uid())};
}

ObjectRef podRef(const objects::Pod& pod) {
  return {"v1", "Pod", pod.meta.namespace_.str(), std::string(pod.meta.name()), std::string(pod.meta.uid())};
}

ObjectRef bindingRef(const objects::Binding& binding) {
  return {"rbac.authorization.k8s.io/v1", binding.clusterScoped ? "ClusterRoleBinding" : "RoleBinding",
          binding.meta.namespace_.str(), std::string(binding.meta.name()), std::string(binding.meta.uid())};
}

ObjectRef policyRef(const PolicyRecord& record) {
  return {"saguard.io/v1alpha1", "ServiceAccountPolicy", "", record.name, record.uid};
}

std::optional<std::uint64_t> parseVersion(std::string_view rv) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (ec != std::errc() || ptr != rv.data() + rv.size()) return std::nullopt;
  return v;
}

// Whether the cached object is older than the write saguard made. resourceVersions
// are opaque by contract, but every API server backed by etcd issues them as
// increasing revisions; when either does not parse, the cache is trusted.
bool cacheBehind(std::string_view cached, std::string_view written) {
  auto c = parseVersion(cached);
  auto w = parseVersion(written);
  return c && w && *c < *w;
}

// What makes a finding "the same" for Events: the object and the reason. The message
// may change while the finding stays (a pod's TokenMounted reads differently once its
// account is patched); that is not news worth a second Event. A 64-bit hash: a policy
// has at most some 10^5 findings, so a collision (one Event not sent) is ~10^-9 likely.
std::uint64_t findingKey(policy::FindingKind kind, std::string_view ns, std::string_view name,
                         policy::Reason reason) {
  constexpr std::uint64_t kPrime = 1099511628211ULL;
  std::uint64_t h = std::hash<std::string_view>{}(ns);
  h = h * kPrime ^ std::hash<std::string_view>{}(name);
  return h * kPrime ^ (static_cast<std::uint64_t>(kind) << 8 | static_cast<std::uint64_t>(reason));
}

std::uint64_t findingKey(const policy::Finding& f) {
  return findingKey(f.kind, f.namespace_, f.name, f.reason);
}

// A pod finding before its message is built. Most pods that hold a token are neither
// new (their Event went out before) nor among the kMaxFindings the status shows, so
// their Finding is built only when one of the two is true.
struct PodCandidate {
  policy::Severity severity;
  policy::Reason reason;
  Shared<objects::Pod> pod;
  Shared<objects::ServiceAccount> account;

  std::uint64_t key() const {
    return findingKey(policy::FindingKind::Pod, pod->meta.namespace_.view(), pod->meta.name(), reason);
  }
  policy::Finding finding() const { return *policy::podFinding(*pod, account.get()); }
};

// moreSevere() of findings.cpp for pod findings, without their messages: (namespace,
// name) is unique among pods, so the message never decides between two of them.
bool morePressing(const PodCandidate& a, const PodCandidate& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  const auto an = a.pod->meta.namespace_.view();
  const auto bn = b.pod->meta.namespace_.view();
  if (an != bn) return an < bn;
  if (a.pod->meta.name() != b.pod->meta.name()) return a.pod->meta.name() < b.pod->meta.name();
  return a.reason < b.reason;
}

}  // namespace

Reconciler::Reconciler(const ClusterReader& reader, ClusterWriter& writer, Notifier& notifier,
                       ReconcilerOptions options, ReconcileHooks* hooks)
    : reader_(reader),
      writer_(writer),
      notifier_(notifier),
      options_(std::move(options)),
      hooks_(hooks != nullptr ? hooks : &noHooks_) {
  if (!options_.mayWrite) options_.mayWrite = [] { return true; };
  if (!options_.wallClock) options_.wallClock = [] { return std::chrono::system_clock::now(); };
}

queue::Outcome Reconciler::reconcile(const std::string& key) {
  auto parsed = parseKey(key);
  if (!parsed) {
    return queue::Outcome::terminalError(makeError(ErrorKind::Internal, "malformed work key: " + key));
  }
  if (parsed->type == ParsedKey::Type::Account) return reconcileAccount(parsed->namespace_, parsed->name);
  return reconcilePolicy(parsed->name);
}

bool Reconciler::isSelf(std::string_view ns, std::string_view name) const {
  return !options_.selfName.empty() && ns == options_.selfNamespace && name == options_.selfName;
}

bool Reconciler::isBound(const objects::ServiceAccount& account) const {
  auto bindings = reader_.bindingsFor(account.meta.namespace_.view(), account.meta.name());
  return policy::accountIsBound(bindings.begin(), bindings.end(), account.meta.namespace_.view(),
                                account.meta.name());
}

std::vector<std::shared_ptr<const policy::Policy>> Reconciler::validPolicies() const {
  std::vector<std::shared_ptr<const policy::Policy>> out;
  for (auto& record : reader_.policies()) {
    if (record.policy) out.push_back(record.policy);
  }
  return out;
}

queue::Outcome Reconciler::reconcileAccount(const std::string& ns, const std::string& name) {
  auto account = reader_.serviceAccount(ns, name);
  if (!account) return queue::Outcome::done();  // deleted: nothing to do
  const std::string uid(account->meta.uid());  // a key of the uid-keyed sets below

  auto policies = validPolicies();
  std::vector<const policy::Policy*> raw;
  raw.reserve(policies.size());
  for (const auto& p : policies) raw.push_back(p.get());
  auto nsRecord = reader_.namespace_(ns);
  bool bound = false;
  for (const auto* p : raw) {
    if (p->serviceAccounts.unboundOnly) {
      bound = isBound(*account);
      break;
    }
  }
  policy::AccountVerdict verdict =
      policy::combine(std::span<const policy::Policy* const>(raw), *account,
                      nsRecord.get(), bound);

  const bool compliant = !policy::needsPatch(*account);
  bool drifted = false;
  {
    std::lock_guard lock(mu_);
    if (compliant) {
      seenCompliant_.insert(uid);
      auditNotified_.erase(uid);
      patchedAt_.erase(uid);
    } else {
      auto pending = patchedAt_.find(uid);
      if (pending != patchedAt_.end()) {
        if (cacheBehind(account->meta.resourceVersion(), pending->second)) {
          // Our own patch has not reached the cache yet: do not write twice.
          return queue::Outcome::requeueAfter(options_.cacheCatchUp);
        }
        patchedAt_.erase(pending);
      }
      drifted = seenCompliant_.count(uid) > 0;
    }
  }
  if (compliant || verdict.enforcement == policy::Enforcement::None) return queue::Outcome::done();

  if (isSelf(ns, name)) {
    std::lock_guard lock(mu_);
    if (!loggedSelf_) {
      spdlog::info("skipping {}/{}: it is saguard's own ServiceAccount and saguard needs its token", ns,
                   name);
      loggedSelf_ = true;
    }
    return queue::Outcome::done();
  }

  // Events are writes too: a replica that is not (or no longer) the leader sends none.
  if (!options_.mayWrite()) {
    spdlog::debug("not writing {}/{}: this replica does not lead", ns, name);
    return queue::Outcome::done();  // the leader will
  }

  if (verdict.enforcement == policy::Enforcement::Audit) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = auditNotified_.insert(uid).second;
    }
    if (first) {
      notifier_.notify(accountRef(*account), policy::Reason::AutomountWouldBeDisabled,
                       "Audit mode: policy " + verdict.auditedBy.front() +
                           " would set automountServiceAccountToken to false on this account");
    }
    return queue::Outcome::done();
  }

  // Enforce.
  auto written = writer_.disableAutomount(ns, name);
  if (!written.ok()) {
    if (written.is(ErrorKind::NotFound)) return queue::Outcome::done();
    hooks_->onPatch(written.is(ErrorKind::Conflict) ? "conflict" : "error");
    return queue::Outcome::error(written.error());
  }
  hooks_->onPatch("success");
  {
    std::lock_guard lock(mu_);
    patchedAt_[uid] = *written;
    for (const auto& p : verdict.enforcedBy) ++patchedCount_[p];
  }
  const std::string& by = verdict.enforcedBy.front();
  if (drifted) {
    notifier_.notify(accountRef(*account), policy::Reason::DriftReverted,
                     "automountServiceAccountToken was set back to true; policy " + by +
                         " set it to false again");
  } else {
    notifier_.notify(accountRef(*account), policy::Reason::AutomountDisabled,
                     "Set automountServiceAccountToken to false (policy " + by +
                         "); pods created from now on get no token");
  }
  spdlog::info("patched {}/{}: automountServiceAccountToken=false (policy {}{})", ns, name, by,
               drifted ? ", drift reverted" : "");
  return queue::Outcome::done();
}

queue::Outcome Reconciler::reconcilePolicy(const std::string& name) {
  auto record = reader_.policy(name);
  if (!record) {
    // Deleted: its findings and Events stop; nothing is reverted.
    {
      std::lock_guard lock(mu_);
      reported_.erase(name);
      invalidNotified_.erase(name);
      patchedCount_.erase(name);
    }
    hooks_->onPolicyDeleted(name);
    return queue::Outcome::done();
  }

  const auto started = std::chrono::steady_clock::now();
  PolicyStatus status;
  status.observedGeneration = record->generation;
  std::vector<policy::Finding> newFindings;
  std::vector<std::pair<ObjectRef, policy::Finding>> toNotify;  // binding findings
  std::vector<PodCandidate> podCandidates;

  if (!record->policy) {
    status.reason = ReadyReason::Invalid;
    status.message = record->invalid ? record->invalid->describe() : "the policy cannot be applied";
    bool first = false;
    {
      std::lock_guard lock(mu_);
      auto it = invalidNotified_.find(name);
      first = it == invalidNotified_.end() || it->second != record->generation;
      invalidNotified_[name] = record->generation;
    }
    if (first) notifier_.notify(policyRef(*record), policy::Reason::PolicyInvalid, status.message);
  } else {
    const policy::Policy& p = *record->policy;
    std::set<std::string> bindingsSeen;
    // Namespaces by their interned name: one store lookup per namespace, not per account.
    std::unordered_map<const char*, Shared<objects::Namespace>> namespaces;
    for (const auto& accountPtr : reader_.serviceAccounts()) {
      const objects::ServiceAccount& account = *accountPtr;
      const std::string_view ns = account.meta.namespace_.view();
      auto [nsIt, nsNew] = namespaces.try_emplace(ns.data());
      if (nsNew) nsIt->second = reader_.namespace_(ns);
      const Shared<objects::Namespace>& nsRecord = nsIt->second;
      std::vector<Shared<objects::Binding>> bindings;
      bool bindingsRead = false;
      auto readBindings = [&] {
        if (!bindingsRead) bindings = reader_.bindingsFor(ns, account.meta.name());
        bindingsRead = true;
      };
      bool bound = false;
      if (p.serviceAccounts.unboundOnly) {
        readBindings();
        bound = policy::accountIsBound(bindings.begin(), bindings.end(), ns, account.meta.name());
      }
      auto selection = policy::selectAccount(p, account, nsRecord.get(), bound);
      if (!selection.selected) continue;
      ++status.summary.selected;
      if (!policy::needsPatch(account)) ++status.summary.compliant;
      if (p.mode == policy::Mode::Audit) {
        if (auto f = policy::accountFinding(account, policy::Enforcement::Audit)) {
          newFindings.push_back(*f);
        }
      }
      if (p.reportBindings) {
        readBindings();
        for (const auto& bindingPtr : bindings) {
          const objects::Binding& binding = *bindingPtr;
          if (policy::isBuiltinAllAccountsBinding(binding)) continue;
          const objects::Subject* subject = policy::subjectNamingAccount(binding, ns, account.meta.name());
          if (subject == nullptr) continue;
          auto f = policy::bindingFinding(binding, *subject, ns, account.meta.name());
          bindingsSeen.insert((binding.clusterScoped ? "crb/" : "rb/" + binding.meta.namespace_.str() + "/") +
                              std::string(binding.meta.name()));
          toNotify.emplace_back(bindingRef(binding), f);
          newFindings.push_back(std::move(f));
        }
      }
      for (const auto& podPtr : reader_.podsOf(ns, account.meta.name())) {
        const objects::Pod& pod = *podPtr;
        if (pod.token == objects::TokenVolume::None) continue;
        ++status.summary.podsWithToken;
        if (!p.reportPods) continue;
        if (auto reason = policy::podFindingReason(pod, &account)) {
          podCandidates.push_back({policy::severityOf(*reason), *reason, podPtr, accountPtr});
        }
      }
    }
    status.summary.bindings = static_cast<std::int64_t>(bindingsSeen.size());
    status.reason = ReadyReason::Reconciled;
    status.message = "Selected " + std::to_string(status.summary.selected) + " accounts, " +
                     std::to_string(status.summary.compliant) + " compliant";
  }

  // Events for findings that are new since the last reconcile of this policy.
  std::vector<const PodCandidate*> freshPods;
  {
    std::unordered_set<std::uint64_t> current;
    current.reserve(toNotify.size() + podCandidates.size());
    std::vector<std::pair<ObjectRef, policy::Finding>> fresh;
    std::lock_guard lock(mu_);
    auto& previous = reported_[name];
    for (auto& [ref, f] : toNotify) {
      const std::uint64_t key = findingKey(f);
      current.insert(key);
      if (!previous.count(key)) fresh.emplace_back(ref, f);
    }
    for (const auto& candidate : podCandidates) {
      const std::uint64_t key = candidate.key();
      current.insert(key);
      if (!previous.count(key)) freshPods.push_back(&candidate);
    }
    previous = std::move(current);
    status.summary.patched = patchedCount_[name];
    toNotify = std::move(fresh);
  }
  for (const auto& [ref, f] : toNotify) notifier_.notify(ref, f.reason, f.message);
  for (const PodCandidate* candidate : freshPods) {
    policy::Finding f = candidate->finding();
    notifier_.notify(podRef(*candidate->pod), f.reason, f.message);
  }

  // Only the most pressing pods can make the status's list; the rest need no Finding.
  if (podCandidates.size() > policy::kMaxFindings) {
    std::partial_sort(podCandidates.begin(),
                      podCandidates.begin() + static_cast<std::ptrdiff_t>(policy::kMaxFindings),
                      podCandidates.end(), morePressing);
    podCandidates.resize(policy::kMaxFindings);
  }
  for (const auto& candidate : podCandidates) newFindings.push_back(candidate.finding());
  policy::rankFindings(newFindings);
  status.findings = std::move(newFindings);
  hooks_->onPolicySummary(name, status.summary);

  std::string rendered = renderStatus(status, record->statusJson, options_.wallClock());
  const bool same = sameStatus(rendered, record->statusJson);
  spdlog::debug("policy {}: status computed in {} us ({} selected, {} pods with a token){}", name,
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                    .count(),
                status.summary.selected, status.summary.podsWithToken, same ? ", unchanged" : "");
  if (same) return queue::Outcome::done();
  if (!options_.mayWrite()) return queue::Outcome::done();
  Status written = writer_.patchPolicyStatus(name, rendered);
  if (!written.ok()) {
    if (written.is(ErrorKind::NotFound)) return queue::Outcome::done();
    return queue::Outcome::error(written.error());
  }
  return queue::Outcome::done();
}

}  // namespace saguard::reconcile
