#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "queue/work_queue.h"
#include "queue/worker.h"

namespace saguard::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Reported {
  std::string key;
  WorkResult result;
  std::string error;  // the error's message, if any
  Clock::duration took;
};

class RecordingHooks final : public WorkerHooks {
 public:
  void onOutcome(const std::string& key, const Outcome& outcome, Clock::duration took) override {
    std::lock_guard lock(mu_);
    reported_.push_back(
        {key, outcome.result(), outcome.error() ? outcome.error()->message : "", took});
  }
  std::vector<Reported> reported() const {
    std::lock_guard lock(mu_);
    return reported_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Reported> reported_;
};

class WorkerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  WorkQueue queue_{clock_};
  RecordingHooks hooks_;

  // Runs one iteration with `fn` on a queued key.
  void processOne(const WorkFn& fn) {
    ASSERT_GT(queue_.len(), 0u);
    ASSERT_TRUE(processNextItem(queue_, fn, hooks_));
  }
  // Fails the key twice so it has a backoff to forget (or keep).
  void failTwice(const std::string& key) {
    for (int i = 0; i < 2; ++i) {
      queue_.add(key);
      clock_.advance(seconds(1));
      queue_.releaseReady();
      processOne(
          [](const std::string&) { return Outcome::error(makeError(ErrorKind::Conflict, "")); });
    }
    ASSERT_EQ(queue_.numRequeues(key), 2);
    clock_.advance(seconds(1));
    ASSERT_EQ(queue_.releaseReady(), 1u);  // the second retry is queued now
  }
};

TEST_F(WorkerTest, SuccessForgetsTheBackoffAndMarksDone) {
  failTwice("a");
  std::string seen;
  processOne([&](const std::string& key) {
    seen = key;
    clock_.advance(milliseconds(12));
    return Outcome::done();
  });
  EXPECT_EQ(seen, "a");
  EXPECT_EQ(queue_.numRequeues("a"), 0);
  EXPECT_EQ(queue_.inFlight(), 0u);  // done() was called
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.waiting(), 0u);
  auto reported = hooks_.reported();
  ASSERT_EQ(reported.size(), 3u);
  EXPECT_EQ(reported.back().key, "a");
  EXPECT_EQ(reported.back().result, WorkResult::Success);
  EXPECT_EQ(reported.back().took, milliseconds(12));
}

TEST_F(WorkerTest, ErrorRequeuesWithGrowingBackoff) {
  queue_.add("a");
  auto failing = [](const std::string&) {
    return Outcome::error(makeError(ErrorKind::Unavailable, "apiserver down"));
  };
  processOne(failing);
  EXPECT_EQ(queue_.inFlight(), 0u);
  EXPECT_EQ(queue_.numRequeues("a"), 1);
  EXPECT_EQ(queue_.len(), 0u);
  clock_.advance(milliseconds(5));
  EXPECT_EQ(queue_.releaseReady(), 1u);

  processOne(failing);
  EXPECT_EQ(queue_.numRequeues("a"), 2);
  clock_.advance(milliseconds(9));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);

  auto reported = hooks_.reported();
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].result, WorkResult::Error);
  EXPECT_EQ(reported[0].error, "apiserver down");
}

TEST_F(WorkerTest, RequeueAfterForgetsThenAddsAfterTheDelay) {
  failTwice("a");
  processOne([](const std::string&) { return Outcome::requeueAfter(seconds(30)); });
  EXPECT_EQ(queue_.numRequeues("a"), 0);
  EXPECT_EQ(queue_.inFlight(), 0u);
  clock_.advance(seconds(29));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  clock_.advance(seconds(1));
  EXPECT_EQ(queue_.releaseReady(), 1u);
  EXPECT_EQ(hooks_.reported().back().result, WorkResult::RequeueAfter);
}

