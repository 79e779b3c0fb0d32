#include "reconcile/event_notifier.h"

#include <spdlog/spdlog.h>

#include "events/vocabulary.h"

namespace saguard::reconcile {

void EventNotifier::notify(const ObjectRef& object, policy::Reason reason, const std::string& message) {
  events::ObjectRef regarding;
  regarding.apiVersion = object.apiVersion;
  regarding.kind = object.kind;
  regarding.namespace_ = object.namespace_;
  regarding.name = object.name;
  regarding.uid = object.uid;
  Status st = recorder_.emit(regarding, reason, message);
  if (!st.ok()) spdlog::warn("event {} on {} {}/{} refused: {}", policy::toString(reason), object.kind,
                             object.namespace_, object.name, st.error().describe());
}

}  // namespace saguard::reconcile
