#include "manager/manager.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace saguard::manager {
void Manager::lead(std::stop_token leading) const {
  std::vector<std::jthread> threads;
  for (const Runnable& r : runnables_) {
    if (r.needsLeader) threads.emplace_back([&r, leading] { r.run(leading); });
  }
  // The jthreads join here: the elector requires onStartedLeading to return only once
  // the leader's work has ended.
}

Result<std::unique_ptr<leader::LeaseElector>> Manager::makeElector() {
  if (options_.leases == nullptr)
    return makeError(ErrorKind::Invalid, "leader election: no Lease API");
  leader::LeaderCallbacks callbacks;
  callbacks.onStartedLeading = [this](std::stop_token leading) {
    spdlog::info("became the leader: starting workers");
    lead(leading);
  };
  callbacks.onStoppedLeading = [] { spdlog::info("stopped leading"); };
  callbacks.onNewLeader = [](const std::string& identity) {
    spdlog::info("the leader is {}", identity);
  };
  if (options_.hooks != nullptr) {
    callbacks.onLeadingChanged = [hooks = options_.hooks](std::string_view name, bool leading) {
      hooks->onLeadingChanged(name, leading);
    };
  }
  return leader::LeaseElector::create(options_.election, callbacks, *options_.leases);
}

Status Manager::run(std::stop_token stop) {
  // The elector exists, and the write gate follows it, before anything runs: in no
  // moment of a replica's life is the gate open without leadership.
  std::unique_ptr<leader::LeaseElector> elector;
  if (options_.leaderElect) {
    auto made = makeElector();
    if (!made.ok()) return made.error();
    elector = std::move(*made);
    if (options_.gate != nullptr) options_.gate->follow(*elector);
  }
  std::stop_source all;
  std::stop_callback forward(stop, [&all] { all.request_stop(); });
  Status result;
  {
    std::vector<std::jthread> always;  // declared after `all`: joined before it goes
    for (const Runnable& r : runnables_) {
      if (!r.needsLeader) always.emplace_back([&r, token = all.get_token()] { r.run(token); });
    }
    if (elector == nullptr) {
      lead(all.get_token());
    } else {
      result = elector->run(all.get_token());
      if (options_.gate != nullptr) options_.gate->close();  // for good, before the elector goes
    }
    all.request_stop();
  }
  return result;
}

}  // namespace saguard::manager
