// Leader election on a coordination.k8s.io/v1 Lease, with client-go's leaderelection
// semantics, so that of several saguard replicas exactly one writes.
//
// How it works. Every candidate reads the Lease each RetryPeriod (jittered by up to
// kJitterFactor). A missing Lease is created holding our identity. A Lease held by
// someone else is taken over only once its record has not changed for
// leaseDurationSeconds *as observed by this process*: the clock that counts is the
// local time at which we last saw the record change, never the server's renewTime (so
// clock skew between machines does not matter). Writes are conditional on
// metadata.resourceVersion: when two candidates race, one gets Conflict and stays a
// candidate. The leader renews every RetryPeriod; if it cannot renew within
// RenewDeadline of its last successful renewal (measured from when that renewal was
// sent), it has lost leadership. RenewDeadline < LeaseDuration leaves a margin: the
// old leader stops before any candidate may take over.
//
// The write guard. isLeader() is the "may I write?" question every writer asks right
// before each write (leader/write_gate.h asks it for every writer).
// It is computed from the injected clock against the deadline of the last successful
// renewal, so it turns false at the deadline itself, even while the renew loop is
// blocked in a hanging request.
//
// The process contract (as controller-runtime's manager): main runs run() on a thread
// of its own. onStartedLeading(stop) starts the leader's work (workers) on a thread the
// elector owns, and must return once `stop` is requested. onStoppedLeading() is called
// once when leadership ends. If main did not ask for it (run() returned an Error:
// leadership was LOST), the binary must exit non-zero at once; a standby replica takes
// over. On SIGTERM main requests run()'s stop token: the elector asks the leader's work
// to stop, keeps renewing until onStartedLeading has returned (so in-flight reconciles
// finish as the leader), then turns isLeader() false, releases the Lease (holder
// cleared, leaseDurationSeconds 1) so a standby takes over at once, and returns Ok:
// exit 0.
//
//   leader::KubeLeaseApi leases(client);
//   auto elector = leader::LeaseElector::create(
//       {.leaseNamespace = flags.leNamespace, .leaseName = flags.leId},
//       {.onStartedLeading = [&](std::stop_token stop) { runWorkers(stop); },
//        .onStoppedLeading = [] { spdlog::info("stopped leading"); },
//        .onLeadingChanged = [&](std::string_view name, bool on) { metrics.setLeader(name, on); }},
//       leases);
//   std::jthread election([&](std::stop_token stop) {
//     if (!(*elector)->run(stop).ok()) std::_Exit(1);   // lost leadership
//   });
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "kube/retry.h"
#include "leader/lease_api.h"
#include "leader/lease_record.h"

namespace saguard::leader {

// Candidates wait RetryPeriod * (1 + random * kJitterFactor) between attempts, as
// client-go does; RenewDeadline must exceed RetryPeriod * kJitterFactor.
inline constexpr double kJitterFactor = 1.2;

struct LeaseElectorOptions {
  std::string leaseNamespace{};  // --leader-election-namespace; required
  std::string leaseName{};       // --leader-election-id; required
  std::string identity{};        // this candidate; "" = defaultIdentity() (hostname_random)
  // How long candidates wait, after they last saw the record change, before taking
  // the lease over. Written as leaseDurationSeconds, so whole seconds only.
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  // How long the leader keeps trying to renew before it gives up leadership.
  std::chrono::milliseconds renewDeadline{std::chrono::seconds(10)};
  // Between two attempts to acquire or renew.
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
  // On stop, a leader clears the Lease's holder so a standby need not wait for expiry.
  bool releaseOnCancel = true;

