#include "policy/status.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace saguard::policy {

using nlohmann::json;

const char* toString(ReadyReason reason) {
  switch (reason) {
    case ReadyReason::Reconciled:
      return "Reconciled";
    case ReadyReason::Invalid:
      return "Invalid";
    case ReadyReason::Error:
      return "Error";
  }
  return "Error";
}

std::string formatTime(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

json parseOrEmpty(const std::string& text) {
  if (text.empty()) return json::object();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() || !parsed.is_object() ? json::object() : parsed;
}

// The previous condition's lastTransitionTime, when it had the same status and reason;
// "" otherwise.
std::string keptTransitionTime(const json& previous, const std::string& type,
                               const std::string& status, const std::string& reason) {
  auto conditions = previous.find("conditions");
  if (conditions == previous.end() || !conditions->is_array()) return "";
  for (const auto& c : *conditions) {
    if (!c.is_object() || c.value("type", "") != type) continue;
    if (c.value("status", "") == status && c.value("reason", "") == reason) {
      return c.value("lastTransitionTime", "");
    }
  }
  return "";
}

}  // namespace

std::string renderStatus(const PolicyStatus& status, const std::string& previousJson,
                         std::chrono::system_clock::time_point now) {
  json previous = parseOrEmpty(previousJson);
  const std::string conditionStatus = status.reason == ReadyReason::Reconciled ? "True" : "False";
  const std::string reason = toString(status.reason);
  std::string transition = keptTransitionTime(previous, "Ready", conditionStatus, reason);
  if (transition.empty()) transition = formatTime(now);

  json condition = {
      {"type", "Ready"},
      {"status", conditionStatus},
      {"reason", reason},
      {"message", status.message},
      {"observedGeneration", status.observedGeneration},
      {"lastTransitionTime", transition},
  };
  json conditions = json::array({condition});
  auto add = [&](const char* type, const std::optional<Condition>& c) {
    if (!c) return;
    const std::string conditionStatus = c->ok ? "True" : "False";
    std::string since = keptTransitionTime(previous, type, conditionStatus, c->reason);
    conditions.push_back({
        {"type", type},
        {"status", conditionStatus},
        {"reason", c->reason},
        {"message", c->message},
        {"observedGeneration", status.observedGeneration},
        {"lastTransitionTime", since.empty() ? formatTime(now) : since},
    });
  };
  add("Admission", status.admission);
  add("Reports", status.reports);
  json out = {
      {"observedGeneration", status.observedGeneration},
      {"conditions", std::move(conditions)},
      {"summary",
       {
           {"selected", status.summary.selected},
           {"compliant", status.summary.compliant},
           {"patched", status.summary.patched},
           {"podsWithToken", status.summary.podsWithToken},
           {"bindings", status.summary.bindings},
           {"declaredByOwner", status.summary.declaredByOwner},
       }},
      {"findings", policy::findingsToJson(status.findings)},
  };
  return out.dump();
}

bool sameStatus(const std::string& a, const std::string& b) {
  return parseOrEmpty(a) == parseOrEmpty(b);
}

}  // namespace saguard::policy
