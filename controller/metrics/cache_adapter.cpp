#include "metrics/cache_adapter.h"

#include <cstdint>

namespace saguard::metrics {

CacheObjectsGauges::CacheObjectsGauges(Metrics& metrics, const cache::ObjectCountSource& source) {
  for (const auto& [kind, count] : source.objectCounts()) metrics.registerCacheKind(kind);
  refresh_ = metrics.onScrape([&metrics, &source] {
    for (const auto& [kind, count] : source.objectCounts()) {
      metrics.setCacheObjects(kind, static_cast<std::int64_t>(count));
    }
  });
}

}  // namespace saguard::metrics
