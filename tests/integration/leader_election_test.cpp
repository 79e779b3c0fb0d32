// Leader election against the real API server: two candidates (each with its own
// client, as two replicas would have) on one Lease. Durations are shortened (retry
// 0.5 s; lease 3 s and renew deadline 2 s where expiry is tested) so each test takes
// seconds. Where a leader must keep leading, the lease is 10 s and the renew deadline
// 8 s: on a loaded machine (sanitizers, CI) one slow request must not cost leadership.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "integration/support/controlplane_env.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "leader/lease_api.h"
#include "leader/lease_elector.h"

namespace saguard::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kLease = "saguard-leader-test";

// One replica: its own client, elector and election thread.
class Candidate {
 public:
  struct Timing {
    std::chrono::milliseconds lease;
    std::chrono::milliseconds renewDeadline;
  };
  static constexpr Timing kQuick{3s, 2s};    // expiry within seconds
  static constexpr Timing kSteady{10s, 8s};  // survives slow requests

  Candidate(const std::string& ns, const std::string& identity, Timing timing,
            bool releaseOnCancel) {
    kube::LoadOptions load;
    load.kubeconfig = controlPlane().kubeconfig;
    auto config = kube::loadConfig(load);
    EXPECT_TRUE(config.ok()) << config.error().describe();
    auto client = kube::makeRestClient(*config);
    EXPECT_TRUE(client.ok()) << client.error().describe();
    client_ = std::move(client).value();
    api_ = std::make_unique<leader::KubeLeaseApi>(*client_);
    auto elector =
        leader::LeaseElector::create({.leaseNamespace = ns,
                                      .leaseName = kLease,
                                      .identity = identity,
                                      .leaseDuration = timing.lease,
                                      .renewDeadline = timing.renewDeadline,
                                      .retryPeriod = 500ms,
                                      .releaseOnCancel = releaseOnCancel},
                                     {.onStartedLeading = [this](std::stop_token) { ++started_; },
                                      .onStoppedLeading = [this] { ++stopped_; }},
                                     *api_);
    EXPECT_TRUE(elector.ok()) << elector.error().describe();
    elector_ = std::move(elector).value();
    thread_ = std::jthread([this] {
      Status st = elector_->run(stop_.get_token());
      ok_ = st.ok();
      if (!st.ok()) ADD_FAILURE() << elector_->identity() << ": " << st.error().describe();
    });
  }
  ~Candidate() { stop(); }

  // Stops campaigning (and leading); returns once run() has returned.
  void stop() {
    stop_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

  bool isLeader() const { return elector_->isLeader(); }
  const std::string& identity() const { return elector_->identity(); }
  int started() const { return started_; }
  int stopped() const { return stopped_; }
  bool ok() const { return ok_; }

 private:
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<leader::KubeLeaseApi> api_;
  std::unique_ptr<leader::LeaseElector> elector_;
  std::stop_source stop_;
  std::atomic<int> started_{0};
  std::atomic<int> stopped_{0};
  std::atomic<bool> ok_{false};
  std::jthread thread_;
};

json lease(const std::string& ns) {
  auto got = kubectl("get lease " + std::string(kLease) + " -n " + ns + " -o json");
  EXPECT_EQ(got.exitCode, 0) << got.err;
  return got.exitCode == 0 ? json::parse(got.out) : json::object();
}

std::string holder(const std::string& ns) {
  return lease(ns)["spec"].value("holderIdentity", "");
}

TEST(LeaderElection, ExactlyOneOfTwoCandidatesLeads) {
  std::string ns = freshNamespace("leader-one");
  Candidate a(ns, "replica-a", Candidate::kSteady, true);
  Candidate b(ns, "replica-b", Candidate::kSteady, true);
  ASSERT_TRUE(eventually(10'000, [&] { return a.isLeader() || b.isLeader(); }))
      << "nobody became the leader";

  // Over several renewals: never both, and always the same leader.
  Candidate& first = a.isLeader() ? a : b;
  Candidate& second = a.isLeader() ? b : a;
  for (int i = 0; i < 40; ++i) {
    ASSERT_FALSE(a.isLeader() && b.isLeader()) << "both lead at sample " << i;
    ASSERT_TRUE(first.isLeader()) << "leadership moved without a reason at sample " << i;
    std::this_thread::sleep_for(100ms);
  }
  json l = lease(ns);
  EXPECT_EQ(l["spec"]["holderIdentity"], first.identity());
  EXPECT_EQ(l["spec"]["leaseDurationSeconds"], 10);
  EXPECT_EQ(l["spec"].value("leaseTransitions", 0), 0);
  EXPECT_NE(l["spec"]["renewTime"], l["spec"]["acquireTime"])
      << "the leader did not renew: " << l.dump();
  EXPECT_TRUE(leader::parseMicroTime(l["spec"]["renewTime"].get<std::string>()).has_value())
      << l.dump();
  EXPECT_EQ(first.started(), 1);
  EXPECT_EQ(second.started(), 0);
}

TEST(LeaderElection, ReleaseOnStopLetsTheStandbyTakeOverPromptly) {
  std::string ns = freshNamespace("leader-release");
  // A long lease: a takeover within 3 s can only come from the release, not expiry.
  Candidate a(ns, "replica-a", Candidate::kSteady, true);
  ASSERT_TRUE(eventually(10'000, [&] { return a.isLeader(); }));
  Candidate b(ns, "replica-b", Candidate::kSteady, true);
  ASSERT_TRUE(eventually(
      5'000, [&] { return lease(ns)["spec"].value("holderIdentity", "") == "replica-a"; }));
  std::this_thread::sleep_for(1s);  // b has observed a's lease by now
  ASSERT_FALSE(b.isLeader());

  a.stop();
  EXPECT_TRUE(a.ok());
  EXPECT_FALSE(a.isLeader());
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_TRUE(eventually(3'000, [&] { return b.isLeader(); }))
      << "the standby did not take the released lease within a few retry periods; lease: "
      << lease(ns).dump();
  json l = lease(ns);
  EXPECT_EQ(l["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 1);
}

TEST(LeaderElection, ALeaderThatDiesWithoutReleaseIsReplacedAfterExpiry) {
  std::string ns = freshNamespace("leader-expiry");
  auto dead =
      std::make_unique<Candidate>(ns, "replica-dead", Candidate::kQuick, /*releaseOnCancel=*/false);
  ASSERT_TRUE(eventually(10'000, [&] { return dead->isLeader(); }));
  Candidate standby(ns, "replica-standby", Candidate::kQuick, true);
  std::this_thread::sleep_for(1s);
  ASSERT_FALSE(standby.isLeader());

  dead->stop();  // like kill -9: no release, no more renewals
  EXPECT_FALSE(dead->isLeader());
  EXPECT_EQ(holder(ns), "replica-dead") << "the lease must still name the dead leader";
  EXPECT_FALSE(standby.isLeader()) << "taken over before the lease expired";
  EXPECT_TRUE(eventually(8'000, [&] { return standby.isLeader(); }))
      << "the standby did not take over the expired lease; lease: " << lease(ns).dump();
  json l = lease(ns);
  EXPECT_EQ(l["spec"]["holderIdentity"], "replica-standby");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 1);
}

}  // namespace
}  // namespace saguard::testing
