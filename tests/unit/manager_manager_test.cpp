// The manager: which runnables run when, what stops them, and the write gate following
// leadership. Leader election runs against in-memory Leases (tests/support) on the real
// clock with short periods; every wait is bounded.
#include "manager/manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "leader/write_gate.h"
#include "support/memory_lease_api.h"

namespace saguard::manager {
namespace {

using namespace std::chrono_literals;

// A runnable that records that it ran (and what the gate said then) and blocks until
// its token stops.
struct Probe {
  std::atomic<int> started{0};
  std::atomic<int> returned{0};
  std::atomic<bool> gateOpenWhileRunning{false};
  const leader::WriteGate* gate = nullptr;

  Runnable runnable(std::string name, bool needsLeader) {
    return {
        .name = std::move(name), .needsLeader = needsLeader, .run = [this](std::stop_token stop) {
          ++started;
          if (gate != nullptr) gateOpenWhileRunning = gate->isOpen();
          std::mutex mu;
          std::condition_variable_any wake;
          std::unique_lock lock(mu);
          wake.wait(lock, stop, [] { return false; });
          ++returned;
        }};
  }
};

bool within(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(Manager, WithoutLeaderElectionEverythingRunsUntilStopAndTheGateStaysOpen) {
  leader::WriteGate gate;
  Probe always, workers;
  workers.gate = &gate;
  Manager mgr({.gate = &gate});
  mgr.add(always.runnable("informers", false));
  mgr.add(workers.runnable("workers", true));
  std::stop_source stop;
  Status ran;
  std::thread runner([&] { ran = mgr.run(stop.get_token()); });
  EXPECT_TRUE(within(10s, [&] { return always.started == 1 && workers.started == 1; }));
  stop.request_stop();
  runner.join();
  EXPECT_TRUE(ran.ok());
  EXPECT_EQ(always.returned, 1);
  EXPECT_EQ(workers.returned, 1);
  EXPECT_TRUE(workers.gateOpenWhileRunning);
  EXPECT_TRUE(gate.isOpen());
}

TEST(Manager, WithLeaderElectionWorkersRunWhileLeadingAndTheGateClosesForGood) {
  leader::MemoryLeaseApi leases;
  leader::WriteGate gate;
  Probe always, workers;
  workers.gate = &gate;
  ManagerOptions options;
  options.leaderElect = true;
  options.election = {.leaseNamespace = "saguard-system",
                      .leaseName = "saguard.io-controller",
                      .identity = "replica-1",
                      .leaseDuration = 3s,
                      .renewDeadline = 2s,
                      .retryPeriod = 200ms};
  options.leases = &leases;
  options.gate = &gate;
  Manager mgr(options);
  mgr.add(always.runnable("informers", false));
  mgr.add(workers.runnable("workers", true));
  std::stop_source stop;
  Status ran;
  std::thread runner([&] { ran = mgr.run(stop.get_token()); });
  EXPECT_TRUE(within(10s, [&] { return workers.started == 1; }));
  EXPECT_EQ(always.started, 1);
  EXPECT_TRUE(workers.gateOpenWhileRunning);
  stop.request_stop();
  runner.join();
  EXPECT_TRUE(ran.ok()) << ran.error().describe();
  EXPECT_EQ(workers.returned, 1);
  EXPECT_EQ(always.returned, 1);
  EXPECT_FALSE(gate.isOpen());
}

TEST(Manager, InvalidElectionOptionsFailBeforeAnythingRuns) {
  leader::MemoryLeaseApi leases;
  leader::WriteGate gate;
  Probe always;
  ManagerOptions options;
  options.leaderElect = true;
  options.election = {.leaseNamespace = "", .leaseName = "saguard.io-controller"};
  options.leases = &leases;
  options.gate = &gate;
  Manager mgr(options);
  mgr.add(always.runnable("informers", false));
  Status ran = mgr.run({});
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().kind, ErrorKind::Invalid);
  EXPECT_EQ(always.started, 0);
}

}  // namespace
}  // namespace saguard::manager
