// An EventRecorder for the tests of other modules (the reconciler's): it checks each
// call as the real recorder does (validateRegarding()) and keeps what was emitted, in
// order, with no queue, correlation or API behind it. Thread-safe.
#pragma once

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/recorder.h"
#include "events/vocabulary.h"

namespace saguard::events {

class FakeEventRecorder final : public EventRecorder {
 public:
  struct Emitted {
    ObjectRef regarding;
    Reason reason = Reason::AutomountDisabled;
    std::string note;
    std::optional<ObjectRef> related;
  };

  Status emit(const ObjectRef& regarding, Reason reason, std::string note,
              const std::optional<ObjectRef>& related = std::nullopt) override {
    if (Status valid = validateRegarding(reason, regarding); !valid.ok()) return valid;
    std::lock_guard lock(mu_);
    emitted_.push_back({regarding, reason, std::move(note), related});
    return Status::Ok();
  }

  std::vector<Emitted> emitted() const {
    std::lock_guard lock(mu_);
    return emitted_;
  }

  // How many emits had `reason`.
  std::size_t count(Reason reason) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(
        emitted_.begin(), emitted_.end(), [&](const Emitted& e) { return e.reason == reason; }));
  }

  void clear() {
    std::lock_guard lock(mu_);
    emitted_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Emitted> emitted_;
};

}  // namespace saguard::events
