// The recorder end to end, with a fake sink that behaves like the API server's Event
// store (create refuses a taken name, a patch of a missing Event is NotFound) and a
// FakeClock. Occurrences are stamped at emit(), so flush() makes every test
// deterministic whatever the writer thread's timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "events/recorder.h"
#include "events/sink.h"
#include "support/fake_recorder.h"

namespace saguard::events {
namespace {

using namespace std::chrono;

// An in-memory Event store with scripted failures.
class FakeSink final : public EventSink {
 public:
  struct Call {
    bool create = false;
    std::string ns, name;
    std::optional<Series> series;  // patch: the series sent; create: the Event's
  };

  Status create(const Event& event) override {
    if (onCall_) onCall_();
    std::lock_guard lock(mu_);
    calls_.push_back({true, event.namespace_, event.name, event.series});
    if (auto failure = nextFailure()) return *failure;
    std::string key = event.namespace_ + "/" + event.name;
    if (store_.count(key))
      return makeError(ErrorKind::AlreadyExists, "events \"" + event.name + "\" already exists");
    store_[key] = event;
    return Status::Ok();
  }

  Status patchSeries(std::string_view ns, std::string_view name, const Series& series) override {
    if (onCall_) onCall_();
    std::lock_guard lock(mu_);
    calls_.push_back({false, std::string(ns), std::string(name), series});
    if (auto failure = nextFailure()) return *failure;
    auto it = store_.find(std::string(ns) + "/" + std::string(name));
    if (it == store_.end())
      return makeError(ErrorKind::NotFound, "events \"" + std::string(name) + "\" not found");
    it->second.series = series;
    return Status::Ok();
  }

  // The next calls fail with these errors, in order.
  void failNext(std::vector<Error> errors) {
    std::lock_guard lock(mu_);
    for (auto& e : errors) failures_.push_back(std::move(e));
  }
  void failAlways(ErrorKind kind) {
    std::lock_guard lock(mu_);
    always_ = makeError(kind, "scripted");
  }
  // Runs at the start of every call, without the sink's lock.
  void onCall(std::function<void()> hook) { onCall_ = std::move(hook); }

  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    for (const auto& [key, event] : store_) out.push_back(event);
    return out;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void removeAll() {
    std::lock_guard lock(mu_);
    store_.clear();
  }

 private:
  std::optional<Error> nextFailure() {
    if (always_) return always_;
    if (failures_.empty()) return std::nullopt;
    Error e = failures_.front();
    failures_.pop_front();
    return e;
  }

