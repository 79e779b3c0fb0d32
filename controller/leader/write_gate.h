// May this replica write? The one answer every write of saguard asks for, right before
// it is sent: the patch of a ServiceAccount, the status of a policy, an Event
// (reconcile/gated_writes.h puts the question in front of each writer, so no call site
// has to remember it).
//
// Without leader election the gate is always open. With it, the manager
// (manager/manager.h) makes the gate follow the elector: open exactly while
// LeaseElector::isLeader() is true, which turns false at the renew deadline itself,
// even while the renew loop is stuck in a hanging request.
//
//   leader::WriteGate gate;                  // open
//   gate.follow(elector);                    // now open only while leading
//   if (!gate.isOpen()) return leader::WriteGate::refusal("patch ns/sa");   // Unavailable
#pragma once

#include <mutex>
#include <string_view>

#include "base/result.h"
#include "leader/lease_elector.h"

namespace saguard::leader {

class WriteGate {
 public:
  // From now on open only while `elector` leads. `elector` must outlive the gate's use,
  // or close() must be called before it goes.
  void follow(const LeaseElector& elector) {
    std::lock_guard lock(mu_);
    elector_ = &elector;
  }

  // Closed for good: leadership has ended (or the elector is about to go).
  void close() {
    std::lock_guard lock(mu_);
    elector_ = nullptr;
    closed_ = true;
  }

  bool isOpen() const {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    return elector_ == nullptr || elector_->isLeader();
  }

  // Ok when open; Unavailable ("this replica does not lead: <what> refused") when closed.
  Status check(std::string_view what) const;

  // The error check() returns when closed.
  static Error refusal(std::string_view what);

 private:
  mutable std::mutex mu_;
  const LeaseElector* elector_ = nullptr;
  bool closed_ = false;
};

}  // namespace saguard::leader
