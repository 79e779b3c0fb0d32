// Liveness and readiness checks, answered the way controller-runtime's healthz package
// answers them, so kubelet probes and people with curl see what they expect:
//
//   GET /healthz, /readyz       200 "ok" when every check passes; else 500 with one
//                               line per check ("[+]ping ok", "[-]informers-synced
//                               failed: reason withheld") and "readyz check failed".
//   ?verbose                    the per-check lines even when everything passes.
//   ?exclude=NAME (repeatable)  skip that check ("[+]NAME excluded: ok").
//   GET /readyz/NAME            that one check alone; 404 when there is no such check.
//
// A check says why it fails in its Error; the reason is logged (once per change of
// state, not at every probe) but never served, as the endpoints are unauthenticated.
//
// Checks are added at start-up by whoever knows the condition (main adds
// "informers-synced" once the caches have synced); HealthServer (server.h) serves them.
// Thread-safe: checks run on the server's threads, concurrently with each other.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace saguard::metrics {

// Ok = healthy. Must be quick and must not block: a probe waits for it. A check that
// throws counts as failed.
using HealthCheck = std::function<Status()>;

class HealthChecks {
 public:
  // Adds a check to /healthz (liveness) or /readyz (readiness). Invalid when `name` is
  // empty, holds a character other than [A-Za-z0-9._-], is taken in that probe, or
  // `check` is empty.
  Status addHealthCheck(std::string name, HealthCheck check);
  Status addReadyCheck(std::string name, HealthCheck check);

  struct Response {
    int status = 200;
    std::string body;
  };
  // The answer to GET `path` with `query` (the part after '?', still URL-encoded).
  // Paths other than /healthz, /readyz and their /NAME sub-paths answer 404.
  Response handle(std::string_view path, std::string_view query) const;

 private:
  struct Named {
    std::string name;
    HealthCheck check;
  };
  enum class Probe { Health, Ready };

  Status add(Probe probe, std::string name, HealthCheck check);
  Response run(Probe probe, std::string_view only, std::string_view query) const;
  // Logs a check's failure reason when its state changes.
  void noteState(Probe probe, const std::string& name, const Status& status) const;

  mutable std::mutex mu_;
  std::vector<Named> health_;
  std::vector<Named> ready_;
  mutable std::map<std::string, bool> lastOk_;  // "healthz/name" -> passed last time
};

}  // namespace saguard::metrics
