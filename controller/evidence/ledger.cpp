#include "evidence/ledger.h"

#include <algorithm>
#include <utility>

#include "objects/ref.h"

namespace saguard::evidence {

bool Ledger::record(const policy::TokenUse& use) {
  // objectKey(), built in a buffer of this thread's: a use costs no allocation unless its
  // account is new. (onNewUseDay gets this buffer: it must not record on this thread.)
  thread_local std::string key;
  key.clear();
  if (!use.namespace_.empty()) key.append(use.namespace_).push_back('/');
  key.append(use.account);
  return fold(key, nullptr, &use, true);
}

bool Ledger::merge(const std::string& accountKey, const policy::AccountUse& use) {
  return fold(accountKey, &use, nullptr, false);
}

bool Ledger::fold(const std::string& key, const policy::AccountUse* record,
                  const policy::TokenUse* use, bool markChanged) {
  bool newDay = false;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = accounts_.try_emplace(key);
    policy::AccountUse& account = it->second.use;
    const std::int64_t before = account.lastUsed;
    const bool changed =
        record != nullptr ? policy::mergeUse(account, *record) : policy::recordUse(account, *use);
    if (!changed) {
      if (inserted) accounts_.erase(it);  // an empty record folded in: nothing to keep
      return false;
    }
    constexpr std::int64_t kDay = 86400;  // days are UTC: whole multiples of 86400 s
    newDay = before == 0 || account.lastUsed / kDay != before / kDay;
    if (markChanged && !it->second.changed) {
      it->second.changed = true;
      changed_.push_back(&*it);
    }
  }
  if (newDay && onNewUseDay) onNewUseDay(key);
  return true;
}

void Ledger::observedSince(std::int64_t seconds) {
  if (seconds <= 0) return;
  bool earlier = false;
  {
    std::lock_guard lock(mu_);
    if (observingSince_ != 0 && seconds >= observingSince_) return;
    earlier = observingSince_ != 0;
    observingSince_ = seconds;
  }
  if (earlier && onObservingSinceEarlier) onObservingSinceEarlier();
}

void Ledger::resetObservingSince(std::int64_t seconds) {
  seconds = std::max<std::int64_t>(seconds, 0);
  bool earlier = false;
  {
    std::lock_guard lock(mu_);
    earlier = observingSince_ != 0 && seconds != 0 && seconds < observingSince_;
    observingSince_ = seconds;
  }
  if (earlier && onObservingSinceEarlier) onObservingSinceEarlier();
}

std::int64_t Ledger::observingSince() const {
  std::lock_guard lock(mu_);
  return observingSince_;
}

std::optional<policy::AccountUse> Ledger::lookup(std::string_view ns, std::string_view name) const {
  const std::string key = objects::objectKey(ns, name);
  std::lock_guard lock(mu_);
  auto it = accounts_.find(key);
  if (it == accounts_.end()) return std::nullopt;
  return it->second.use;
}

policy::UseEvidence Ledger::evidenceOf(std::string_view ns, std::string_view name) const {
  const std::string key = objects::objectKey(ns, name);
  std::lock_guard lock(mu_);
  policy::UseEvidence evidence{.lastUsed = 0, .observingSince = observingSince_};
  auto it = accounts_.find(key);
  if (it != accounts_.end()) evidence.lastUsed = it->second.use.lastUsed;
  return evidence;
}

std::map<std::string, policy::AccountUse> Ledger::takeChanged() {
  std::lock_guard lock(mu_);
  std::map<std::string, policy::AccountUse> out;
  for (Accounts::value_type* entry : changed_) {
    out.emplace(entry->first, entry->second.use);
    entry->second.changed = false;
  }
  changed_.clear();
  return out;
}

std::map<std::string, policy::AccountUse> Ledger::all() const {
  std::lock_guard lock(mu_);
  std::map<std::string, policy::AccountUse> out;
  for (const auto& [key, entry] : accounts_) out.emplace(key, entry.use);
  return out;
}

std::size_t Ledger::accounts() const {
  std::lock_guard lock(mu_);
  return accounts_.size();
}

std::size_t Ledger::accountsWithUse() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, entry] : accounts_) n += entry.use.lastUsed != 0 ? 1 : 0;
  return n;
}

}  // namespace saguard::evidence
