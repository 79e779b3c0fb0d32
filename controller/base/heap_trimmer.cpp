#include "base/heap_trimmer.h"

#include <malloc.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace saguard {

void trimHeapPeriodically(std::stop_token stop, const std::function<bool()>& ready) {
  std::mutex mu;
  std::condition_variable_any wake;
  auto sleepFor = [&](std::chrono::milliseconds period) {
    std::unique_lock lock(mu);
    wake.wait_for(lock, stop, period, [] { return false; });
    return !stop.stop_requested();
  };
  while (!ready()) {
    if (!sleepFor(std::chrono::milliseconds(200))) return;
  }
  do {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  } while (sleepFor(std::chrono::minutes(5)));
}

}  // namespace saguard
