// A FIFO of bounded length that, when full, drops its oldest element to take a new
// one: the recorder's queue between callers and the writer thread, where a recent
// Event is worth more than an old one and a caller must never wait. Two lanes: what is
// pushed to the First lane is popped before anything Routine, and dropped only when no
// Routine element is left to drop (the recorder's Events about saguard's own writes go
// there, ahead of a flood of reports: issue 19). Not thread-safe (the recorder holds its
// lock around it).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace saguard::events::detail {

template <typename T>
class DropOldestQueue {
 public:
  enum class Lane { First, Routine };

  // capacity >= 1, shared by both lanes.
  explicit DropOldestQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends `item` to its lane; returns the element dropped to make room, if any: the
  // oldest Routine one, else the oldest First one.
  std::optional<T> push(T item, Lane lane = Lane::Routine) {
    std::optional<T> dropped;
    if (size() >= capacity_) {
      std::deque<T>& from = routine_.empty() ? first_ : routine_;
      dropped = std::move(from.front());
      from.pop_front();
    }
    (lane == Lane::First ? first_ : routine_).push_back(std::move(item));
    return dropped;
  }

  // The oldest First element, else the oldest Routine one, removed; nullopt when empty.
  std::optional<T> pop() {
    std::deque<T>& from = !first_.empty() ? first_ : routine_;
    if (from.empty()) return std::nullopt;
    std::optional<T> item(std::move(from.front()));
    from.pop_front();
    return item;
  }

  bool empty() const { return first_.empty() && routine_.empty(); }
  std::size_t size() const { return first_.size() + routine_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<T> first_;
  std::deque<T> routine_;
};

}  // namespace saguard::events::detail
