// The adapters for leader election's hooks and the caches' object counts: they register
// their series at zero and report what they are told, or what the source holds at the
// moment of a scrape.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cache/informer_set.h"
#include "metrics/cache_adapter.h"
#include "metrics/leader_adapter.h"
#include "metrics/metrics.h"
#include "support/exposition.h"

namespace saguard::metrics {
namespace {

std::optional<double> valueOf(const Metrics& metrics, std::string_view name,
                              const LabelSet& labels) {
  auto parsed = parseExposition(metrics.text());
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok()) return std::nullopt;
  return parsed->value(name, labels);
}

TEST(PrometheusLeadershipHooks, ZeroAtFirstThenWhatElectionSays) {
  Metrics metrics;
  PrometheusLeadershipHooks hooks(metrics, "saguard.io-controller");
  const LabelSet lease{{"name", "saguard.io-controller"}};
  EXPECT_EQ(valueOf(metrics, "leader_election_master_status", lease), 0.0);
  hooks.onLeadingChanged("saguard.io-controller", true);
  EXPECT_EQ(valueOf(metrics, "leader_election_master_status", lease), 1.0);
  hooks.onLeadingChanged("saguard.io-controller", false);
  EXPECT_EQ(valueOf(metrics, "leader_election_master_status", lease), 0.0);
}

class FixedCounts final : public cache::ObjectCountSource {
 public:
  std::vector<std::pair<std::string, std::size_t>> objectCounts() const override { return counts; }
  std::vector<std::pair<std::string, std::size_t>> counts;
};

TEST(CacheObjectsGauges, ReadTheSourceAtEachScrape) {
  Metrics metrics;
  FixedCounts source;
  source.counts = {{"pods", 0}, {"serviceaccounts", 0}};
  CacheObjectsGauges gauges(metrics, source);
  EXPECT_EQ(valueOf(metrics, "saguard_cache_objects", {{"kind", "pods"}}), 0.0);
  source.counts = {{"pods", 12}, {"serviceaccounts", 3}};
  EXPECT_EQ(valueOf(metrics, "saguard_cache_objects", {{"kind", "pods"}}), 12.0);
  EXPECT_EQ(valueOf(metrics, "saguard_cache_objects", {{"kind", "serviceaccounts"}}), 3.0);
}

}  // namespace
}  // namespace saguard::metrics
