#include "reconcile/api_writer.h"

#include <nlohmann/json.hpp>

#include "codec/protobuf.h"
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
  // Only the answer's resourceVersion is read: asked for in protobuf, which the API server
  // encodes for less than JSON (2,502 of these in a 50,000-pod sync; issue 19).
  options.accept = std::string(codec::kProtobufContentType);
  auto answer = client_.patch(kube::resources::kServiceAccounts, ns, name, kube::PatchType::Apply,
                              policy::disableAutomountApply(ns, name, uid), options);
  if (!answer.ok()) return answer.error();
  if (answer->starts_with(std::string_view("k8s\0", 4)))
    return codec::peekProtobufResourceVersion(*answer);
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
