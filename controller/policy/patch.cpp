#include "policy/patch.h"

#include <nlohmann/json.hpp>

namespace saguard::policy {

bool needsPatch(const objects::ServiceAccount& account) {
  return account.automount != objects::Tristate::False;
}

std::string disableAutomountApply(std::string_view ns, std::string_view name,
                                  std::string_view uid) {
  nlohmann::json meta = {{"name", name}, {"namespace", ns}};
  if (!uid.empty()) meta["uid"] = uid;
  const nlohmann::json body = {{"apiVersion", "v1"},
                               {"kind", "ServiceAccount"},
                               {"metadata", std::move(meta)},
                               {"automountServiceAccountToken", false}};
  return body.dump();
}

}  // namespace saguard::policy
