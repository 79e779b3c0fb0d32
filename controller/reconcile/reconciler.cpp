#include "reconcile/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <unordered_set>

#include "events/event.h"
#include "policy/bindings.h"
#include "policy/evaluate.h"
#include "policy/patch.h"
#include "policy/selection.h"
#include "reconcile/keys.h"

namespace saguard::reconcile {
namespace {

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

}  // namespace

Reconciler::Reconciler(const ClusterReader& reader, ClusterWriter& writer, Notifier& notifier,
                       ReconcilerOptions options, ReconcileHooks* hooks)
    : reader_(reader),
      writer_(writer),
      notifier_(notifier),
      options_(std::move(options)),
      hooks_(hooks != nullptr ? hooks : &noHooks_) {
  if (!options_.wallClock) options_.wallClock = [] { return std::chrono::system_clock::now(); };
}

queue::Outcome Reconciler::reconcile(const std::string& key) {
  auto parsed = parseKey(key);
  if (!parsed) {
    return queue::Outcome::terminalError(
        makeError(ErrorKind::Internal, "malformed work key: " + key));
  }
  switch (parsed->type) {
    case ParsedKey::Type::Account:
      return reconcileAccount(parsed->namespace_, parsed->name);
    case ParsedKey::Type::Policy:
      return reconcilePolicy(parsed->name);
    case ParsedKey::Type::Reports:
      return reconcileReports();
  }
  return queue::Outcome::done();
}

bool Reconciler::isSelf(std::string_view ns, std::string_view name) const {
  return !options_.selfName.empty() && ns == options_.selfNamespace && name == options_.selfName;
}

policy::AccountVerdict Reconciler::verdictFor(
    const objects::ServiceAccount& account, std::optional<std::chrono::seconds>& recheckIn) const {
  const std::vector<PolicyRecord> records = reader_.policies();  // holds the policies below
  std::vector<const policy::Policy*> policies;
  bool unboundOnly = false;
  std::vector<std::int64_t> windows;  // of the unusedFor policies
  for (const auto& record : records) {
    if (!record.policy) continue;
    unboundOnly = unboundOnly || record.policy->serviceAccounts.unboundOnly;
    if (auto window = record.policy->serviceAccounts.unusedFor) windows.push_back(*window);
    policies.push_back(record.policy.get());
  }
  const std::string_view ns = account.meta.namespace_.view();
  policy::AccountFacts facts;
  if (unboundOnly) {
    auto bindings = reader_.bindingsFor(ns, account.meta.name());
    facts.bound = policy::accountIsBound(bindings.begin(), bindings.end(), ns, account.meta.name());
  }
  recheckIn.reset();
  if (!windows.empty()) {
    facts.use = reader_.useOf(account);
    facts.now = reader_.now();
    for (std::int64_t window : windows) {
      auto at = policy::nextUseChange(window, facts.use, facts.now);
      if (!at) continue;
      const std::chrono::seconds in(std::max<std::int64_t>(*at - facts.now, 1));
      if (!recheckIn || in < *recheckIn) recheckIn = in;
    }
  }
  return policy::combine(std::span<const policy::Policy* const>(policies), account,
                         reader_.namespace_(ns).get(), facts);
}

Status Reconciler::recordUseDay(const objects::ServiceAccount& account,
                                std::optional<std::chrono::seconds>& deferIn) {
  constexpr std::int64_t kDay = 86400;
  const std::string_view ns = account.meta.namespace_.view();
  const std::string_view name = account.meta.name();
  auto day = policy::useDayToRecord(reader_.observedUse(ns, name), account.tokenLastUsed.view());
  if (!day) return {};
  const std::string uid(account.meta.uid());
  const std::int64_t now = reader_.now();
  {
    std::lock_guard lock(mu_);
    auto it = useDayWritten_.find(uid);
    if (it != useDayWritten_.end()) {
      // Written already, and the cache has not caught up: do not write twice.
      if (it->second.day >= *day) return {};
      // Written today already (a late use of yesterday): the rest waits for midnight.
      if (it->second.onDay == now / kDay) {
        deferIn = std::chrono::seconds((now / kDay + 1) * kDay - now);
        return {};
      }
    }
  }
  Status written = writer_.recordUseDay(ns, name, *day, account.meta.resourceVersion());
  if (!written.ok()) return written.is(ErrorKind::NotFound) ? Status{} : written;
  {
    std::lock_guard lock(mu_);
    useDayWritten_[uid] = UseDayWrite{*day, now / kDay};
  }
  spdlog::debug("recorded token use of {}/{} on {}", ns, name, *day);
  return {};
}

std::optional<queue::Outcome> Reconciler::observe(const objects::ServiceAccount& account,
                                                  bool& drifted) {
  const std::string uid(account.meta.uid());
  std::lock_guard lock(mu_);
  if (!policy::needsPatch(account)) {
    seenCompliant_.insert(uid);
    auditNotified_.erase(uid);
    declaredNotified_.erase(uid);
    patchedAt_.erase(uid);
    return queue::Outcome::done();
  }
  auto pending = patchedAt_.find(uid);
  if (pending != patchedAt_.end()) {
    if (cacheBehind(account.meta.resourceVersion(), pending->second)) {
      // Our own patch has not reached the cache yet: do not write twice.
      return queue::Outcome::requeueAfter(options_.cacheCatchUp);
    }
    patchedAt_.erase(pending);
  }
  drifted = seenCompliant_.count(uid) > 0;
  return std::nullopt;
}

queue::Outcome Reconciler::reconcileAccount(const std::string& ns, const std::string& name) {
  auto account = reader_.serviceAccount(ns, name);
  if (!account) return queue::Outcome::done();  // deleted: nothing to do
  std::optional<std::chrono::seconds> deferIn;
  if (Status recorded = recordUseDay(*account, deferIn); !recorded.ok()) {
    return queue::Outcome::error(recorded.error());
  }
  std::optional<std::chrono::seconds> recheckIn;
  const policy::AccountVerdict verdict = verdictFor(*account, recheckIn);
  if (deferIn && (!recheckIn || *deferIn < *recheckIn)) recheckIn = deferIn;
  // Done for now; with unusedFor, the verdict may change by time alone: look again then.
  auto settle = [&] {
    return recheckIn ? queue::Outcome::requeueAfter(*recheckIn) : queue::Outcome::done();
  };
  bool drifted = false;
  if (auto settled = observe(*account, drifted)) return *settled;
  if (verdict.enforcement == policy::Enforcement::None) return settle();
  if (isSelf(ns, name)) {
    std::lock_guard lock(mu_);
    if (!loggedSelf_) {
      spdlog::info("skipping {}/{}: it is saguard's own ServiceAccount and saguard needs its token",
                   ns, name);
      loggedSelf_ = true;
    }
    return queue::Outcome::done();
  }
  if (verdict.enforcement == policy::Enforcement::Audit) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = auditNotified_.insert(std::string(account->meta.uid())).second;
    }
    if (first) {
      notifier_.notify(events::refTo(*account), policy::Reason::AutomountWouldBeDisabled,
                       "Audit mode: policy " + verdict.auditedBy.front() +
                           " would set automountServiceAccountToken to false on this account");
    }
    return settle();
  }
  const policy::Declaration declaration = policy::declarationOf(*account);
  if (!policy::mayWriteFalse(declaration)) {
    leaveToOwner(*account, declaration);
    return settle();
  }
  return enforce(*account, verdict, drifted);
}

