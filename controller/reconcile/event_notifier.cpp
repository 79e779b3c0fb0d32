#include "reconcile/event_notifier.h"

#include <spdlog/spdlog.h>

#include "events/vocabulary.h"

namespace saguard::reconcile {

void EventNotifier::notify(const ObjectRef& object, policy::Reason reason,
                           const std::string& message) {
  // About the object, not one version of it: a resourceVersion in `regarding` would
  // split the series of a repeated Event (say DriftReverted) into one Event per version.
  ObjectRef regarding = object;
  regarding.resourceVersion.clear();
  Status st = recorder_.emit(regarding, reason, message);
  if (!st.ok())
    spdlog::warn("event {} on {} {}/{} refused: {}", policy::toString(reason), object.kind,
                 object.namespace_, object.name, st.error().describe());
}

}  // namespace saguard::reconcile
