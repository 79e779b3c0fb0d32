#include "leader/write_gate.h"

#include <string>

namespace saguard::leader {

Status WriteGate::check(std::string_view what) const {
  if (isOpen()) return {};
  return refusal(what);
}

Error WriteGate::refusal(std::string_view what) {
  return makeError(ErrorKind::Unavailable,
                   "this replica does not lead: " + std::string(what) + " refused");
}

}  // namespace saguard::leader