void Reconciler::leaveToOwner(const objects::ServiceAccount& account,
                              const policy::Declaration& declaration) {
  std::string message = policy::declaredByOwnerMessage(declaration);
  {
    // Told once per account and declaration: a re-sync says nothing new, another
    // manager or value does.
    std::lock_guard lock(mu_);
    auto [it, fresh] = declaredNotified_.try_emplace(std::string(account.meta.uid()), message);
    if (!fresh && it->second == message) return;
    it->second = message;
  }
  spdlog::info("left {}/{} alone: {}", account.meta.namespace_.view(), account.meta.name(),
               message);
  notifier_.notify(events::refTo(account), policy::Reason::DeclaredByOwner, std::move(message));
}

queue::Outcome Reconciler::enforce(const objects::ServiceAccount& account,
                                   const policy::AccountVerdict& verdict, bool drifted) {
  const std::string_view ns = account.meta.namespace_.view();
  const std::string_view name = account.meta.name();
  auto written = writer_.disableAutomount(ns, name, account.meta.uid());
  if (!written.ok()) {
    if (written.is(ErrorKind::NotFound)) return queue::Outcome::done();
    hooks_->onPatch(written.is(ErrorKind::Conflict) ? "conflict" : "error");
    return queue::Outcome::error(written.error());
  }
  hooks_->onPatch("success");
  {
    std::lock_guard lock(mu_);
    patchedAt_[std::string(account.meta.uid())] = *written;
    for (const auto& p : verdict.enforcedBy) ++patchedCount_[p];
  }
  const std::string& by = verdict.enforcedBy.front();
  if (drifted) {
    notifier_.notify(events::refTo(account), policy::Reason::DriftReverted,
                     "automountServiceAccountToken was set back to true; policy " + by +
                         " set it to false again");
  } else {
    notifier_.notify(events::refTo(account), policy::Reason::AutomountDisabled,
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
    PolicyRecord gone;
    gone.name = name;
    keepResults(gone, nullptr);
    if (options_.admission != nullptr) {
      // The garbage collector would delete them too (they are owned by the policy), but
      // only once it notices; a policy deleted while saguard was down is its job alone.
      Status removed = options_.admission->keep(name, policy::AdmissionPlan{});
      if (!removed.ok()) return queue::Outcome::error(removed.error());
    }
    return queue::Outcome::done();
  }
  policy::PolicyStatus status = record->policy ? evaluatedStatus(*record) : invalidStatus(*record);
  std::optional<std::chrono::seconds> recheckIn;
  Status admissionFailure;
  if (record->policy && options_.admission != nullptr) {
    status.admission = keepAdmission(*record->policy, recheckIn, admissionFailure);
  }
  if (record->policy) status.reports = reportsCondition();
  hooks_->onPolicySummary(name, status.summary);
  queue::Outcome written = writeStatus(*record, status);
  if (written.result() != queue::WorkResult::Success) return written;
  if (!admissionFailure.ok()) return queue::Outcome::error(admissionFailure.error());
  if (recheckIn) return queue::Outcome::requeueAfter(*recheckIn);
  return written;
}

policy::Condition Reconciler::keepAdmission(const policy::Policy& policy,
                                            std::optional<std::chrono::seconds>& recheckIn,
                                            Status& failure) {
  policy::AdmissionContext context;
  context.selfNamespace = options_.selfNamespace;
  context.mutatingServed = options_.admission->mutatingServed();
  if (policy.serviceAccounts.unboundOnly) {
    const auto shared = reader_.bindings();
    std::vector<const objects::Binding*> bindings;
    bindings.reserve(shared.size());
    for (const auto& b : shared) bindings.push_back(b.get());
    context.bound = policy::boundAccounts(bindings);
  }
  if (policy.serviceAccounts.unusedFor) {
    context.now = reader_.now();
    context.observingSince = reader_.observingSince();
  }
  const policy::AdmissionPlan plan = policy::planAdmission(policy, context);
  if (plan.changesAt) {
    recheckIn = std::chrono::seconds(std::max<std::int64_t>(*plan.changesAt - reader_.now(), 1));
  }
  failure = options_.admission->keep(policy.name, plan);
  if (!failure.ok()) {
    return {.ok = false, .reason = "Error", .message = failure.error().describe()};
  }
  if (plan.objects.empty()) {
    return {.ok = false, .reason = "Disabled", .message = "spec.admission is None"};
  }
  return {.ok = true, .reason = "Kept", .message = plan.summary};
}

policy::PolicyStatus Reconciler::invalidStatus(const PolicyRecord& record) {
  policy::PolicyStatus status;
  status.observedGeneration = record.generation;
  status.reason = policy::ReadyReason::Invalid;
  status.message = record.invalid ? record.invalid->describe() : "the policy cannot be applied";
  keepResults(record, nullptr);  // an invalid policy reports nothing
  bool first = false;
  {
    std::lock_guard lock(mu_);
    auto it = invalidNotified_.find(record.name);
    first = it == invalidNotified_.end() || it->second != record.generation;
    invalidNotified_[record.name] = record.generation;
    status.summary.patched = patchedCount_[record.name];
  }
  if (first) {
    notifier_.notify(events::policyRef(record.name, record.uid), policy::Reason::PolicyInvalid,
                     status.message);
  }
  return status;
}

policy::PolicyStatus Reconciler::evaluatedStatus(const PolicyRecord& record) {
  const auto started = std::chrono::steady_clock::now();
  const policy::Evaluation evaluation = policy::evaluate(*record.policy, reader_);
  policy::PolicyStatus status;
  status.observedGeneration = record.generation;
  status.summary.selected = evaluation.counts.selected;
  status.summary.compliant = evaluation.counts.compliant;
  status.summary.podsWithToken = evaluation.counts.podsWithToken;
  status.summary.bindings = evaluation.counts.bindings;
  status.summary.declaredByOwner = evaluation.counts.declaredByOwner;
  status.reason = policy::ReadyReason::Reconciled;
  status.message = "Selected " + std::to_string(status.summary.selected) + " accounts, " +
                   std::to_string(status.summary.compliant) + " compliant";
  {
    std::lock_guard lock(mu_);
    status.summary.patched = patchedCount_[record.name];
  }
  notifyNewFindings(record.name, evaluation.findings);
  status.findings = policy::showFindings(evaluation.findings);
  keepResults(record, &evaluation);
  spdlog::debug("policy {}: evaluated in {} us ({} selected, {} pods with a token)", record.name,
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count(),
                status.summary.selected, status.summary.podsWithToken);
  return status;
}

void Reconciler::notifyNewFindings(const std::string& policyName,
                                   const std::vector<policy::PendingFinding>& findings) {
  // An account's AutomountWouldBeDisabled Event comes from the account's own reconcile.
  auto eventful = [](const policy::PendingFinding& f) {
    return f.kind != policy::FindingKind::ServiceAccount;
  };
  std::vector<const policy::PendingFinding*> fresh;
  {
    std::unordered_set<std::uint64_t> current;
    current.reserve(findings.size());
    std::lock_guard lock(mu_);
    auto& previous = reported_[policyName];
    for (const auto& f : findings) {
      if (!eventful(f)) continue;
      const std::uint64_t key = f.key();
      current.insert(key);
      if (!previous.count(key)) fresh.push_back(&f);
    }
    previous = std::move(current);
  }
  // Bindings first, then pods: the most severe news first.
  std::stable_partition(fresh.begin(), fresh.end(), [](const policy::PendingFinding* f) {
    return f->kind != policy::FindingKind::Pod;
  });
  for (const policy::PendingFinding* f : fresh) {
    const objects::ObjectRef regarding =
        f->pod ? events::refTo(*f->pod) : events::refTo(*f->binding);
    notifier_.notify(regarding, f->reason, f->build().message);
  }
}

queue::Outcome Reconciler::writeStatus(const PolicyRecord& record,
                                       const policy::PolicyStatus& status) {
  const std::string rendered =
      policy::renderStatus(status, record.statusJson, options_.wallClock());
  if (policy::sameStatus(rendered, record.statusJson)) return queue::Outcome::done();
  Status written = writer_.patchPolicyStatus(record.name, rendered);
  if (!written.ok()) {
    if (written.is(ErrorKind::NotFound)) return queue::Outcome::done();
    return queue::Outcome::error(written.error());
  }
  return queue::Outcome::done();
}

}  // namespace saguard::reconcile