  mutable std::mutex mu_;
  std::map<std::string, Event> store_;
  std::vector<Call> calls_;
  std::deque<Error> failures_;
  std::optional<Error> always_;
  std::function<void()> onCall_;
};

class CountingMetrics final : public EventMetrics {
 public:
  void onWritten(Reason reason, EventType type, Write write) override {
    std::lock_guard lock(mu_);
    ++written[{toString(reason), toString(type), toString(write)}];
  }
  void onDropped(Reason reason, EventType, DropCause cause) override {
    std::lock_guard lock(mu_);
    ++dropped[{toString(reason), toString(cause)}];
  }
  void onFailed(Reason reason, EventType, ErrorKind kind) override {
    std::lock_guard lock(mu_);
    ++failed[{toString(reason), toString(kind)}];
  }
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, int> written;
  std::map<std::pair<std::string, std::string>, int> dropped;
  std::map<std::pair<std::string, std::string>, int> failed;
};

// Holds the writer inside the sink's first call until released, so that the queue fills
// deterministically behind it.
class SinkGate {
 public:
  void install(FakeSink& sink) {
    sink.onCall([this] {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    });
  }
  void waitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
};

const WallTime kEpoch = WallTime(seconds(1'700'000'000));

class RecorderTest : public ::testing::Test {
 protected:
  RecorderOptions options() {
    RecorderOptions o;
    o.reportingInstance = "saguard-0-abc";
    o.retryBackoff = milliseconds(1);
    o.maxRetryBackoff = milliseconds(2);
    o.wallClock = [this] { return wall(); };
    o.metrics = &metrics_;
    return o;
  }
  std::unique_ptr<QueuedEventRecorder> start(RecorderOptions o) {
    auto made = makeRecorder(sink_, clock_, std::move(o));
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    return std::move(made).value();
  }
  std::unique_ptr<QueuedEventRecorder> start() { return start(options()); }

  WallTime wall() const { return kEpoch + (clock_.now() - start_); }
  void flush(QueuedEventRecorder& recorder) { ASSERT_TRUE(recorder.flush(seconds(30))); }

  static ObjectRef account(const std::string& name = "default", const std::string& ns = "team-a") {
    return {"v1", "ServiceAccount", ns, name, "uid-" + name, "7"};
  }
  static std::uint64_t accounted(const RecorderStats& s) {
    return s.created + s.patched + s.failed + s.droppedQueueFull + s.spamFiltered +
           s.droppedAtShutdown;
  }

  FakeClock clock_;
  Clock::time_point start_ = clock_.now();
  FakeSink sink_;
  CountingMetrics metrics_;
};

TEST_F(RecorderTest, FirstEventCreatesAnEventsV1Event) {
  auto recorder = start();
  ASSERT_TRUE(
      recorder
          ->emit(account(), Reason::AutomountDisabled, "set automountServiceAccountToken to false")
          .ok());
  flush(*recorder);

  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  const Event& e = events[0];
  EXPECT_EQ(e.namespace_, "team-a");
  EXPECT_EQ(e.name.rfind("default.", 0), 0u) << e.name;
  EXPECT_EQ(e.reportingController, "saguard.io/controller");
  EXPECT_EQ(e.reportingInstance, "saguard-0-abc");
  EXPECT_EQ(e.action, "Patch");
  EXPECT_EQ(e.reason, "AutomountDisabled");
  EXPECT_EQ(e.type, EventType::Normal);
  EXPECT_EQ(e.note, "set automountServiceAccountToken to false");
  EXPECT_EQ(e.regarding, account());
  EXPECT_EQ(e.eventTime, kEpoch);
  EXPECT_FALSE(e.series.has_value());
  EXPECT_FALSE(e.related.has_value());
  auto s = recorder->stats();
  EXPECT_EQ(s.emitted, 1u);
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ((metrics_.written[{"AutomountDisabled", "Normal", "Created"}]), 1);
}

TEST_F(RecorderTest, RepeatsPatchTheSeriesWithCountTwoThree) {
  auto recorder = start();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        recorder->emit(account(), Reason::DriftReverted, "set back to true; set to false again")
            .ok());
    clock_.advance(seconds(30));
  }
  flush(*recorder);

  auto calls = sink_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_TRUE(calls[0].create);
  for (int i = 1; i < 4; ++i) {
    EXPECT_FALSE(calls[i].create);
    EXPECT_EQ(calls[i].name, calls[0].name);
    ASSERT_TRUE(calls[i].series.has_value());
    EXPECT_EQ(calls[i].series->count, i + 1);
    EXPECT_EQ(calls[i].series->lastObservedTime, kEpoch + seconds(30 * i));
  }
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].series->count, 4);
  EXPECT_EQ(events[0].type, EventType::Warning);
  auto s = recorder->stats();
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.patched, 3u);
  EXPECT_EQ((metrics_.written[{"DriftReverted", "Warning", "SeriesPatched"}]), 3);
}

TEST_F(RecorderTest, DifferentNoteOrReasonCreatesAnotherEvent) {
  auto recorder = start();
  ASSERT_TRUE(
      recorder->emit(account(), Reason::AutomountWouldBeDisabled, "would set false (policy a)")
          .ok());
  ASSERT_TRUE(
      recorder->emit(account(), Reason::AutomountWouldBeDisabled, "would set false (policy b)")
          .ok());
  ASSERT_TRUE(
      recorder->emit(account(), Reason::AutomountDisabled, "would set false (policy a)").ok());
  ASSERT_TRUE(
      recorder->emit(account(), Reason::AutomountWouldBeDisabled, "would set false (policy a)")
          .ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 3u);
  int withSeries = 0;
  for (const auto& e : events) withSeries += e.series.has_value();
  EXPECT_EQ(withSeries, 1);
  EXPECT_EQ(recorder->stats().patched, 1u);
}

TEST_F(RecorderTest, AfterTheSeriesWindowANewEvent) {
  auto recorder = start();
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  clock_.advance(minutes(6) + seconds(1));
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].series.has_value());
  EXPECT_FALSE(events[1].series.has_value());
  EXPECT_NE(events[0].name, events[1].name);
  EXPECT_EQ(recorder->stats().created, 2u);
}

