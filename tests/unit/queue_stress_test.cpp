// Many producers, many workers, few enough keys that they collide constantly. Run it
// under ThreadSanitizer too (-DSAGUARD_TSAN=ON).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "queue/rate_limiter.h"
#include "queue/work_queue.h"
#include "queue/worker.h"

namespace saguard::queue {
namespace {

using std::chrono::microseconds;

constexpr int kKeys = 64;
constexpr int kProducers = 4;
constexpr int kAddsPerProducer = 4000;
constexpr int kWorkers = 6;

struct KeyState {
  // Bumped by a producer just before each add of the key.
  std::atomic<std::uint64_t> generation{0};
  // The newest generation a worker has seen at the start of processing the key.
  std::atomic<std::uint64_t> processedGeneration{0};
  std::atomic<int> active{0};  // workers inside fn for this key right now
  std::atomic<int> runs{0};
};

TEST(WorkQueueStress, EveryKeyIsProcessedAfterItsLastAddAndNeverConcurrently) {
  const Clock& clock = SteadyClock::instance();
  // Short backoffs keep retries flowing through the delayed path without slowing the test.
  auto backoff = ItemExponentialBackoff::create(
      {.baseDelay = microseconds(50), .maxDelay = microseconds(2000)});
  ASSERT_TRUE(backoff.ok());
  WorkQueue queue(clock, {.rateLimiter = std::move(backoff).value()});

  std::array<KeyState, kKeys> keys;
  std::atomic<int> overlaps{0};
  auto indexOf = [](const std::string& key) { return std::stoi(key.substr(4)); };

  WorkFn work = [&](const std::string& key) {
    KeyState& state = keys[static_cast<std::size_t>(indexOf(key))];
    if (state.active.fetch_add(1) != 0) ++overlaps;
    // Everything added before the get() that handed us the key is covered by this run.
    const std::uint64_t seen = state.generation.load();
    std::uint64_t previous = state.processedGeneration.load();
    while (previous < seen && !state.processedGeneration.compare_exchange_weak(previous, seen)) {
    }
    const int run = state.runs.fetch_add(1);
    std::this_thread::yield();  // widen the window for a second worker to sneak in
    state.active.fetch_sub(1);
    switch (run % 7) {
      case 3:
        return Outcome::error(makeError(ErrorKind::Conflict, "retry me"));
      case 5:
        return Outcome::requeueAfter(microseconds(100));
      case 6:
        return Outcome::terminalError(makeError(ErrorKind::Invalid, "give up"));
      default:
        return Outcome::done();
    }
  };

  Status workersStatus = Status::Ok();
  std::thread pool([&] { workersStatus = runWorkers(queue, kWorkers, work); });

  std::vector<std::thread> producers;
  producers.reserve(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 random(static_cast<std::uint32_t>(p + 1));
      std::uniform_int_distribution<int> pickKey(0, kKeys - 1);
      std::uniform_int_distribution<int> pickHow(0, 9);
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const int k = pickKey(random);
        const std::string key = "key-" + std::to_string(k);
        keys[static_cast<std::size_t>(k)].generation.fetch_add(1);
        switch (pickHow(random)) {
          case 0:
            queue.addAfter(key, microseconds(200));
            break;
          case 1:
            queue.addRateLimited(key);
            break;
          default:
            queue.add(key);
            break;
        }
        // Let workers run between adds, so keys are re-added while in flight, not
        // only collapsed while queued.
        std::this_thread::yield();
      }
    });
  }
  for (auto& producer : producers) producer.join();

  // Wait (bounded) until every key's last add has been covered by a run.
  auto allCovered = [&] {
    for (const KeyState& state : keys) {
      if (state.processedGeneration.load() < state.generation.load()) return false;
    }
    return true;
  };
  const auto deadline = clock.now() + std::chrono::seconds(60);
  while (!allCovered() && clock.now() < deadline) std::this_thread::yield();

  queue.shutDownWithDrain();
  pool.join();

  EXPECT_TRUE(workersStatus.ok());
  EXPECT_EQ(overlaps.load(), 0) << "a key was processed by two workers at once";
  for (int k = 0; k < kKeys; ++k) {
    const KeyState& state = keys[static_cast<std::size_t>(k)];
    EXPECT_EQ(state.processedGeneration.load(), state.generation.load()) << "key-" << k;
    EXPECT_GT(state.runs.load(), 0) << "key-" << k;
  }
  EXPECT_EQ(queue.inFlight(), 0u);
}

}  // namespace
}  // namespace saguard::queue
