// A map with a fixed capacity that forgets its least recently used entry to make
// room: the bounded caches of the event correlator (series and spam buckets), as
// client-go bounds its correlator with an LRU of 4096 entries. Not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>

namespace saguard::events::detail {

template <typename K, typename V, typename Hash = std::hash<K>>
class LruMap {
 public:
  // capacity >= 1.
  explicit LruMap(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  LruMap(const LruMap&) = delete;
  LruMap& operator=(const LruMap&) = delete;

  // The value of `key`, now the most recently used; nullptr when absent. The pointer
  // is valid until the entry is erased or evicted.
  V* get(const K& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return &it->second.value;
  }

  // Whether `key` is present, without counting as a use.
  bool contains(const K& key) const { return entries_.count(key) != 0; }

  // Inserts or replaces `key`, as the most recently used; evicts the least recently
  // used entry when that makes the map exceed its capacity.
  V& put(const K& key, V value) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      it->second.value = std::move(value);
      order_.splice(order_.begin(), order_, it->second.position);
      return it->second.value;
    }
    if (entries_.size() >= capacity_) evictOldest();
    it = entries_.emplace(key, Entry{std::move(value), {}}).first;
    // Keys of an unordered_map never move, so the order list can point at them.
    order_.push_front(&it->first);
    it->second.position = order_.begin();
    return it->second.value;
  }

  bool erase(const K& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    order_.erase(it->second.position);
    entries_.erase(it);
    return true;
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  // Entries evicted to make room since construction.
  std::size_t evictions() const { return evictions_; }

 private:
  struct Entry {
    V value;
    typename std::list<const K*>::iterator position;
  };

  void evictOldest() {
    const K* oldest = order_.back();
    order_.pop_back();
    entries_.erase(*oldest);
    ++evictions_;
  }

  std::size_t capacity_;
  std::size_t evictions_ = 0;
  std::list<const K*> order_;  // most recently used first
  std::unordered_map<K, Entry, Hash> entries_;
};

}  // namespace saguard::events::detail