TEST_F(RecorderTest, SpamFilterBoundsAFlood) {
  auto recorder = start();
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(recorder->emit(account(), Reason::DriftReverted, "flood").ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].series->count, 25);
  auto s = recorder->stats();
  EXPECT_EQ(s.spamFiltered, 75u);
  EXPECT_EQ(sink_.calls().size(), 25u);
  EXPECT_EQ((metrics_.dropped[{"DriftReverted", "SpamFiltered"}]), 75);

  clock_.advance(minutes(5));  // one more token
  ASSERT_TRUE(recorder->emit(account(), Reason::DriftReverted, "flood").ok());
  ASSERT_TRUE(recorder->emit(account(), Reason::DriftReverted, "flood").ok());
  flush(*recorder);
  EXPECT_EQ(sink_.events()[0].series->count, 26);
  EXPECT_EQ(recorder->stats().spamFiltered, 76u);
  EXPECT_EQ(accounted(recorder->stats()), 102u);
}

TEST_F(RecorderTest, LruEvictsOldSeries) {
  RecorderOptions o = options();
  o.correlator.cacheSize = 2;
  auto recorder = start(o);
  for (const char* name : {"a", "b", "c", "a"}) {
    ASSERT_TRUE(recorder->emit(account(name), Reason::AutomountDisabled, "n").ok());
  }
  flush(*recorder);
  // a was evicted by c: its repeat is a new Event, not a patch.
  EXPECT_EQ(sink_.events().size(), 4u);
  auto s = recorder->stats();
  EXPECT_EQ(s.created, 4u);
  EXPECT_EQ(s.patched, 0u);
  EXPECT_EQ(s.seriesTracked, 2u);
  EXPECT_EQ(s.objectsTracked, 2u);
}

TEST_F(RecorderTest, ClusterScopedObjectsGoToDefault) {
  auto recorder = start();
  ObjectRef binding{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "ci:admin", "u", ""};
  ASSERT_TRUE(recorder
                  ->emit(binding, Reason::BindingGrantsSelectedAccount,
                         "grants ClusterRole cluster-admin to team-a/default", account())
                  .ok());
  ASSERT_TRUE(recorder->emit(policyRef("no-token"), Reason::PolicyInvalid, "bad selector").ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    EXPECT_EQ(e.namespace_, "default") << e.name;
    EXPECT_TRUE(e.regarding.namespace_.empty());
  }
  const Event& crb = events[0].reason == "BindingGrantsSelectedAccount" ? events[0] : events[1];
  EXPECT_EQ(crb.name.rfind("ci-admin.", 0), 0u) << crb.name;
  ASSERT_TRUE(crb.related.has_value());
  EXPECT_EQ(*crb.related, account());
  EXPECT_EQ(crb.action, "Report");
}

TEST_F(RecorderTest, LongNotesAreTruncated) {
  auto recorder = start();
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, std::string(4000, 'x')).ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].note.size(), 1024u);
  EXPECT_EQ(events[0].note.substr(1021), "...");
}

TEST_F(RecorderTest, QueueOverflowDropsTheOldestAndCounts) {
  // The writer blocks inside the sink on the first call until released, so the
  // queue fills deterministically.
  SinkGate gate;
  gate.install(sink_);
  RecorderOptions o = options();
  o.queueCapacity = 3;
  auto recorder = start(o);

  ASSERT_TRUE(recorder->emit(account("e0"), Reason::AutomountDisabled, "n").ok());
  gate.waitEntered();
  ASSERT_TRUE(recorder->emit(account("e1"), Reason::DriftReverted, "n").ok());
  ASSERT_TRUE(recorder->emit(account("e2"), Reason::DriftReverted, "n").ok());
  for (const char* name : {"e3", "e4", "e5"}) {
    ASSERT_TRUE(recorder->emit(account(name), Reason::AutomountDisabled, "n").ok());
  }
  auto waiting = recorder->stats();
  EXPECT_EQ(waiting.queued, 3u);
  EXPECT_EQ(waiting.droppedQueueFull, 2u);
  gate.release();
  flush(*recorder);

  std::vector<std::string> written;
  for (const auto& e : sink_.events()) written.push_back(e.regarding.name);
  std::sort(written.begin(), written.end());
  EXPECT_EQ(written, (std::vector<std::string>{"e0", "e3", "e4", "e5"}));
  auto s = recorder->stats();
  EXPECT_EQ(s.droppedQueueFull, 2u);
  EXPECT_EQ(s.emitted, 6u);
  EXPECT_EQ(accounted(s), 6u);
  EXPECT_EQ((metrics_.dropped[{"DriftReverted", "QueueFull"}]), 2);
}

