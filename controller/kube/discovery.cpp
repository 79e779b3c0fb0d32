#include "kube/discovery.h"

#include <nlohmann/json.hpp>

namespace saguard::kube {

Result<std::set<std::string>> parseResourceList(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("kind", "") != "APIResourceList")
    return makeError(ErrorKind::Invalid, "a discovery answer is not an APIResourceList");
  const auto resources = doc.find("resources");
  if (resources == doc.end() || !resources->is_array())
    return makeError(ErrorKind::Invalid, "an APIResourceList without a resources list");
  std::set<std::string> names;
  for (const auto& resource : *resources) {
    if (!resource.is_object()) continue;
    const std::string name = resource.value("name", "");
    if (!name.empty() && name.find('/') == std::string::npos) names.insert(name);
  }
  return names;
}

Result<std::set<std::string>> servedResources(Client& client, std::string_view group,
                                              std::string_view version) {
  auto answer = client.discover(group, version);
  if (!answer.ok()) {
    if (answer.is(ErrorKind::NotFound)) return std::set<std::string>{};
    return answer.error();
  }
  return parseResourceList(*answer);
}

}  // namespace saguard::kube
