// saguard_cache_objects{kind} from the caches' object counts (cache/informer_set.h's
// ObjectCountSource), read at each scrape: the same pattern as the other *_adapter.h
// files. Keep it alive for as long as /metrics is served; `source` must outlive it.
#pragma once

#include "cache/informer_set.h"
#include "metrics/metrics.h"

namespace saguard::metrics {

class CacheObjectsGauges {
 public:
  // Zeroes the gauge of every cache `source` has now.
  CacheObjectsGauges(Metrics& metrics, const cache::ObjectCountSource& source);

 private:
  ScrapeHook refresh_;
};

}  // namespace saguard::metrics
