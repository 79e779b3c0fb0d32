// LeaseElector against the in-memory Lease API, with a FakeClock moved by a scripted
// sleeper: every wait of the elector advances fake time, then runs the test's script,
// so each test drives the election second by second without sleeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "leader/lease_elector.h"
#include "support/memory_lease_api.h"

namespace saguard::leader {
namespace {

using namespace std::chrono;
using Op = MemoryLeaseApi::Op;

constexpr const char* kNs = "saguard-system";
constexpr const char* kName = "saguard.io";

// Advances the clock by each wait of the elector. Waits on run()'s own token are
// scripted: `script(index, woken)` runs 1 ms before the wake-up (woken = false) and at
// it (woken = true). A wait on any other token (the elector waiting for the leader's
// work to return) blocks until that token is stopped, unless `spinOtherWaits`.
class ScriptedSleeper final : public kube::Sleeper {
 public:
  explicit ScriptedSleeper(FakeClock& clock) : clock_(clock) {}

  std::stop_token runToken;
  std::function<void(int index, bool woken)> script;
  bool spinOtherWaits = false;
  std::vector<milliseconds> waits;  // scripted waits, in order

  bool sleepFor(milliseconds d, std::stop_token token) override {
    if (token.stop_requested()) return false;
    if (token != runToken) {
      if (spinOtherWaits) {
        clock_.advance(d);
        if (otherScript) otherScript(++otherWaits_);
        return !token.stop_requested();
      }
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      cv.wait(lock, token, [] { return false; });
      return false;
    }
    waits.push_back(d);
    const int index = static_cast<int>(waits.size());
    if (d > milliseconds(1)) {
      clock_.advance(d - milliseconds(1));
      if (script) script(index, false);
      clock_.advance(milliseconds(1));
    } else {
      clock_.advance(d);
    }
    if (script) script(index, true);
    return !token.stop_requested();
  }

  std::function<void(int index)> otherScript;

 private:
  FakeClock& clock_;
  int otherWaits_ = 0;
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  LeaderElectorTest() : sleeper_(clock_), start_(clock_.now()) {
    sleeper_.runToken = stop_.get_token();
  }

  LeaseElectorOptions options() const {
    return {.leaseNamespace = kNs, .leaseName = kName, .identity = "me"};
  }

  // The wall clock the elector sees: 2024-05-01T10:00:00Z at the start, then in step
  // with the fake clock.
  system_clock::time_point wall() const {
    return time_point_cast<system_clock::duration>(sys_days{year{2024} / 5 / 1} + hours{10} +
                                                   (clock_.now() - start_));
  }
  std::string wallText(Clock::duration sinceStart) const {
    return formatMicroTime(time_point_cast<system_clock::duration>(sys_days{year{2024} / 5 / 1} +
                                                                   hours{10} + sinceStart));
  }
  Clock::duration elapsed() const { return clock_.now() - start_; }

