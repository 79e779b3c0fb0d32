// Adapter from the REST client's RequestObserver (kube/client.h) to client-go's
// rest_client_* metrics, so kube/ never depends on metrics/:
//
//   metrics::PrometheusRequestObserver observer(metrics, config.server);
//   kube::ClientOptions options;
//   options.observer = &observer;   // must outlive the client
//
// Every HTTP attempt counts in rest_client_requests_total{code,method,host} (code is the
// HTTP status, or "<error>" when no answer came) and is observed in
// rest_client_request_duration_seconds{verb,host}. A watch is reported when its stream
// ends, with the stream's lifetime as duration, so its latency lands in the top buckets.
#pragma once

#include <string>
#include <string_view>

#include "kube/client.h"
#include "metrics/metrics.h"

namespace saguard::metrics {

class PrometheusRequestObserver final : public kube::RequestObserver {
 public:
  // `server` is the API server URL ("https://10.0.0.1:6443"); its host:port is the
  // `host` label, as in client-go.
  PrometheusRequestObserver(Metrics& metrics, std::string_view server);

  void onRequest(const kube::RequestRecord& record) override;

  const std::string& host() const { return host_; }

  // "https://10.0.0.1:6443/base" -> "10.0.0.1:6443"; a string without a scheme is
  // taken as host[:port][/path].
  static std::string hostOf(std::string_view server);

 private:
  Metrics& metrics_;
  std::string host_;
};

}  // namespace saguard::metrics
