// The informer cache proper: a thread-safe map from namespace/name to the current
// projected record of each object of one kind, plus secondary indexes.
//
//   Store<objects::Pod> pods({{"byAccount", [](const objects::Pod& p) {
//     return std::vector<std::string>{objectKey(p.meta.namespace_.view(),
//     p.serviceAccountName.view())};
//   }}});
//   Store<objects::Pod>::Ptr p = pods.get("ns", "web-0");          // null when absent
//   auto same = pods.byIndex("byAccount", "ns/default");            // Result<std::vector<Ptr>>
//
// Records are immutable once stored and handed out as shared_ptr<const R>: a reader
// keeps what it got for as long as it likes, without a lock and without a copy, while
// the store moves on. An update stores a new record; it never modifies one in place.
//
// An index is a name and a function from a record to the index keys it files the record
// under (none, one or several). Every write (upsert, remove, replace) keeps every index
// exact. Index functions must be pure: the store calls them again on the old record to
// find what to unfile.
//
// Concurrency: any number of readers at once (shared_mutex); writers are serialized
// among themselves by a separate mutex so that replace() can build the new contents
// while readers still read the old ones, and swaps them in under the exclusive lock.
// In an informer the reflector is the only writer.
//
// Memory: one small heap node per object and per index entry besides the record
// itself; keys are views into the records, not strings of their own (see
// bench/cache_memory for the figure per Pod).
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cache/record_traits.h"

namespace saguard::cache {

template <typename R>
class Store {
 public:
  using Ptr = std::shared_ptr<const R>;
  using IndexFunc = std::function<std::vector<std::string>(const R&)>;
  struct Indexer {
    std::string name;
    IndexFunc keys;
  };

  // What a replace() changed, in the order: updates and adds in the order of the new
  // records, then deletes.
  enum class ChangeType { Added, Updated, Deleted };
  struct Change {
    ChangeType type = ChangeType::Added;
    Ptr old;  // Updated, Deleted
    Ptr now;  // Added, Updated
  };

  // Indexer names must be unique and non-empty, functions non-null (else Invalid from
  // validate(); the constructor skips such indexers).
  explicit Store(std::vector<Indexer> indexers = {}) {
    for (auto& indexer : indexers) {
      if (checkIndexer(indexer.name, indexer.keys).ok())
        indexes_.push_back(Index{std::move(indexer), {}});
    }
  }
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  static Status validate(const std::vector<Indexer>& indexers) {
    for (std::size_t i = 0; i < indexers.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (indexers[j].name == indexers[i].name) {
          return makeError(ErrorKind::Invalid, "indexers[" + std::to_string(i) + "].name: \"" +
                                                   indexers[i].name + "\" is already used");
        }
      }
      if (indexers[i].name.empty()) {
        return makeError(ErrorKind::Invalid,
                         "indexers[" + std::to_string(i) + "].name: must not be empty");
      }
      if (!indexers[i].keys) {
        return makeError(ErrorKind::Invalid,
                         "indexers[" + std::to_string(i) + "].keys: must be set");
      }
    }
    return {};
  }

  // Adds an index at any time; it is built from the current contents at once.
  // Invalid when the name is empty or taken, or `keys` is null.
  Status addIndex(std::string name, IndexFunc keys) {
    std::lock_guard writer(writeMu_);
    std::unique_lock lock(mu_);
    for (const auto& index : indexes_) {
      if (index.indexer.name == name) {
        return makeError(ErrorKind::Invalid, "index \"" + name + "\" already exists");
      }
    }
    if (Status st = checkIndexer(name, keys); !st) return st;
    Index index{Indexer{std::move(name), std::move(keys)}, {}};
    for (const auto& entry : objects_) file(index, entry.record);
    indexes_.push_back(std::move(index));
    return {};
  }

  // ---- writes ----

