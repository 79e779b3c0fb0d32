// The audit evidence's metrics, in the same pattern as the other *_adapter.h files:
//   saguard_audit_events_total{source,result}          PrometheusIngestHooks (evidence/ingest.h)
//   saguard_audit_webhook_request_duration_seconds{code}
//   saguard_audit_events_total{source="webhook",result="unauthenticated"}
//                                                      webhookHooks() (evidence/webhook_server.h)
//   saguard_token_use_accounts{use}                     TokenUseGauges, read at each scrape
#pragma once

#include <string>

#include "cache/informer_set.h"
#include "evidence/ingest.h"
#include "evidence/ledger.h"
#include "evidence/webhook_server.h"
#include "metrics/metrics.h"

namespace saguard::metrics {

class PrometheusIngestHooks final : public evidence::IngestHooks {
 public:
  // Zeroes every result of each source in `sources` ("webhook", "log", "file").
  PrometheusIngestHooks(Metrics& metrics, std::initializer_list<const char*> sources);
  void onEvents(const std::string& source, evidence::IngestResult result,
                std::uint64_t count) override;
  // The webhook server's hooks: request durations, and refused handshakes counted as
  // result="unauthenticated" of source "webhook".
  evidence::WebhookHooks webhookHooks();

 private:
  Metrics& metrics_;
};

class TokenUseGauges {
 public:
  // `ledger` and `caches` must outlive it. "none" counts the cached ServiceAccounts less
  // those with a recorded use (an account deleted since its use counts as recorded until
  // saguard restarts: a small over-count, never a negative gauge).
  TokenUseGauges(Metrics& metrics, const evidence::Ledger& ledger,
                 const cache::ObjectCountSource& caches);

 private:
  ScrapeHook refresh_;
};

}  // namespace saguard::metrics
