// Whether a rollout is finished, by `kubectl rollout status`'s rules, read from a
// Deployment, StatefulSet or DaemonSet as the API server returns it (`saguard restart`
// waits on it between workloads). Pure: the caller GETs the object.
//   Deployment   status.observedGeneration >= metadata.generation, no Progressing
//                condition with reason ProgressDeadlineExceeded (stuck), updatedReplicas >=
//                spec.replicas (default 1), no old replicas left (replicas == updated),
//                availableReplicas >= updatedReplicas
//   StatefulSet  observedGeneration >= generation, readyReplicas >= spec.replicas,
//                updateRevision == currentRevision
//   DaemonSet    observedGeneration >= generation, updatedNumberScheduled and
//                numberAvailable >= desiredNumberScheduled
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace saguard::audit {

struct RolloutState {
  bool done = false;
  std::string stuck;    // non-empty: it will not finish by waiting, and why
  std::string waiting;  // while not done: what it waits for

  friend bool operator==(const RolloutState&, const RolloutState&) = default;
};

// `kind` is "Deployment", "StatefulSet" or "DaemonSet" (anything else is read as a
// DaemonSet); `object` that is not a JSON object is never done.
RolloutState rolloutState(std::string_view kind, const nlohmann::json& object);

}  // namespace saguard::audit
