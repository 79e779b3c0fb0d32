#include "reconcile/status_schedule.h"

#include <algorithm>

namespace saguard::reconcile {

std::optional<Clock::duration> StatusSchedule::changed(const std::string& key,
                                                       Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = due_.try_emplace(key, now);
  Clock::time_point due = now + delay_;
  if (!fresh) {
    if (it->second > now) return std::nullopt;  // still waiting: it will see this change
    due = std::max(due, it->second + interval_);
  }
  it->second = due;
  return due - now;
}

void StatusSchedule::ran(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (auto it = due_.find(key); it != due_.end() && it->second > now) it->second = now;
}

void StatusSchedule::forget(std::string_view key) {
  std::lock_guard lock(mu_);
  if (auto it = due_.find(key); it != due_.end()) due_.erase(it);
}

}  // namespace saguard::reconcile
