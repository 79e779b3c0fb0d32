// Notifier over the events/ recorder: the reconciler's findings and actions become
// events.k8s.io/v1 Events, de-duplicated into series by the recorder.
#pragma once

#include "events/recorder.h"
#include "reconcile/notifier.h"

namespace saguard::reconcile {

class EventNotifier final : public Notifier {
 public:
  explicit EventNotifier(events::EventRecorder& recorder) : recorder_(recorder) {}
  void notify(const ObjectRef& object, policy::Reason reason, const std::string& message) override;

 private:
  events::EventRecorder& recorder_;
};

}  // namespace saguard::reconcile
