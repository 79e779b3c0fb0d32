// How the reconciler tells people what it did and found: Kubernetes Events with the
// fixed reasons of DESIGN.md (policy::Reason). A small interface so tests see exactly
// which events were emitted; the real one (reconcile/event_notifier.h) goes through
// the events/ recorder, which de-duplicates repeats into series.
#pragma once

#include <string>

#include "objects/ref.h"
#include "policy/reason.h"

namespace saguard::reconcile {

using objects::ObjectRef;

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Must not block: the reconciler calls it from its workers.
  virtual void notify(const ObjectRef& object, policy::Reason reason,
                      const std::string& message) = 0;
};

}  // namespace saguard::reconcile
