#include "policy/record.h"

#include <nlohmann/json.hpp>

#include "policy/parse.h"

namespace saguard::policy {

using nlohmann::json;

Result<PolicyRecord> policyRecordFromJson(const json& object) {
  if (!object.is_object()) return makeError(ErrorKind::Invalid, "object: expected a JSON object");
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    return makeError(ErrorKind::Invalid, "metadata: expected an object");
  }
  auto name = meta->find("name");
  if (name == meta->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return makeError(ErrorKind::Invalid, "metadata.name: expected a non-empty string");
  }
  PolicyRecord record;
  record.name = name->get<std::string>();
  if (auto uid = meta->find("uid"); uid != meta->end() && uid->is_string()) record.uid = *uid;
  if (auto rv = meta->find("resourceVersion"); rv != meta->end() && rv->is_string()) {
    record.resourceVersion = *rv;
  }
  if (auto gen = meta->find("generation"); gen != meta->end() && gen->is_number_integer()) {
    record.generation = gen->get<std::int64_t>();
  }
  if (auto status = object.find("status"); status != object.end() && status->is_object()) {
    record.statusJson = status->dump();
  }
  auto parsed = parsePolicy(object);
  if (parsed.ok()) {
    record.policy = std::make_shared<const Policy>(std::move(*parsed));
  } else {
    record.invalid = parsed.error();
  }
  return record;
}

Result<PolicyRecord> policyRecordFromJson(std::string_view objectJson) {
  json object = json::parse(objectJson, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return makeError(ErrorKind::Invalid, "not JSON");
  return policyRecordFromJson(object);
}

Result<std::vector<ListItem>> policyRecordsFromList(std::string_view listJson) {
  json list = json::parse(listJson, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_object()) {
    return makeError(ErrorKind::Invalid, "ServiceAccountPolicyList: not a JSON object");
  }
  std::vector<ListItem> out;
  auto items = list.find("items");
  if (items == list.end() || items->is_null()) return out;
  if (!items->is_array()) return makeError(ErrorKind::Invalid, "items: expected an array");
  std::size_t index = 0;
  for (const auto& item : *items) {
    auto record = policyRecordFromJson(item);
    if (!record.ok()) {
      Error error = record.error();
      error.message = "items[" + std::to_string(index) + "]." + error.message;
      record = std::move(error);
    }
    out.push_back(std::move(record));
    ++index;
  }
  return out;
}

}  // namespace saguard::policy
