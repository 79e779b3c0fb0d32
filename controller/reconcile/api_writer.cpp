#include "reconcile/api_writer.h"

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "objects/objects.h"
#include "policy/ownership.h"
#include "policy/patch.h"

namespace saguard::reconcile {

Result<std::string> ApiWriter::disableAutomount(std::string_view ns, std::string_view name,
                                                std::string_view uid) {
  kube::WriteOptions options;
  options.fieldManager = std::string(policy::kFieldManager);
  options.force = true;
  auto answer = client_.patch(kube::resources::kServiceAccounts, ns, name, kube::PatchType::Apply,
                              policy::disableAutomountApply(ns, name, uid), options);
  if (!answer.ok()) return answer.error();
  auto object = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return std::string();
  const auto& meta = object.value("metadata", nlohmann::json::object());
  auto rv = meta.find("resourceVersion");
  return rv != meta.end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

Status ApiWriter::recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                               std::string_view resourceVersion) {
  nlohmann::json meta = {
      {"annotations", {{std::string(objects::kTokenLastUsedAnnotation), std::string(day)}}}};
  // A merge patch carrying metadata.resourceVersion is applied only to that version.
  if (!resourceVersion.empty()) meta["resourceVersion"] = std::string(resourceVersion);
  const nlohmann::json body = {{"metadata", meta}};
  auto answer = client_.patch(kube::resources::kServiceAccounts, ns, name, kube::PatchType::Merge,
                              body.dump());
  if (!answer.ok()) return answer.error();
  return {};
}

Status ApiWriter::patchPolicyStatus(std::string_view name, const std::string& statusJson) {
  std::string body = "{\"status\":" + statusJson + "}";
  kube::WriteOptions options;
  options.subresource = "status";
  auto answer = client_.patch(kube::resources::kServiceAccountPolicies, "", name,
                              kube::PatchType::Merge, body, options);
  if (!answer.ok()) return answer.error();
  return {};
}

}  // namespace saguard::reconcile
