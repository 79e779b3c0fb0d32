#include "objects/objects.h"

namespace saguard::objects {

const char* toString(Tristate t) {
  switch (t) {
    case Tristate::Unset:
      return "unset";
    case Tristate::True:
      return "true";
    case Tristate::False:
      return "false";
  }
  return "unset";
}

const char* toString(TokenVolume v) {
  switch (v) {
    case TokenVolume::None:
      return "none";
    case TokenVolume::Projected:
      return "projected";
    case TokenVolume::LegacySecret:
      return "legacy-secret";
  }
  return "none";
}

}  // namespace saguard::objects