  // Stores `record` under its namespace/name; returns the record it replaced, or null
  // when it is new.
  Ptr upsert(Ptr record) {
    std::lock_guard writer(writeMu_);
    std::unique_lock lock(mu_);
    Ptr old;
    auto it = objects_.find(refOf(*record));
    if (it != objects_.end()) {
      old = it->record;
      unfileAll(old);
      // The key's views move to the new record; its namespace/name are equal by definition.
      it->record = record;
    } else {
      objects_.insert(Entry{record});
    }
    fileAll(record);
    return old;
  }
  Ptr upsert(R record) { return upsert(std::make_shared<const R>(std::move(record))); }

  // Removes the object; returns what was stored, or null when nothing was.
  Ptr remove(std::string_view ns, std::string_view name) {
    std::lock_guard writer(writeMu_);
    std::unique_lock lock(mu_);
    auto it = objects_.find(ObjectName{ns, name});
    if (it == objects_.end()) return nullptr;
    Ptr old = it->record;
    unfileAll(old);
    objects_.erase(it);
    return old;
  }

  // Replaces the whole contents with `records` (a relist) and says what changed: an
  // object absent before is Added, one whose resourceVersion differs is Updated, one
  // no longer present is Deleted. An object with the same resourceVersion keeps its
  // stored record and yields no change. Of two records with the same key, the last wins.
  std::vector<Change> replace(std::vector<Ptr> records) {
    std::lock_guard writer(writeMu_);
    std::vector<Change> changes;
    Set next;
    next.reserve(records.size());
    std::vector<Index> nextIndexes;
    {
      // Readers keep reading the old contents while the new ones are built.
      std::shared_lock lock(mu_);
      // From the end, so that the record kept for a key is its last one. Pointers to
      // the elements of an unordered set stay valid as it grows.
      std::vector<const Entry*> kept(records.size(), nullptr);
      for (std::size_t i = records.size(); i-- > 0;) {
        auto [pos, inserted] = next.insert(Entry{records[i]});
        if (inserted) kept[i] = &*pos;
      }
      // Adds and updates in the order of the records.
      for (const Entry* keptEntry : kept) {
        if (keptEntry == nullptr) continue;
        const Entry& entry = *keptEntry;
        auto before = objects_.find(refOf(*entry.record));
        if (before == objects_.end()) {
          changes.push_back({ChangeType::Added, nullptr, entry.record});
        } else if (RecordTraits<R>::resourceVersionOf(*before->record) !=
                   RecordTraits<R>::resourceVersionOf(*entry.record)) {
          changes.push_back({ChangeType::Updated, before->record, entry.record});
        } else {
          entry.record = before->record;
        }
      }
      // Then deletes, in key order.
      const std::size_t firstDelete = changes.size();
      for (const auto& entry : objects_) {
        if (!next.contains(refOf(*entry.record)))
          changes.push_back({ChangeType::Deleted, entry.record, nullptr});
      }
      std::sort(changes.begin() + static_cast<std::ptrdiff_t>(firstDelete), changes.end(),
                [](const Change& a, const Change& b) {
                  const ObjectName x = refOf(*a.old);
                  const ObjectName y = refOf(*b.old);
                  return std::pair(x.namespace_, x.name) < std::pair(y.namespace_, y.name);
                });
      nextIndexes.reserve(indexes_.size());
      for (const auto& index : indexes_) {
        Index fresh{index.indexer, {}};
        for (const auto& entry : next) file(fresh, entry.record);
        nextIndexes.push_back(std::move(fresh));
      }
    }
    std::unique_lock lock(mu_);
    objects_.swap(next);
    indexes_.swap(nextIndexes);
    lock.unlock();
    return changes;  // the old contents are freed here, outside the lock
  }

  // ---- reads ----

  Ptr get(std::string_view ns, std::string_view name) const {
    std::shared_lock lock(mu_);
    auto it = objects_.find(ObjectName{ns, name});
    return it == objects_.end() ? nullptr : it->record;
  }
  // By "namespace/name" (or "name" for cluster-scoped kinds).
  Ptr getByKey(std::string_view key) const {
    const ObjectName ref = splitObjectKey(key);
    return get(ref.namespace_, ref.name);
  }