TEST_F(WorkerTest, RequeueAfterZeroRequeuesAtOnce) {
  queue_.add("a");
  processOne([](const std::string&) { return Outcome::requeueAfter(Clock::duration::zero()); });
  EXPECT_EQ(queue_.len(), 1u);  // queued by done(), since the key was in flight when re-added
  EXPECT_EQ(queue_.inFlight(), 0u);
}

TEST_F(WorkerTest, TerminalErrorForgetsAndDoesNotRetry) {
  failTwice("a");
  processOne([](const std::string&) {
    return Outcome::terminalError(makeError(ErrorKind::Invalid, "spec.mode: Unsupported value"));
  });
  EXPECT_EQ(queue_.numRequeues("a"), 0);
  EXPECT_EQ(queue_.inFlight(), 0u);
  clock_.advance(seconds(2000));
  EXPECT_EQ(queue_.releaseReady(), 0u);
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(hooks_.reported().back().result, WorkResult::TerminalError);
  EXPECT_EQ(hooks_.reported().back().error, "spec.mode: Unsupported value");
}

TEST_F(WorkerTest, ThrowingWorkFunctionCountsAsRetriableError) {
  queue_.add("a");
  processOne([](const std::string&) -> Outcome { throw std::runtime_error("boom"); });
  EXPECT_EQ(queue_.inFlight(), 0u);
  EXPECT_EQ(queue_.numRequeues("a"), 1);
  auto reported = hooks_.reported();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].result, WorkResult::Error);
  EXPECT_NE(reported[0].error.find("boom"), std::string::npos);
}

TEST_F(WorkerTest, KeyReAddedDuringWorkIsProcessedAgainAfterDone) {
  queue_.add("a");
  processOne([&](const std::string& key) {
    queue_.add(key);  // an event arrives while the key is reconciled
    EXPECT_EQ(queue_.len(), 0u);
    return Outcome::done();
  });
  EXPECT_EQ(queue_.len(), 1u);
}

TEST_F(WorkerTest, ProcessNextItemStopsAtShutdownWithoutCallingFn) {
  queue_.shutDown();
  bool called = false;
  EXPECT_FALSE(processNextItem(queue_, [&](const std::string&) {
    called = true;
    return Outcome::done();
  }));
  EXPECT_FALSE(called);
}

TEST(WorkResult, LabelNames) {
  std::set<std::string> names;
  for (WorkResult result : kAllWorkResults) names.insert(toString(result));
  EXPECT_EQ(names, (std::set<std::string>{"success", "requeue_after", "error", "terminal_error"}));
}

TEST(RunWorkers, RejectsBadArguments) {
  FakeClock clock;
  WorkQueue queue(clock);
  Status none = runWorkers(queue, 0, [](const std::string&) { return Outcome::done(); });
  EXPECT_TRUE(none.is(ErrorKind::Invalid));
  EXPECT_NE(none.error().message.find("workers"), std::string::npos);
  Status empty = runWorkers(queue, 2, WorkFn{});
  EXPECT_TRUE(empty.is(ErrorKind::Invalid));
}

TEST(RunWorkers, ProcessesEveryKeyThenReturnsOnDrain) {
  FakeClock clock;
  WorkQueue queue(clock);
  RecordingHooks hooks;
  std::mutex mu;
  std::map<std::string, int> processed;
  std::atomic<int> count{0};
  constexpr int kKeys = 50;
  for (int i = 0; i < kKeys; ++i) queue.add("key-" + std::to_string(i));

  Status status = Status::Ok();
  std::thread pool([&] {
    status = runWorkers(
        queue, 4,
        [&](const std::string& key) {
          {
            std::lock_guard lock(mu);
            ++processed[key];
          }
          ++count;
          return Outcome::done();
        },
        hooks);
  });
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (count.load() < kKeys && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  queue.shutDownWithDrain();
  pool.join();

  EXPECT_TRUE(status.ok());
  ASSERT_EQ(processed.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, times] : processed) EXPECT_EQ(times, 1) << key;
  EXPECT_EQ(hooks.reported().size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(queue.inFlight(), 0u);
}

}  // namespace
}  // namespace saguard::queue
