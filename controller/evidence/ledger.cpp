#include "evidence/ledger.h"

#include <utility>

#include "objects/ref.h"

namespace saguard::evidence {

bool Ledger::record(const policy::TokenUse& use) {
  return fold(objects::objectKey(use.namespace_, use.account), nullptr, &use, true);
}

bool Ledger::merge(const std::string& accountKey, const policy::AccountUse& use) {
  return fold(accountKey, &use, nullptr, false);
}

bool Ledger::fold(const std::string& key, const policy::AccountUse* record,
                  const policy::TokenUse* use, bool markChanged) {
  bool changed = false;
  bool newDay = false;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = accounts_.try_emplace(key);
    policy::AccountUse& account = it->second;
    const std::int64_t before = account.lastUsed;
    changed =
        record != nullptr ? policy::mergeUse(account, *record) : policy::recordUse(account, *use);
    if (!changed) {
      if (inserted) accounts_.erase(it);  // an empty record folded in: nothing to keep
      return false;
    }
    constexpr std::int64_t kDay = 86400;  // days are UTC: whole multiples of 86400 s
    newDay = before == 0 || account.lastUsed / kDay != before / kDay;
    if (markChanged) changed_.insert(key);
  }
  if (newDay && onNewUseDay) onNewUseDay(key);
  return true;
}

void Ledger::observedSince(std::int64_t seconds) {
  if (seconds <= 0) return;
  std::lock_guard lock(mu_);
  if (observingSince_ == 0 || seconds < observingSince_) observingSince_ = seconds;
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
  return it->second;
}

policy::UseEvidence Ledger::evidenceOf(std::string_view ns, std::string_view name) const {
  const std::string key = objects::objectKey(ns, name);
  std::lock_guard lock(mu_);
  policy::UseEvidence evidence{.lastUsed = 0, .observingSince = observingSince_};
  auto it = accounts_.find(key);
  if (it != accounts_.end()) evidence.lastUsed = it->second.lastUsed;
  return evidence;
}

std::map<std::string, policy::AccountUse> Ledger::takeChanged() {
  std::lock_guard lock(mu_);
  std::map<std::string, policy::AccountUse> out;
  for (const std::string& key : changed_) {
    auto it = accounts_.find(key);
    if (it != accounts_.end()) out.emplace(key, it->second);
  }
  changed_.clear();
  return out;
}

std::map<std::string, policy::AccountUse> Ledger::all() const {
  std::lock_guard lock(mu_);
  return {accounts_.begin(), accounts_.end()};
}

std::size_t Ledger::accounts() const {
  std::lock_guard lock(mu_);
  return accounts_.size();
}

std::size_t Ledger::accountsWithUse() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, use] : accounts_) n += use.lastUsed != 0 ? 1 : 0;
  return n;
}

}  // namespace saguard::evidence
