#include "metrics/evidence_adapter.h"

#include <algorithm>
#include <cstdint>

namespace saguard::metrics {

PrometheusIngestHooks::PrometheusIngestHooks(Metrics& metrics,
                                             std::initializer_list<const char*> sources)
    : metrics_(metrics) {
  for (const char* source : sources) {
    metrics.registerAuditSource(source, {"accepted", "ignored", "malformed", "unauthenticated"});
  }
}

void PrometheusIngestHooks::onEvents(const std::string& source, evidence::IngestResult result,
                                     std::uint64_t count) {
  metrics_.countAuditEvents(source, evidence::toString(result), count);
}

evidence::WebhookHooks PrometheusIngestHooks::webhookHooks() {
  return {
      .onRequest = [this](int status,
                          double seconds) { metrics_.observeAuditWebhook(status, seconds); },
      .onHandshakeRefused =
          [this] {
            metrics_.countAuditEvents(
                "webhook", evidence::toString(evidence::IngestResult::Unauthenticated), 1);
          },
  };
}

TokenUseGauges::TokenUseGauges(Metrics& metrics, const evidence::Ledger& ledger,
                               const cache::ObjectCountSource& caches) {
  refresh_ = metrics.onScrape([&metrics, &ledger, &caches] {
    std::size_t accounts = 0;
    for (const auto& [kind, count] : caches.objectCounts()) {
      if (kind == "serviceaccounts") accounts = count;
    }
    const std::size_t recorded = ledger.accountsWithUse();
    metrics.setTokenUseAccounts(static_cast<std::int64_t>(recorded),
                                static_cast<std::int64_t>(accounts - std::min(accounts, recorded)));
  });
}

}  // namespace saguard::metrics
