#include "policy/types.h"

namespace saguard::policy {

const char* toString(Mode mode) {
  switch (mode) {
    case Mode::Enforce:
      return "Enforce";
    case Mode::Audit:
      return "Audit";
  }
  return "Enforce";
}

const char* toString(Admission admission) {
  switch (admission) {
    case Admission::None:
      return "None";
    case Admission::Warn:
      return "Warn";
    case Admission::Deny:
      return "Deny";
  }
  return "Warn";
}

const char* toString(SelectorOperator op) {
  switch (op) {
    case SelectorOperator::In:
      return "In";
    case SelectorOperator::NotIn:
      return "NotIn";
    case SelectorOperator::Exists:
      return "Exists";
    case SelectorOperator::DoesNotExist:
      return "DoesNotExist";
  }
  return "Exists";
}

}  // namespace saguard::policy
