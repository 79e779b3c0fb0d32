#include "audit/rollout_status.h"

#include <cstdint>

namespace saguard::audit {
namespace {

using nlohmann::json;

// object[key] when it is an object, else an empty one: nothing here throws on a null or a
// wrong type (the API server sends neither; a proxy might).
const json& objectAt(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

std::int64_t intAt(const json& object, std::string_view section, std::string_view field,
                   std::int64_t fallback = 0) {
  const json& s = objectAt(object, section);
  auto f = s.find(field);
  return f != s.end() && f->is_number_integer() ? f->get<std::int64_t>() : fallback;
}

std::string stringAt(const json& object, std::string_view field) {
  auto f = object.find(field);
  return f != object.end() && f->is_string() ? f->get<std::string>() : std::string();
}

}  // namespace

RolloutState rolloutState(std::string_view kind, const json& o) {
  if (!o.is_object()) return {false, "", "its status could not be read"};
  const std::int64_t generation = intAt(o, "metadata", "generation");
  const std::int64_t observed = intAt(o, "status", "observedGeneration");
  if (observed < generation) return {false, "", "its controller has not seen the change yet"};
  const json& status = objectAt(o, "status");
  if (kind == "Deployment") {
    auto conditions = status.find("conditions");
    if (conditions != status.end() && conditions->is_array()) {
      for (const json& c : *conditions) {
        if (c.is_object() && stringAt(c, "type") == "Progressing" &&
            stringAt(c, "reason") == "ProgressDeadlineExceeded") {
          return {false, "progress deadline exceeded", ""};
        }
      }
    }
    const std::int64_t want = intAt(o, "spec", "replicas", 1);
    const std::int64_t updated = intAt(o, "status", "updatedReplicas");
    if (updated < want) {
      return {false, "",
              std::to_string(updated) + " of " + std::to_string(want) + " new replicas updated"};
    }
    if (intAt(o, "status", "replicas") > updated) return {false, "", "old replicas terminating"};
    if (intAt(o, "status", "availableReplicas") < updated) {
      return {false, "", "new replicas not yet available"};
    }
    return {true, "", ""};
  }
  if (kind == "StatefulSet") {
    const std::int64_t want = intAt(o, "spec", "replicas", 1);
    if (intAt(o, "status", "readyReplicas") < want) return {false, "", "replicas not ready"};
    if (stringAt(status, "updateRevision") != stringAt(status, "currentRevision")) {
      return {false, "", "pods not yet on the new revision"};
    }
    return {true, "", ""};
  }
  const std::int64_t want = intAt(o, "status", "desiredNumberScheduled");
  if (intAt(o, "status", "updatedNumberScheduled") < want) {
    return {false, "", "pods not yet updated"};
  }
  if (intAt(o, "status", "numberAvailable") < want) return {false, "", "pods not yet available"};
  return {true, "", ""};
}

}  // namespace saguard::audit
