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

Status Manager::runElection(std::stop_token stop) {
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
  auto elector = leader::LeaseElector::create(options_.election, callbacks, *options_.leases);
  if (!elector.ok()) return elector.error();
  if (options_.gate != nullptr) options_.gate->follow(**elector);
  Status ran = (*elector)->run(stop);
  if (options_.gate != nullptr) options_.gate->close();  // before the elector goes
  return ran;
}

Status Manager::run(std::stop_token stop) {
  if (options_.leaderElect && options_.leases == nullptr) {
    return makeError(ErrorKind::Invalid, "leader election: no Lease API");
  }
  std::stop_source all;
  std::stop_callback forward(stop, [&all] { all.request_stop(); });
  Status result;
  {
    std::vector<std::jthread> always;  // declared after `all`: joined before it goes
    for (const Runnable& r : runnables_) {
      if (!r.needsLeader) always.emplace_back([&r, token = all.get_token()] { r.run(token); });
    }
    if (!options_.leaderElect) {
      lead(all.get_token());
    } else {
      result = runElection(all.get_token());
    }
    all.request_stop();
  }
  return result;
}

}  // namespace saguard::manager
