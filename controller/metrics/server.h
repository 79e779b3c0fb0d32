// The two HTTP endpoints a kubebuilder-style operator serves:
//
//   MetricsServer  GET /metrics, the Prometheus text of a Metrics (prometheus-cpp's
//                  Exposer), on --metrics-bind-address (default ":8080").
//   HealthServer   GET /healthz, /readyz (health.h), on --health-probe-bind-address
//                  (default ":8081").
//
// Both run on civetweb threads from start() until destroyed. Port 0 binds a free port;
// port() says which. A server must be destroyed before what it serves (the Metrics, the
// HealthChecks). Typical start-up:
//
//   auto address = parseBindAddress(flags.metricsBindAddress);   // nullopt for "0"
//   if (!address) die(address.error());
//   std::unique_ptr<MetricsServer> server;
//   if (*address) server = MetricsServer::start(metrics, **address).value();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.h"
#include "metrics/bind_address.h"
#include "metrics/health.h"
#include "metrics/metrics.h"

namespace saguard::metrics {

struct ServerOptions {
  // Connections served at once; more wait in the listen queue. Must be >= 1.
  int threads = 2;
  // A client that takes longer than this to send its request (or to read the answer)
  // is dropped, so a stuck client cannot hold a thread. Must be > 0.
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(10)};
  // The largest request line plus headers accepted; larger ones are refused. Must be >= 1024.
  std::size_t maxRequestBytes = 16384;
};

class MetricsServer {
 public:
  // Serves `metrics` on GET /metrics at `address`. Invalid for bad options; Unavailable
  // when the address cannot be listened on (port taken, address not local).
  static Result<std::unique_ptr<MetricsServer>> start(Metrics& metrics, const BindAddress& address,
                                                      const ServerOptions& options = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port listened on (the one chosen when the address asked for port 0).
  std::uint16_t port() const { return port_; }

 private:
  struct Impl;
  MetricsServer(std::unique_ptr<Impl> impl, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
};

class HealthServer {
 public:
  // Serves `checks` on GET/HEAD /healthz and /readyz at `address`; other methods get
  // 405, other paths 404. Errors as MetricsServer::start.
  static Result<std::unique_ptr<HealthServer>> start(const HealthChecks& checks,
                                                     const BindAddress& address,
                                                     const ServerOptions& options = {});
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  struct Impl;
  HealthServer(std::unique_ptr<Impl> impl, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
};

}  // namespace saguard::metrics
