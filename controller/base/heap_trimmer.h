// Hands freed heap memory back to the system. glibc returns free memory at the top of
// its heap by itself (M_TRIM_THRESHOLD, set in main()); the free pages that decoding
// list pages leaves between long-lived cache records it keeps. Once `ready()` is true
// (the caches have synced), and every 5 minutes after (relists), malloc_trim returns
// those pages. A runnable for the manager: returns once `stop` is requested.
#pragma once

#include <functional>
#include <stop_token>

namespace saguard {

void trimHeapPeriodically(std::stop_token stop, const std::function<bool()>& ready);

}  // namespace saguard