  std::vector<Ptr> list() const {
    std::shared_lock lock(mu_);
    std::vector<Ptr> out;
    out.reserve(objects_.size());
    for (const auto& entry : objects_) out.push_back(entry.record);
    return out;
  }

  // Every record filed under `key` in index `index` (in no particular order). Invalid
  // when there is no such index.
  Result<std::vector<Ptr>> byIndex(std::string_view index, std::string_view key) const {
    std::shared_lock lock(mu_);
    const Index* found = findIndex(index);
    if (found == nullptr) return noSuchIndex(index);
    std::vector<Ptr> out;
    auto it = found->buckets.find(key);
    if (it == found->buckets.end()) return out;
    out.assign(it->second.begin(), it->second.end());
    return out;
  }

  // The keys in use in an index. Invalid when there is no such index.
  Result<std::vector<std::string>> indexKeys(std::string_view index) const {
    std::shared_lock lock(mu_);
    const Index* found = findIndex(index);
    if (found == nullptr) return noSuchIndex(index);
    std::vector<std::string> out;
    out.reserve(found->buckets.size());
    for (const auto& [key, bucket] : found->buckets) out.push_back(key);
    return out;
  }

  std::size_t size() const {
    std::shared_lock lock(mu_);
    return objects_.size();
  }

 private:
  // The stored record; its namespace/name is the key. `record` is mutable because an
  // update swaps it for one with the same namespace/name, which leaves the hash and
  // equality of the element unchanged.
  struct Entry {
    mutable Ptr record;
  };
  struct EntryHash {
    using is_transparent = void;
    std::size_t operator()(const Entry& e) const noexcept { return refOf(*e.record).hash(); }
    std::size_t operator()(const ObjectName& r) const noexcept { return r.hash(); }
  };
  struct EntryEqual {
    using is_transparent = void;
    static ObjectName ref(const Entry& e) { return refOf(*e.record); }
    static const ObjectName& ref(const ObjectName& r) { return r; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return ref(a) == ref(b);
    }
  };
  using Set = std::unordered_set<Entry, EntryHash, EntryEqual>;

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>()(s);
    }
  };
  using Bucket = std::unordered_set<Ptr>;
  struct Index {
    Indexer indexer;
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;
  };

  static Status checkIndexer(const std::string& name, const IndexFunc& keys) {
    if (name.empty()) return makeError(ErrorKind::Invalid, "index name must not be empty");
    if (!keys) return makeError(ErrorKind::Invalid, "index \"" + name + "\" has no key function");
    return {};
  }

  static Error noSuchIndex(std::string_view index) {
    return makeError(ErrorKind::Invalid, "no index named \"" + std::string(index) + "\"");
  }

  const Index* findIndex(std::string_view name) const {
    for (const auto& index : indexes_) {
      if (index.indexer.name == name) return &index;
    }
    return nullptr;
  }

  static void file(Index& index, const Ptr& record) {
    for (auto& key : index.indexer.keys(*record)) {
      auto it = index.buckets.find(std::string_view(key));
      if (it == index.buckets.end()) it = index.buckets.emplace(std::move(key), Bucket{}).first;
      it->second.insert(record);
    }
  }
  static void unfile(Index& index, const Ptr& record) {
    for (const auto& key : index.indexer.keys(*record)) {
      auto it = index.buckets.find(std::string_view(key));
      if (it == index.buckets.end()) continue;
      it->second.erase(record);
      if (it->second.empty()) index.buckets.erase(it);
    }
  }
  void fileAll(const Ptr& record) {
    for (auto& index : indexes_) file(index, record);
  }
  void unfileAll(const Ptr& record) {
    for (auto& index : indexes_) unfile(index, record);
  }

  mutable std::shared_mutex mu_;
  std::mutex writeMu_;
  Set objects_;
  std::vector<Index> indexes_;
};

}  // namespace saguard::cache