  // Ok, or Invalid naming the field: leaseNamespace and leaseName non-empty;
  // retryPeriod > 0; renewDeadline > retryPeriod * kJitterFactor; leaseDuration >
  // renewDeadline and a whole number of seconds.
  Status validate() const;
};

struct LeaderCallbacks {
  // Required. Runs on a thread of the elector's when this candidate becomes the leader;
  // `stop` is requested when leadership ends (lost, or stop requested). The elector
  // waits for it to return before it releases the lease and before run() returns.
  std::function<void(std::stop_token stop)> onStartedLeading{};
  // Required. Called on run()'s thread once leadership has ended, after isLeader()
  // turned false and the release was tried. On a requested stop, onStartedLeading has
  // returned by then; on a loss it is called at once, while the leader's work may
  // still be winding down (main exits). Not called when this candidate never led.
  std::function<void()> onStoppedLeading{};
  // Optional. Called on run()'s thread with the identity of the holder each time the
  // observed holder changes to a non-empty identity (ours included). Must be quick.
  std::function<void(const std::string& identity)> onNewLeader{};
  // Optional: the leader_election_master_status{name} hook. Called with the lease name
  // and false when run() starts, true on becoming the leader, false when leadership ends.
  std::function<void(std::string_view leaseName, bool leading)> onLeadingChanged{};
};

// What the elector needs from the outside world; null / empty = the real ones.
// Not owned: they must outlive the elector.
struct ElectorDependencies {
  const Clock* clock = nullptr;      // SteadyClock: observed times, renew deadline, isLeader()
  kube::Sleeper* sleeper = nullptr;  // RealSleeper: waits between attempts
  kube::RandomSource random{};       // kube::defaultRandomSource(): jitter
  // Wall clock for the Lease's acquireTime and renewTime. Default system_clock::now.
  std::function<std::chrono::system_clock::time_point()> wallClock{};
};

// "<hostname>_<random UUID>", as controller-runtime names candidates: unique per
// process, and readable in the Lease. Internal when the hostname cannot be read.
Result<std::string> defaultIdentity();

class LeaseElector {
 public:
  // Invalid when the options are (validate()) or a required callback is missing.
  // `api` must outlive the elector.
  static Result<std::unique_ptr<LeaseElector>> create(LeaseElectorOptions options,
                                                      LeaderCallbacks callbacks, LeaseApi& api,
                                                      ElectorDependencies deps = {});

  LeaseElector(const LeaseElector&) = delete;
  LeaseElector& operator=(const LeaseElector&) = delete;
  ~LeaseElector();

  // Campaigns until leader, then leads until leadership is lost or `stop` is
  // requested (see the contract above). Blocks; call it once.
  //   Ok:    `stop` was requested (the lease released if we held it and
  //          releaseOnCancel), or we never led.
  //   Error: leadership was lost: Timeout when no renewal succeeded within
  //          renewDeadline (the message holds the last renewal error), Conflict when
  //          another candidate took the lease. Invalid when run() is called twice.
  Status run(std::stop_token stop);

  // May this process write now? True only while this candidate holds the lease and
  // the clock is before its last successful renewal + renewDeadline. Thread-safe and
  // lock-free.
  bool isLeader() const;

  const std::string& identity() const { return options_.identity; }
  const LeaseElectorOptions& options() const { return options_; }
  // The holder this process last observed ("" = none or not read yet). Thread-safe.
  std::string observedLeader() const;

 private:
  enum class Attempt { Success, HeldByOther, Failed };

  LeaseElector(LeaseElectorOptions options, LeaderCallbacks callbacks, LeaseApi& api,
               ElectorDependencies deps);

  // One round of client-go's tryAcquireOrRenew. On Success the renew deadline has
  // moved; on Failed `error` says why.
  Attempt tryAcquireOrRenew(std::chrono::milliseconds timeout, Error& error);
  // Takes the answer of a successful write as the observed record.
  bool adopt(const std::string& json, Error& error);
  // Records `lease` as read: resets the observed time when the record changed.
  void observe(ObservedLease lease);
  bool holdingObserved() const;
  // Leads until lost or stopped; run()'s second half.
  Status lead(const std::stop_token& stop);
  // Clears the holder of a lease we hold; one attempt.
  void release();
  void setLeading(bool leading);
  std::chrono::milliseconds jittered(std::chrono::milliseconds period);

  const LeaseElectorOptions options_;
  const LeaderCallbacks callbacks_;
  LeaseApi& api_;
  const Clock& clock_;
  kube::Sleeper& sleeper_;
  kube::RandomSource random_;
  std::function<std::chrono::system_clock::time_point()> wallClock_;

  // Written by run()'s thread only.
  std::optional<ObservedLease> observed_;
  Clock::time_point observedTime_{};
  std::string reportedLeader_;
  std::atomic<bool> ran_{false};

  // The renew deadline as clock ticks since the epoch; kNotLeading when not leading.
  std::atomic<Clock::duration::rep> deadline_;
  mutable std::mutex mu_;
  std::string observedLeader_;  // guarded by mu_
};

}  // namespace saguard::leader
