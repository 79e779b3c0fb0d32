// When a policy's status is next recomputed after a change: `delay` after the change
// (a burst costs one computation), and, while changes keep coming, at most once per
// `interval`. Each computation may write the status, a large object that the API
// server validates and etcd stores; written every second of a steady stream of new
// accounts, those writes were in flight beside 5 of saguard's 10 slowest reactions in a
// `make bench-smoke` run (and beside 3.7 % of all of them).
//
//   StatusSchedule schedule(1s, 5s);
//   if (auto after = schedule.changed("policy/p", clock.now())) queue.addAfter(key, *after);
//
// Level-based: a change that finds a computation still waiting adds nothing (that one
// reads the caches when it runs, so it sees the change). Pure: the caller passes the
// time; thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace saguard::reconcile {

class StatusSchedule {
 public:
  // delay >= 0; interval >= 0 (0: no minimum spacing, every change waits `delay`).
  StatusSchedule(Clock::duration delay, Clock::duration interval)
      : delay_(delay), interval_(interval) {}

  // A change concerns `key` at `now`: the delay to add it after, or nullopt when a
  // computation is already due at or after now.
  std::optional<Clock::duration> changed(const std::string& key, Clock::time_point now);

  // A computation of `key` starts at `now` (the work queue ran it): it reads the caches
  // now, so a change after now needs another one. Without this, a computation the queue
  // ran before its due time (the queue keeps the earlier of two times for a key, e.g. a
  // retry's) left the changes between its run and the due time unseen: no computation
  // was scheduled for them (a status stuck at 198 of 200 compliant in an integration
  // run, 2026-12-07). Keys the schedule does not track are ignored.
  void ran(std::string_view key, Clock::time_point now);

  // The policy is gone.
  void forget(std::string_view key);

 private:
  const Clock::duration delay_;
  const Clock::duration interval_;
  std::mutex mu_;
  std::map<std::string, Clock::time_point, std::less<>> due_;  // the last scheduled run
};

}  // namespace saguard::reconcile
