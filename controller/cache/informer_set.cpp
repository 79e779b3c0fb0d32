#include "cache/informer_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace saguard::cache {

namespace detail {
void logHandlerFailure(const std::string& informer, const char* what) {
  spdlog::error("informer {}: an event handler threw: {}", informer, what);
}
}  // namespace detail

InformerSet::~InformerSet() {
  stop();
}

void InformerSet::addBase(std::unique_ptr<InformerBase> informer) {
  std::lock_guard lock(mu_);
  if (started_) informer->start();
  informers_.push_back(std::move(informer));
}

void InformerSet::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  for (auto& informer : informers_) informer->start();
}

void InformerSet::stop() {
  std::lock_guard lock(mu_);
  started_ = false;
  for (auto it = informers_.rbegin(); it != informers_.rend(); ++it) (*it)->stop();
}

bool InformerSet::hasSynced() const {
  std::lock_guard lock(mu_);
  return std::all_of(informers_.begin(), informers_.end(),
                     [](const auto& i) { return i->hasSynced(); });
}

bool InformerSet::waitForCacheSync(std::chrono::milliseconds timeout, std::stop_token stop) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<InformerBase*> informers;
  {
    std::lock_guard lock(mu_);
    for (const auto& informer : informers_) informers.push_back(informer.get());
  }
  bool all = true;
  for (InformerBase* informer : informers) {
    if (!informer->waitForSync(deadline, stop)) {
      all = false;
      break;
    }
  }
  if (all) return true;
  std::string missing;
  for (InformerBase* informer : informers) {
    if (informer->hasSynced()) continue;
    if (!missing.empty()) missing += ", ";
    missing += informer->name();
  }
  spdlog::warn("informer caches not synced{}: {}",
               stop.stop_requested() ? " (stopping)" : " in time", missing);
  return false;
}

std::vector<std::string> InformerSet::unsynced() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& informer : informers_) {
    if (!informer->hasSynced()) names.push_back(informer->name());
  }
  return names;
}

std::vector<std::pair<std::string, std::size_t>> InformerSet::objectCounts() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::size_t>> counts;
  counts.reserve(informers_.size());
  for (const auto& informer : informers_)
    counts.emplace_back(informer->name(), informer->objectCount());
  return counts;
}

std::size_t InformerSet::size() const {
  std::lock_guard lock(mu_);
  return informers_.size();
}

}  // namespace saguard::cache
