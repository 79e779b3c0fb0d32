// Test doubles for code that lists and watches through a kube::Client: a client that
// answers list and watch calls from a script (and records what was asked), and a
// sleeper that does not sleep but moves a FakeClock. Header-only; for tests of cache/
// and of the modules built on it. Not part of the production library.
//
//   FakeClock clock;
//   ScriptedClient client(&clock);
//   client.pushList(R"({"kind":"PodList","metadata":{"resourceVersion":"10"},"items":[]})");
//   client.pushWatch({.chunks = {R"({"type":"ADDED","object":{...}})" "\n"}, .lasts = 60s});
//   client.pushWatch({.end = makeError(ErrorKind::Unavailable, "down")});
//   std::stop_source stop;
//   client.stopWhenExhausted(stop);       // ends reflector.run(stop.get_token()) when the script
//   is done RecordingSleeper sleeper(clock);      // sleeper.waits() = the backoff waits asked for
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "kube/client.h"
#include "kube/retry.h"

namespace saguard::cache::testing {

// One scripted watch call.
struct WatchScript {
  std::vector<std::string> chunks = {};  // handed to the chunk sink one by one, exactly as given
  Status end = Status::Ok();  // returned after the chunks (Ok: the server ended the stream)
  std::chrono::milliseconds lasts{0};  // the FakeClock moves by this much before watch() returns
  bool holdUntilStop = false;          // after the chunks, stay open until the stop token fires
};

class ScriptedClient final : public kube::Client {
 public:
  explicit ScriptedClient(FakeClock* clock = nullptr) : clock_(clock) {}

  // The next answer to list(): a List document, or an error.
  void pushList(Result<std::string> answer) {
    std::lock_guard lock(mu_);
    lists_.push_back(std::move(answer));
  }
  void pushWatch(WatchScript script) {
    std::lock_guard lock(mu_);
    watches_.push_back(std::move(script));
    cv_.notify_all();
  }

  // When a list or watch call finds its script empty: request stop on `source` and
  // answer Unavailable (list) or Ok (watch). Without it, a watch with no script stays
  // open until its stop token fires (or a script is pushed), like an idle watch.
  void stopWhenExhausted(std::stop_source source) {
    std::lock_guard lock(mu_);
    exhausted_ = std::move(source);
  }

  std::vector<kube::ListOptions> listCalls() const {
    std::lock_guard lock(mu_);
    return listCalls_;
  }
  std::vector<kube::WatchOptions> watchCalls() const {
    std::lock_guard lock(mu_);
    return watchCalls_;
  }

  Result<std::string> list(const kube::Resource&, std::string_view,
                           const kube::ListOptions& options = {},
                           const kube::CallOptions& = {}) override {
    std::lock_guard lock(mu_);
    listCalls_.push_back(options);
    if (lists_.empty()) {
      if (exhausted_) exhausted_->request_stop();
      return makeError(ErrorKind::Unavailable, "ScriptedClient: no list answer scripted");
    }
    Result<std::string> answer = std::move(lists_.front());
    lists_.pop_front();
    return answer;
  }

  Status watch(const kube::Resource&, std::string_view, const kube::WatchOptions& options,
               const kube::ChunkSink& onChunk, std::stop_token stop = {}) override {
    WatchScript script;
    {
      std::unique_lock lock(mu_);
      watchCalls_.push_back(options);
      if (watches_.empty() && exhausted_) {
        exhausted_->request_stop();
        return {};
      }
      cv_.wait(lock, stop, [&] { return !watches_.empty(); });
      if (watches_.empty()) return {};  // stopped while idle
      script = std::move(watches_.front());
      watches_.pop_front();
    }
    for (const auto& chunk : script.chunks) {
      if (stop.stop_requested()) return {};
      if (Status st = onChunk(chunk); !st) return st;
    }
    if (script.holdUntilStop) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [] { return false; });
      return {};
    }
    if (clock_ != nullptr) clock_->advance(script.lasts);
    return script.end;
  }

  Result<std::string> get(const kube::Resource&, std::string_view, std::string_view,
                          const kube::GetOptions& = {}) override {
    return notScripted("get");
  }
  Result<std::string> create(const kube::Resource&, std::string_view, std::string_view,
                             const kube::WriteOptions& = {}) override {
    return notScripted("create");
  }
  Result<std::string> createSubresource(const kube::Resource&, std::string_view, std::string_view,
                                        std::string_view, std::string_view,
                                        const kube::WriteOptions& = {}) override {
    return notScripted("createSubresource");
  }
  Result<std::string> update(const kube::Resource&, std::string_view, std::string_view,
                             std::string_view, const kube::WriteOptions& = {}) override {
    return notScripted("update");
  }
  Result<std::string> updateStatus(const kube::Resource&, std::string_view, std::string_view,
                                   std::string_view, const kube::WriteOptions& = {}) override {
    return notScripted("updateStatus");
  }
  Result<std::string> patch(const kube::Resource&, std::string_view, std::string_view,
                            kube::PatchType, std::string_view,
                            const kube::WriteOptions& = {}) override {
    return notScripted("patch");
  }
  Result<std::string> remove(const kube::Resource&, std::string_view, std::string_view,
                             const kube::DeleteOptions& = {}) override {
    return notScripted("remove");
  }
  Result<std::string> discover(std::string_view, std::string_view) override {
    return notScripted("discover");
  }

 private:
  static Error notScripted(const char* call) {
    return makeError(ErrorKind::Internal,
                     std::string("ScriptedClient: ") + call + " is not scripted");
  }

  FakeClock* clock_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Result<std::string>> lists_;
  std::deque<WatchScript> watches_;
  std::optional<std::stop_source> exhausted_;
  std::vector<kube::ListOptions> listCalls_;
  std::vector<kube::WatchOptions> watchCalls_;
};

// A Sleeper that records each wait and moves the FakeClock by it instead of sleeping.
class RecordingSleeper final : public kube::Sleeper {
 public:
  explicit RecordingSleeper(FakeClock& clock) : clock_(clock) {}
  bool sleepFor(std::chrono::milliseconds duration, std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      waits_.push_back(duration);
    }
    clock_.advance(duration);
    return !stop.stop_requested();
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<std::chrono::milliseconds> waits_;
};

}  // namespace saguard::cache::testing
