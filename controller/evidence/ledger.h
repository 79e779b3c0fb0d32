// The ledger: what this replica knows of each account's token use, in memory, folded from
// every audit source (policy/token_use.h decides what counts and how records merge).
// The sources write into it; the reconciler reads it (through the policy Snapshot) and
// the store (evidence/store.h) persists the records that changed and merges back what
// the other replicas persisted.
//
//   Ledger ledger;
//   ledger.onNewUseDay = [&](std::string_view key) { queue.add(accountWorkKey(key)); };
//   if (auto use = policy::tokenUseOf(view)) ledger.record(*use);   // a source's thread
//   policy::UseEvidence e = ledger.evidenceOf("team-a", "default");   // a worker's thread
//
// Thread-safe: one mutex, held for a map lookup and a fold of a few bounded vectors (the
// sources call record() on their hot path; the benchmark measures it).
// Memory: one record per account ever seen, each bounded (AccountUse's lists), so it
// grows with accounts, not with events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policy/token_use.h"

namespace saguard::evidence {

class Ledger {
 public:
  // Called (outside the lock) with the account's key ("ns/name") when a use lands on a
  // day later than any use recorded for it before: the account's last-used annotation
  // is now behind. Set before the sources start. It must not call record() (on this
  // thread, `accountKey` is the buffer record() builds its keys in).
  std::function<void(const std::string& accountKey)> onNewUseDay;
  // Called when observingSince moves earlier after it was known (another replica's, or
  // the store's, earlier start was merged): every `unusedFor` decision may now come
  // sooner than its recheck was scheduled. Set before the sources start.
  std::function<void()> onObservingSinceEarlier;

  // Folds one use in. True when the account's record changed.
  bool record(const policy::TokenUse& use);
  // Folds a persisted or another replica's record in. True when it changed; a merge does
  // not mark the record for persisting again unless it changed (what the store merged is
  // already persisted), and it calls onNewUseDay like record() does.
  bool merge(const std::string& accountKey, const policy::AccountUse& use);

  // Since when use has been observed without a break (0 = not known). observedSince() is
  // a start (this process's, or another replica's in the same period): it only moves
  // observingSince earlier. The store persists it with the period it belongs to and, after
  // merging the replicas' periods (evidence/observation.h), sets the result with
  // resetObservingSince(), which may move it later (observation had a gap: what was seen
  // before it no longer counts) or to 0 (observation is not running). A later move calls
  // nothing: it only makes `unusedFor` answer Unknown longer, and the recheck scheduled for
  // the earlier start comes first and schedules the next.
  void observedSince(std::int64_t seconds);
  void resetObservingSince(std::int64_t seconds);
  std::int64_t observingSince() const;

  std::optional<policy::AccountUse> lookup(std::string_view ns, std::string_view name) const;
  // lastUsed from the ledger, observingSince as above.
  policy::UseEvidence evidenceOf(std::string_view ns, std::string_view name) const;

  // The records changed by record() since the last call, keyed "ns/name", for the store.
  std::map<std::string, policy::AccountUse> takeChanged();
  // Every record (the CLI's report, the store's first write).
  std::map<std::string, policy::AccountUse> all() const;

  std::size_t accounts() const;
  std::size_t accountsWithUse() const;  // accounts with a recorded use (lastUsed != 0)

 private:
  bool fold(const std::string& key, const policy::AccountUse* record, const policy::TokenUse* use,
            bool markChanged);

  struct Entry {
    policy::AccountUse use;
    bool changed = false;  // by record() since the last takeChanged()
  };
  using Accounts = std::unordered_map<std::string, Entry>;

  mutable std::mutex mu_;
  Accounts accounts_;
  // The entries changed by record() since the last takeChanged() (their `changed` set):
  // the records themselves are copied only then, not on every event. Pointers to the
  // map's nodes stay valid through rehashing, and a changed entry is never erased.
  std::vector<Accounts::value_type*> changed_;
  std::int64_t observingSince_ = 0;
};

}  // namespace saguard::evidence
