// The manager (controller-runtime's idea): it owns the process's runnables and leader
// election, so that main only wires parts together.
//
//   manager::Manager mgr({.leaderElect = true, .election = {...}, .leases = &leases, .gate =
//   &gate}); mgr.add({.name = "informers", .run = [&](std::stop_token s) { ctl.runInformers(s);
//   }}); mgr.add({.name = "workers", .needsLeader = true, .run = [&](std::stop_token s) {
//   ctl.runWorkers(s); }}); Status ran = mgr.run(signals);   // blocks until `signals` stops it
//
// Contract:
//   - A runnable blocks until its token is stopped, then returns promptly.
//   - Runnables that need no leader (informers: a standby keeps its caches warm, heap
//     trimming) start at once, each on a thread of its own.
//   - Without leader election the others start at once too and the write gate stays
//     open. With it, the elector is made first and the write gate follows it
//     (leader/write_gate.h) before anything runs; the others run while this replica
//     leads: their token stops when leadership ends, and the gate is closed for good once
//     the election is over.
//   - run() returns Ok after a requested stop (every runnable has returned and, with
//     leader election, the Lease is released). It returns an Error when leadership was
//     LOST without being asked to stop: another replica may be writing already, so the
//     caller must exit non-zero at once (the Deployment restarts it as a standby). It
//     returns Invalid at once, before running anything, when the election options are.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "leader/leadership_hooks.h"
#include "leader/lease_api.h"
#include "leader/lease_elector.h"
#include "leader/write_gate.h"

namespace saguard::manager {

struct Runnable {
  std::string name;
  bool needsLeader = false;
  std::function<void(std::stop_token)> run;
};

struct ManagerOptions {
  bool leaderElect = false;
  leader::LeaseElectorOptions election{};  // with leaderElect
  leader::LeaseApi* leases = nullptr;      // with leaderElect; must outlive run()
  leader::WriteGate* gate = nullptr;       // optional; must outlive the Manager
  // Optional, for metrics: told when this replica starts or stops leading.
  leader::LeadershipHooks* hooks = nullptr;
};

class Manager {
 public:
  explicit Manager(ManagerOptions options) : options_(std::move(options)) {}
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Before run() only.
  void add(Runnable runnable) { runnables_.push_back(std::move(runnable)); }

  Status run(std::stop_token stop);

 private:
  Result<std::unique_ptr<leader::LeaseElector>> makeElector();
  // Runs every runnable that needs the leader until `leading` stops; returns when all have.
  void lead(std::stop_token leading) const;

  ManagerOptions options_;
  std::vector<Runnable> runnables_;
};

}  // namespace saguard::manager