  void record(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

  LeaderCallbacks callbacks() {
    return {.onStartedLeading =
                [this](std::stop_token token) {
                  record("started");
                  std::mutex mu;
                  std::condition_variable_any cv;
                  std::unique_lock lock(mu);
                  cv.wait(lock, token, [] { return false; });
                  record("work-stopped");
                  std::unique_lock hold(holdMu_);
                  holdCv_.wait(hold, [this] { return !holdWork_; });
                },
            .onStoppedLeading =
                [this] {
                  record(std::string("stopped:isLeader=") + (elector_->isLeader() ? "1" : "0"));
                },
            .onNewLeader = [this](const std::string& id) { newLeaders_.push_back(id); },
            .onLeadingChanged =
                [this](std::string_view name, bool on) {
                  EXPECT_EQ(name, kName);
                  leading_.push_back(on);
                  if (on) becameLeaderAt_ = elapsed();
                }};
  }

  void make(LeaseElectorOptions opts, double random = 0.0) {
    auto made = LeaseElector::create(std::move(opts), callbacks(), api_,
                                     {.clock = &clock_,
                                      .sleeper = &sleeper_,
                                      .random = [random] { return random; },
                                      .wallClock = [this] { return wall(); }});
    ASSERT_TRUE(made.ok()) << made.error().describe();
    elector_ = std::move(made).value();
  }

  Status run() { return elector_->run(stop_.get_token()); }

  // Another process holding the lease, with a renewTime far in the past by the
  // server's clock: only the locally observed time may count.
  void putOther(const std::string& holder, int transitions = 4, const std::string& renewTime = "") {
    api_.put(
        kNs, kName,
        LeaseRecord{holder, 15, "2024-05-01T08:00:00.000000Z",
                    renewTime.empty() ? "2024-05-01T09:00:00.000000Z" : renewTime, transitions});
  }

  LeaseRecord stored() const { return api_.record(kNs, kName).value(); }

  FakeClock clock_;
  ScriptedSleeper sleeper_;
  const Clock::time_point start_;
  MemoryLeaseApi api_;
  std::stop_source stop_;
  std::unique_ptr<LeaseElector> elector_;
  std::vector<std::string> newLeaders_;
  std::vector<bool> leading_;
  std::optional<Clock::duration> becameLeaderAt_;
  std::mutex mu_;
  std::vector<std::string> events_;
  bool holdWork_ = false;  // guarded by holdMu_
  std::mutex holdMu_;
  std::condition_variable holdCv_;
};

TEST_F(LeaderElectorTest, AcquiresWhenTheLeaseIsAbsent) {
  make(options());
  EXPECT_FALSE(elector_->isLeader());
  bool checked = false;
  sleeper_.script = [&](int index, bool woken) {
    if (index != 1 || !woken) return;
    checked = true;
    EXPECT_TRUE(elector_->isLeader());
    EXPECT_EQ(stored(), (LeaseRecord{"me", 15, wallText(0s), wallText(0s), 0}));
    EXPECT_EQ(api_.calls(Op::Create), 1);
    EXPECT_EQ(elector_->observedLeader(), "me");
    stop_.request_stop();
  };
  Status st = run();
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(checked);
  EXPECT_EQ(becameLeaderAt_, Clock::duration(0s));
  EXPECT_EQ(newLeaders_, std::vector<std::string>{"me"});
  EXPECT_EQ(leading_, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(events(), (std::vector<std::string>{"started", "work-stopped", "stopped:isLeader=0"}));
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest,
       DoesNotAcquireWhileAnotherHoldersLeaseIsFreshThenTakesOverAfterObservedExpiry) {
  putOther("other");
  make(options());
  std::vector<bool> leaderAtWake;
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    leaderAtWake.push_back(elector_->isLeader());
    if (index == 9) {
      EXPECT_EQ(stored(), (LeaseRecord{"me", 15, wallText(16s), wallText(16s), 5}));
      stop_.request_stop();
    }
  };
  ASSERT_TRUE(run().ok());
  // Attempts at 0, 2, ..., 14 s find the record unchanged but observed for less than
  // 15 s; the one at 16 s takes over, although the server's renewTime was an hour old.
  EXPECT_EQ(becameLeaderAt_, Clock::duration(16s));
  EXPECT_EQ(leaderAtWake,
            (std::vector<bool>{false, false, false, false, false, false, false, false, true}));
  EXPECT_EQ(newLeaders_, (std::vector<std::string>{"other", "me"}));
  EXPECT_EQ(stored(), (LeaseRecord{"", 1, wallText(18s), wallText(18s), 5}));  // released on stop
}

TEST_F(LeaderElectorTest, NeverTakesOverWhileTheHolderKeepsRenewing) {
  putOther("other");
  make(options());
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    // The holder renews every 4 s: the record changes, the observed time restarts.
    if (index % 2 == 0) putOther("other", 4, wallText(elapsed()));
    EXPECT_FALSE(elector_->isLeader())
        << "at " << duration_cast<seconds>(elapsed()).count() << " s";
    if (index == 30) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_FALSE(becameLeaderAt_.has_value());
  EXPECT_EQ(stored().holderIdentity, "other");
  EXPECT_EQ(stored().leaseTransitions, 4);
  EXPECT_EQ(api_.calls(Op::Update), 0);
  EXPECT_TRUE(events().empty());  // neither started nor stopped leading
}

TEST_F(LeaderElectorTest, ARenewalOfTheHolderRestartsTheObservedClock) {
  putOther("other");
  make(options());
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    if (index == 5) putOther("other", 4, wallText(elapsed()));  // renewed at 10 s, seen at 10 s
    if (elector_->isLeader()) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  // Seen changed at 10 s, so free at 25 s: the attempt at 26 s takes it.
  EXPECT_EQ(becameLeaderAt_, Clock::duration(26s));
}

TEST_F(LeaderElectorTest, AReleasedLeaseIsTakenAtOnce) {
  api_.put(kNs, kName,
           LeaseRecord{"", 1, "2024-05-01T09:59:59.000000Z", "2024-05-01T09:59:59.000000Z", 2});
  make(options());
  sleeper_.script = [&](int, bool woken) {
    if (woken) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(becameLeaderAt_, Clock::duration(0s));
  EXPECT_EQ(newLeaders_, std::vector<std::string>{"me"});  // an empty holder is not reported
}

TEST_F(LeaderElectorTest, LosingTheCreateRaceMeansNotLeader) {
  make(options());
  api_.setHook([&](Op op) {
    if (op == Op::Create)
      putOther("rival", 0, wallText(elapsed()));  // created between our get and create
  });
  std::vector<bool> leaderAtWake;
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    leaderAtWake.push_back(elector_->isLeader());
    if (index == 3) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(leaderAtWake, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(api_.calls(Op::Create), 1);
  EXPECT_EQ(stored().holderIdentity, "rival");
  EXPECT_EQ(newLeaders_, std::vector<std::string>{"rival"});
  EXPECT_TRUE(events().empty());
}

TEST_F(LeaderElectorTest, AConflictOnTakeoverMeansNotLeader) {
  putOther("stale");
  make(options());
  bool raced = false;
  api_.setHook([&](Op op) {
    // At the takeover attempt, a rival updates the lease between our get and update.
    if (op == Op::Update && !raced) {
      raced = true;
      putOther("rival", 5, wallText(elapsed()));
    }
  });
  std::vector<bool> leaderAtWake;
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    leaderAtWake.push_back(elector_->isLeader());
    if (index == 10) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_TRUE(raced);
  EXPECT_EQ(std::count(leaderAtWake.begin(), leaderAtWake.end(), true), 0);
  EXPECT_FALSE(becameLeaderAt_.has_value());
  EXPECT_EQ(stored().holderIdentity, "rival");
  EXPECT_EQ(newLeaders_, (std::vector<std::string>{"stale", "rival"}));
}

TEST_F(LeaderElectorTest, RenewsEveryRetryPeriodWithoutRereadingTheLease) {
  make(options());
  bool checked = false;
  sleeper_.script = [&](int index, bool woken) {
    if (index != 3 || !woken) return;
    checked = true;
    // Renewed at 2 s and 4 s; the attempt at 6 s has not run yet.
    EXPECT_EQ(stored(), (LeaseRecord{"me", 15, wallText(0s), wallText(4s), 0}));
    EXPECT_EQ(api_.calls(Op::Get), 1);  // only before the create
    EXPECT_EQ(api_.calls(Op::Update), 2);
    EXPECT_TRUE(elector_->isLeader());
    stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_TRUE(checked);
  EXPECT_EQ(sleeper_.waits, (std::vector<milliseconds>{2s, 2s, 2s}));
}

TEST_F(LeaderElectorTest, LosesLeadershipExactlyAtTheRenewDeadline) {
  make(options());
  std::vector<std::pair<milliseconds, bool>> guard;  // (time, isLeader) around each wake-up
  sleeper_.script = [&](int index, bool) {
    if (index == 1) {
      api_.failAlways(Op::Update,
                      makeError(ErrorKind::Unavailable, "etcdserver: request timed out"));
      api_.failAlways(Op::Get, makeError(ErrorKind::Unavailable, "etcdserver: request timed out"));
    }
    guard.emplace_back(duration_cast<milliseconds>(elapsed()), elector_->isLeader());
  };
  Status st = run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::Timeout);
  EXPECT_NE(st.error().message.find("etcdserver: request timed out"), std::string::npos)
      << st.error().message;
  // Renewed last at 0 s; attempts at 2, 4, 6, 8 s fail. The guard holds until 9.999 s
  // and is false at 10 s itself, before the renew loop has noticed anything.
  const std::vector<std::pair<milliseconds, bool>> expected = {
      {1999ms, true}, {2s, true},     {3999ms, true}, {4s, true},     {5999ms, true},
      {6s, true},     {7999ms, true}, {8s, true},     {9999ms, true}, {10s, false}};
  EXPECT_EQ(guard, expected);
  // onStoppedLeading runs on run()'s thread while the leader's work winds down on its own.
  auto got = events();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_NE(std::find(got.begin(), got.end(), "stopped:isLeader=0"), got.end());
  EXPECT_LT(std::find(got.begin(), got.end(), "started"),
            std::find(got.begin(), got.end(), "work-stopped"));
  EXPECT_EQ(leading_, (std::vector<bool>{false, true, false}));
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest, ARenewalBeforeTheDeadlineKeepsLeadership) {
  make(options());
  std::vector<bool> leaderAtWake;
  sleeper_.script = [&](int index, bool woken) {
    if (!woken) return;
    if (index == 1) api_.failAlways(Op::Update, makeError(ErrorKind::Unavailable, "down"));
    if (index == 3) api_.clearFailures();  // the attempt at 6 s succeeds: deadline 16 s
    leaderAtWake.push_back(elector_->isLeader());
    if (index == 7) {
      EXPECT_EQ(stored().renewTime, wallText(12s));
      stop_.request_stop();
    }
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(leaderAtWake, (std::vector<bool>{true, true, true, true, true, true, true}));
}

TEST_F(LeaderElectorTest, AnotherHolderTakingTheLeaseEndsLeadershipAtOnce) {
  make(options());
  sleeper_.script = [&](int index, bool woken) {
    if (index == 1 && woken) putOther("usurper", 1, wallText(elapsed()));
  };
  Status st = run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::Conflict);
  EXPECT_NE(st.error().message.find("usurper"), std::string::npos);
  EXPECT_EQ(sleeper_.waits.size(), 1u);  // lost at the attempt at 2 s, not at the deadline
  EXPECT_EQ(newLeaders_, (std::vector<std::string>{"me", "usurper"}));
  EXPECT_EQ(stored().holderIdentity, "usurper");  // not "released" by the loser
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest, StopReleasesTheLeaseForAStandby) {
  make(options());
  sleeper_.script = [&](int index, bool woken) {
    if (index == 2 && woken) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(stored(), (LeaseRecord{"", 1, wallText(4s), wallText(4s), 0}));
  EXPECT_EQ(events(), (std::vector<std::string>{"started", "work-stopped", "stopped:isLeader=0"}));
  EXPECT_EQ(leading_, (std::vector<bool>{false, true, false}));

  // A standby that observed us holding the lease takes the released lease at once.
  MemoryLeaseApi& api = api_;
  FakeClock standbyClock;
  ScriptedSleeper standbySleeper(standbyClock);
  std::stop_source standbyStop;
  standbySleeper.runToken = standbyStop.get_token();
  standbySleeper.script = [&](int, bool woken) {
    if (woken) standbyStop.request_stop();
  };
  auto standby = LeaseElector::create(
      {.leaseNamespace = kNs, .leaseName = kName, .identity = "standby", .releaseOnCancel = false},
      {.onStartedLeading = [](std::stop_token) {}, .onStoppedLeading = [] {}}, api,
      {.clock = &standbyClock, .sleeper = &standbySleeper, .random = [] { return 0.0; }});
  ASSERT_TRUE(standby.ok());
  ASSERT_TRUE((*standby)->run(standbyStop.get_token()).ok());
  EXPECT_EQ(stored().holderIdentity, "standby");
  EXPECT_EQ(stored().leaseTransitions, 1);
}

TEST_F(LeaderElectorTest, WithoutReleaseOnCancelTheHolderStays) {
  auto opts = options();
  opts.releaseOnCancel = false;
  make(opts);
  sleeper_.script = [&](int index, bool woken) {
    if (index == 1 && woken) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(stored(), (LeaseRecord{"me", 15, wallText(0s), wallText(0s), 0}));
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest, KeepsRenewingUntilTheLeadersWorkHasReturned) {
  make(options());
  {
    std::lock_guard lock(holdMu_);
    holdWork_ = true;  // the worker returns only when the test says so
  }
  sleeper_.spinOtherWaits = true;
  sleeper_.script = [&](int index, bool woken) {
    if (index == 1 && woken) stop_.request_stop();
  };
  bool checked = false;
  sleeper_.otherScript = [&](int index) {
    if (index != 7) return;
    // 14 s after the stop, past renewDeadline: still the leader, because it renewed.
    checked = true;
    EXPECT_TRUE(elector_->isLeader());
    EXPECT_EQ(stored().holderIdentity, "me");
    EXPECT_EQ(stored().renewTime, wallText(14s));
    std::lock_guard lock(holdMu_);
    holdWork_ = false;
    holdCv_.notify_all();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_TRUE(checked);
  EXPECT_EQ(stored().holderIdentity, "");
  EXPECT_EQ(events().back(), "stopped:isLeader=0");
}

TEST_F(LeaderElectorTest, CandidatesWaitAJitteredRetryPeriod) {
  putOther("other");
  make(options(), /*random=*/0.5);
  sleeper_.script = [&](int index, bool woken) {
    if (index == 3 && woken) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  // 2 s + 0.5 * 1.2 * 2 s.
  EXPECT_EQ(sleeper_.waits, (std::vector<milliseconds>{3200ms, 3200ms, 3200ms}));
}

TEST_F(LeaderElectorTest, StopBeforeLeadingReturnsWithoutCallbacks) {
  putOther("other");
  make(options());
  sleeper_.script = [&](int, bool woken) {
    if (woken) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(leading_, std::vector<bool>{false});
  EXPECT_EQ(stored().holderIdentity, "other");
}

TEST_F(LeaderElectorTest, RunsOnlyOnce) {
  make(options());
  stop_.request_stop();
  EXPECT_TRUE(run().ok());
  EXPECT_TRUE(run().is(ErrorKind::Invalid));
}

TEST_F(LeaderElectorTest, ReadErrorsKeepACandidateCampaigning) {
  api_.failNext(Op::Get, makeError(ErrorKind::Forbidden, "leases is forbidden"), 2);
  make(options());
  sleeper_.script = [&](int, bool woken) {
    if (woken && elector_->isLeader()) stop_.request_stop();
  };
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(becameLeaderAt_, Clock::duration(4s));
}

TEST(LeaderElectorOptions, DefaultsAreClientGosAndValid) {
  LeaseElectorOptions o{.leaseNamespace = "ns", .leaseName = "id"};
  EXPECT_EQ(o.leaseDuration, 15s);
  EXPECT_EQ(o.renewDeadline, 10s);
  EXPECT_EQ(o.retryPeriod, 2s);
  EXPECT_TRUE(o.releaseOnCancel);
  EXPECT_TRUE(o.validate().ok());
}

TEST(LeaderElectorOptions, ValidationNamesTheField) {
  struct Case {
    const char* field;
    std::function<void(LeaseElectorOptions&)> change;
  };
  const std::vector<Case> cases = {
      {"leaseNamespace", [](auto& o) { o.leaseNamespace.clear(); }},
      {"leaseName", [](auto& o) { o.leaseName.clear(); }},
      {"retryPeriod", [](auto& o) { o.retryPeriod = 0ms; }},
      {"renewDeadline", [](auto& o) { o.renewDeadline = 2400ms; }},   // = 2 s * 1.2: not greater
      {"leaseDuration", [](auto& o) { o.leaseDuration = 10s; }},      // = renewDeadline
      {"leaseDuration", [](auto& o) { o.leaseDuration = 15500ms; }},  // not whole seconds
  };
  for (const auto& c : cases) {
    LeaseElectorOptions o{.leaseNamespace = "ns", .leaseName = "id"};
    c.change(o);
    Status st = o.validate();
    ASSERT_FALSE(st.ok()) << c.field;
    EXPECT_EQ(st.kind(), ErrorKind::Invalid);
    EXPECT_EQ(st.error().message.rfind(c.field, 0), 0u) << st.error().message;
  }
  LeaseElectorOptions justAbove{.leaseNamespace = "ns",
                                .leaseName = "id",
                                .leaseDuration = 3s,
                                .renewDeadline = 2s,
                                .retryPeriod = 500ms};
  EXPECT_TRUE(justAbove.validate().ok());
}

TEST(LeaderElectorOptions, CreateRejectsBadOptionsAndMissingCallbacks) {
  MemoryLeaseApi api;
  LeaderCallbacks full{.onStartedLeading = [](std::stop_token) {}, .onStoppedLeading = [] {}};
  auto bad = LeaseElector::create({.leaseNamespace = "ns", .leaseName = ""}, full, api);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--leader-election-id"), std::string::npos);

  auto noStart = LeaseElector::create({.leaseNamespace = "ns", .leaseName = "id"},
                                      {.onStoppedLeading = [] {}}, api);
  ASSERT_FALSE(noStart.ok());
  EXPECT_NE(noStart.error().message.find("onStartedLeading"), std::string::npos);
  auto noStop = LeaseElector::create({.leaseNamespace = "ns", .leaseName = "id"},
                                     {.onStartedLeading = [](std::stop_token) {}}, api);
  ASSERT_FALSE(noStop.ok());
  EXPECT_NE(noStop.error().message.find("onStoppedLeading"), std::string::npos);

  auto ok = LeaseElector::create({.leaseNamespace = "ns", .leaseName = "id"}, full, api);
  ASSERT_TRUE(ok.ok());
  EXPECT_NE((*ok)->identity().find('_'), std::string::npos);  // hostname_uuid by default
  EXPECT_FALSE((*ok)->isLeader());
}

}  // namespace
}  // namespace saguard::leader
