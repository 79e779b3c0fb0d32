#include "policy/reason.h"

namespace saguard::policy {

const char* toString(Reason reason) {
  switch (reason) {
    case Reason::AutomountDisabled:
      return "AutomountDisabled";
    case Reason::DriftReverted:
      return "DriftReverted";
    case Reason::AutomountWouldBeDisabled:
      return "AutomountWouldBeDisabled";
    case Reason::TokenMounted:
      return "TokenMounted";
    case Reason::PodOverridesPolicy:
      return "PodOverridesPolicy";
    case Reason::BindingGrantsSelectedAccount:
      return "BindingGrantsSelectedAccount";
    case Reason::PolicyInvalid:
      return "PolicyInvalid";
    case Reason::DeclaredByOwner:
      return "DeclaredByOwner";
  }
  return "Unknown";
}

}  // namespace saguard::policy
