#include "metrics/rest_client_adapter.h"

#include <array>
#include <charconv>

namespace saguard::metrics {

PrometheusRequestObserver::PrometheusRequestObserver(Metrics& metrics, std::string_view server)
    : metrics_(metrics), host_(hostOf(server)) {
  metrics_.registerRestHost(host_);
}

std::string PrometheusRequestObserver::hostOf(std::string_view server) {
  if (const auto scheme = server.find("://"); scheme != std::string_view::npos) {
    server.remove_prefix(scheme + 3);
  }
  if (const auto path = server.find_first_of("/?#"); path != std::string_view::npos) {
    server = server.substr(0, path);
  }
  if (const auto at = server.rfind('@'); at != std::string_view::npos) {  // user:pass@host
    server.remove_prefix(at + 1);
  }
  return std::string(server);
}

void PrometheusRequestObserver::onRequest(const kube::RequestRecord& record) {
  // Never throws: the REST client calls this on every attempt.
  try {
    std::array<char, 16> buf{};
    std::string_view code = "<error>";
    if (record.httpCode > 0) {
      auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), record.httpCode);
      if (ec == std::errc())
        code = std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data()));
    }
    metrics_.observeRequest(record.method, code, host_, record.duration);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a lost sample is better than a failed request
  }
}

}  // namespace saguard::metrics
