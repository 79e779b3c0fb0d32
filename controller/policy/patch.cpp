#include "policy/patch.h"

namespace saguard::policy {

bool needsPatch(const objects::ServiceAccount& account) {
  return account.automount != objects::Tristate::False;
}

std::string disableAutomountPatch() {
  return R"({"automountServiceAccountToken":false})";
}

}  // namespace saguard::policy