// A flood of reports neither delays nor pushes out the Events about saguard's own writes:
// those are written first, and a full queue drops reports first.
TEST_F(RecorderTest, ReportsWaitBehindOwnActionsAndAreDroppedFirst) {
  SinkGate gate;
  gate.install(sink_);
  RecorderOptions o = options();
  o.queueCapacity = 3;
  auto recorder = start(o);
  auto pod = [](const std::string& name) {
    return ObjectRef{"v1", "Pod", "team-a", name, "uid-" + name, "3"};
  };
  ASSERT_TRUE(recorder->emit(account("e0"), Reason::AutomountDisabled, "n").ok());
  gate.waitEntered();
  ASSERT_TRUE(recorder->emit(pod("p1"), Reason::TokenMounted, "n").ok());
  ASSERT_TRUE(recorder->emit(pod("p2"), Reason::TokenMounted, "n").ok());
  ASSERT_TRUE(recorder->emit(account("a1"), Reason::AutomountDisabled, "n").ok());
  ASSERT_TRUE(recorder->emit(account("a2"), Reason::DeclaredByOwner, "n").ok());  // drops p1
  gate.release();
  flush(*recorder);
  std::vector<std::string> order;
  // An Event's name is "<object>.<hex nanoseconds>".
  for (const auto& call : sink_.calls()) order.push_back(call.name.substr(0, call.name.find('.')));
  EXPECT_EQ(order, (std::vector<std::string>{"e0", "a1", "a2", "p2"}));
  EXPECT_EQ((metrics_.dropped[{"TokenMounted", "QueueFull"}]), 1);
  EXPECT_EQ(recorder->stats().droppedQueueFull, 1u);
}

// writesPerSecond paces the writer by the injected clock: a burst, then one write per
// 1/rate seconds of that clock.
TEST_F(RecorderTest, WritesArePacedByTheirRate) {
  RecorderOptions o = options();
  o.writesPerSecond = 10;
  o.writeBurst = 2;
  auto recorder = start(o);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(
        recorder->emit(account("a" + std::to_string(i)), Reason::AutomountDisabled, "n").ok());
  auto writes = [&] { return sink_.calls().size(); };
  auto eventually = [&](std::size_t n) {
    for (int i = 0; i < 2000 && writes() < n; ++i) std::this_thread::sleep_for(milliseconds(1));
    return writes();
  };
  EXPECT_EQ(eventually(2), 2u);
  std::this_thread::sleep_for(milliseconds(250));  // the fake clock stands still: no token
  EXPECT_EQ(writes(), 2u);
  EXPECT_EQ(recorder->stats().queued, 3u);
  clock_.advance(milliseconds(100));  // one token
  EXPECT_EQ(eventually(3), 3u);
  std::this_thread::sleep_for(milliseconds(250));
  EXPECT_EQ(writes(), 3u);
  clock_.advance(seconds(1));  // enough for the rest (the bucket holds at most 2)
  EXPECT_EQ(eventually(5), 5u);
  flush(*recorder);
  EXPECT_EQ(recorder->stats().created, 5u);
}

TEST_F(RecorderTest, RetriesWhatMaySucceedLater) {
  auto recorder = start();
  Error throttled = makeError(ErrorKind::TooManyRequests, "slow down");
  throttled.retryAfter = milliseconds(1);
  sink_.failNext({makeError(ErrorKind::Unavailable, "etcd leader changed"), throttled});
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  EXPECT_EQ(sink_.events().size(), 1u);
  EXPECT_EQ(sink_.calls().size(), 3u);
  auto s = recorder->stats();
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ(s.failed, 0u);
}

