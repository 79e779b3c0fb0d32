#include "base/clock.h"

namespace saguard {

SteadyClock& SteadyClock::instance() {
  static SteadyClock clock;
  return clock;
}

}  // namespace saguard
