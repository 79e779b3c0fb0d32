// A FIFO of bounded length that, when full, drops its oldest element to take a new
// one: the recorder's queue between callers and the writer thread, where a recent
// Event is worth more than an old one and a caller must never wait. Not thread-safe
// (the recorder holds its lock around it).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace saguard::events::detail {

template <typename T>
class DropOldestQueue {
 public:
  // capacity >= 1.
  explicit DropOldestQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends `item`; returns the element dropped to make room, if any.
  std::optional<T> push(T item) {
    std::optional<T> dropped;
    if (items_.size() >= capacity_) {
      dropped = std::move(items_.front());
      items_.pop_front();
    }
    items_.push_back(std::move(item));
    return dropped;
  }

  // The oldest element, removed; nullopt when empty.
  std::optional<T> pop() {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    return item;
  }

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<T> items_;
};

}  // namespace saguard::events::detail