TEST_F(RecorderTest, GivesUpAfterMaxAttemptsAndForgetsTheSeries) {
  RecorderOptions o = options();
  o.maxAttempts = 3;
  auto recorder = start(o);
  sink_.failNext({makeError(ErrorKind::Transport, "connection refused"),
                  makeError(ErrorKind::Transport, "x"), makeError(ErrorKind::Timeout, "y")});
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  EXPECT_EQ(sink_.calls().size(), 3u);
  EXPECT_TRUE(sink_.events().empty());
  auto s = recorder->stats();
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ((metrics_.failed[{"AutomountDisabled", "Timeout"}]), 1);

  // No Event exists for the series, so the repeat creates one instead of patching.
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  auto calls = sink_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_TRUE(calls[3].create);
  ASSERT_EQ(sink_.events().size(), 1u);
  EXPECT_FALSE(sink_.events()[0].series.has_value());
}

TEST_F(RecorderTest, RefusalsAreNotRetried) {
  auto recorder = start();
  sink_.failNext({makeError(ErrorKind::Forbidden, "cannot create events")});
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  EXPECT_EQ(sink_.calls().size(), 1u);
  EXPECT_EQ(recorder->stats().failed, 1u);
  EXPECT_EQ(recorder->stats().retries, 0u);
}

TEST_F(RecorderTest, TakenNameIsRetriedUnderANewOne) {
  auto recorder = start();
  sink_.failNext({makeError(ErrorKind::AlreadyExists, "taken")});
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  auto calls = sink_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_TRUE(calls[0].create);
  EXPECT_TRUE(calls[1].create);
  EXPECT_NE(calls[0].name, calls[1].name);
  // The series follows the Event to its new name.
  EXPECT_FALSE(calls[2].create);
  EXPECT_EQ(calls[2].name, calls[1].name);
  EXPECT_EQ(sink_.events().size(), 1u);
  EXPECT_EQ(sink_.events()[0].series->count, 2);
}

TEST_F(RecorderTest, ExpiredEventIsRecreatedWithItsSeries) {
  auto recorder = start();
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  std::string firstName = sink_.events()[0].name;
  sink_.removeAll();  // the API server expired it
  clock_.advance(seconds(5));
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  auto calls = sink_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_FALSE(calls[1].create);  // the patch: NotFound
  EXPECT_TRUE(calls[2].create);   // re-created, series included
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].name, firstName);
  EXPECT_EQ(events[0].eventTime, kEpoch);  // the series began with the first occurrence
  ASSERT_TRUE(events[0].series.has_value());
  EXPECT_EQ(events[0].series->count, 3);
  auto s = recorder->stats();
  EXPECT_EQ(s.created, 2u);
  EXPECT_EQ(s.patched, 1u);
  EXPECT_EQ(s.retries, 0u);
}

TEST_F(RecorderTest, FailedPatchKeepsCounting) {
  auto recorder = start();
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  sink_.failNext({makeError(ErrorKind::Forbidden, "no patch")});
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  ASSERT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  flush(*recorder);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].series->count, 3);
  EXPECT_EQ(recorder->stats().failed, 1u);
}

TEST_F(RecorderTest, WrongCallsAreRefusedAndNothingIsQueued) {
  auto recorder = start();
  ObjectRef pod{"v1", "Pod", "team-a", "web-0", "", ""};
  Status st = recorder->emit(pod, Reason::AutomountDisabled, "n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::Invalid);
  EXPECT_FALSE(recorder->emit(account("default", ""), Reason::AutomountDisabled, "n").ok());
  EXPECT_FALSE(
      recorder
          ->emit(account(), Reason::AutomountDisabled, "n", ObjectRef{"v1", "", "", "x", "", ""})
          .ok());
  EXPECT_TRUE(recorder->emit(pod, Reason::TokenMounted, "recreate the pod").ok());
  flush(*recorder);
  EXPECT_EQ(recorder->stats().emitted, 1u);
  EXPECT_EQ(sink_.events().size(), 1u);
}

TEST_F(RecorderTest, ShutdownFlushesThenDropsLaterEmits) {
  auto recorder = start();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        recorder->emit(account("sa-" + std::to_string(i)), Reason::AutomountDisabled, "n").ok());
  }
  recorder->shutdown(seconds(30));
  EXPECT_EQ(sink_.events().size(), 20u);
  EXPECT_TRUE(recorder->emit(account(), Reason::AutomountDisabled, "n").ok());
  auto s = recorder->stats();
  EXPECT_EQ(s.droppedAtShutdown, 1u);
  EXPECT_EQ(accounted(s), s.emitted);
  EXPECT_EQ((metrics_.dropped[{"AutomountDisabled", "ShutDown"}]), 1);
  recorder->shutdown(seconds(1));  // idempotent
}

TEST_F(RecorderTest, ShutdownIsBoundedWhenTheServerIsDown) {
  RecorderOptions o = options();
  o.retryBackoff = seconds(60);
  o.maxRetryBackoff = seconds(60);
  auto recorder = start(o);
  sink_.failAlways(ErrorKind::Unavailable);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        recorder->emit(account("sa-" + std::to_string(i)), Reason::AutomountDisabled, "n").ok());
  }
  // The writer sits in a 60 s backoff; shutdown cuts it short and drops the rest.
  recorder->shutdown(milliseconds(20));
  auto s = recorder->stats();
  EXPECT_EQ(s.created, 0u);
  EXPECT_EQ(s.failed + s.droppedAtShutdown, 5u);
  EXPECT_GE(s.droppedAtShutdown, 4u);
  EXPECT_EQ(s.queued, 0u);
}

TEST_F(RecorderTest, ManyThreadsEmitAndEverythingIsAccounted) {
  RecorderOptions o = options();
  o.queueCapacity = 100'000;
  auto recorder = start(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        // 50 objects per thread, each emitted 5 times: one Event with count 5.
        auto st = recorder->emit(account("t" + std::to_string(t) + "-" + std::to_string(i % 50)),
                                 Reason::AutomountWouldBeDisabled, "n");
        EXPECT_TRUE(st.ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  flush(*recorder);
  auto s = recorder->stats();
  EXPECT_EQ(s.emitted, 1000u);
  EXPECT_EQ(s.created, 200u);
  EXPECT_EQ(s.patched, 800u);
  auto events = sink_.events();
  ASSERT_EQ(events.size(), 200u);
  for (const auto& e : events) EXPECT_EQ(e.series->count, 5) << e.name;
}

TEST(RecorderOptionsTest, ValidationNamesTheField) {
  FakeSink sink;
  FakeClock clock;
  auto message = [&](RecorderOptions o) {
    auto made = makeRecorder(sink, clock, std::move(o));
    return made.ok() ? std::string("ok") : made.error().message;
  };
  RecorderOptions o;
  EXPECT_NE(message(o).find("RecorderOptions.reportingInstance: must not be empty"),
            std::string::npos);
  o.reportingInstance = std::string(129, 'x');
  EXPECT_NE(message(o).find("RecorderOptions.reportingInstance: is 129 bytes"), std::string::npos);
  o.reportingInstance = std::string(128, 'x');
  EXPECT_EQ(message(o), "ok");
  o.queueCapacity = 0;
  EXPECT_NE(message(o).find("RecorderOptions.queueCapacity"), std::string::npos);
  o.queueCapacity = 1;
  o.maxAttempts = 0;
  EXPECT_NE(message(o).find("RecorderOptions.maxAttempts"), std::string::npos);
  o.maxAttempts = 1;
  o.maxRetryBackoff = milliseconds(1);
  EXPECT_NE(message(o).find("RecorderOptions.maxRetryBackoff"), std::string::npos);
  o.maxRetryBackoff = seconds(10);
  o.writesPerSecond = -1;
  EXPECT_NE(message(o).find("RecorderOptions.writesPerSecond"), std::string::npos);
  o.writesPerSecond = 25;
  o.writeBurst = 0;
  EXPECT_NE(message(o).find("RecorderOptions.writeBurst"), std::string::npos);
  o.writeBurst = 1;
  o.correlator.cacheSize = 0;
  EXPECT_EQ(message(o), "RecorderOptions.correlator.cacheSize: must be at least 1");
}

TEST(FakeEventRecorderTest, KeepsValidEmitsAndRefusesWrongOnes) {
  FakeEventRecorder fake;
  ObjectRef sa{"v1", "ServiceAccount", "ns", "default", "", ""};
  EXPECT_TRUE(fake.emit(sa, Reason::AutomountDisabled, "a").ok());
  EXPECT_TRUE(fake.emit(sa, Reason::DriftReverted, "b").ok());
  EXPECT_FALSE(fake.emit(sa, Reason::TokenMounted, "c").ok());
  ASSERT_EQ(fake.emitted().size(), 2u);
  EXPECT_EQ(fake.emitted()[1].note, "b");
  EXPECT_EQ(fake.count(Reason::AutomountDisabled), 1u);
  fake.clear();
  EXPECT_TRUE(fake.emitted().empty());
}

}  // namespace
}  // namespace saguard::events
