// Several informers started, waited for and stopped together: what a controller does at
// start-up (client-go's SharedInformerFactory + WaitForCacheSync).
//
//   InformerSet informers;
//   auto& pods = informers.add(makePodInformer(client).value());          //
//   Result<unique_ptr<...>> auto& accounts =
//   informers.add(makeServiceAccountInformer(client).value()); informers.start(); if
//   (!informers.waitForCacheSync(std::chrono::minutes(2), stop)) { ... unsynced() names them ... }
//   ... workers read pods.store() ...
//   informers.stop();   // also done by the destructor
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "cache/informer.h"

namespace saguard::cache {

// How many objects each cache holds, by informer name: what the cache-size gauges read
// (metrics/cache_adapter.h). The interface lives here, where the caches are.
class ObjectCountSource {
 public:
  virtual ~ObjectCountSource() = default;
  virtual std::vector<std::pair<std::string, std::size_t>> objectCounts() const = 0;
};

class InformerSet final : public ObjectCountSource {
 public:
  InformerSet() = default;
  ~InformerSet() override;
  InformerSet(const InformerSet&) = delete;
  InformerSet& operator=(const InformerSet&) = delete;

  // Takes ownership; the reference stays valid for the set's lifetime. An informer
  // added after start() is started at once.
  template <typename R>
  Informer<R>& add(std::unique_ptr<Informer<R>> informer) {
    Informer<R>& ref = *informer;
    addBase(std::move(informer));
    return ref;
  }

  void start();
  void stop();  // stops every informer (each promptly), in reverse order of addition

  bool hasSynced() const;
  // Waits until every informer hasSynced(); false when `timeout` passed or `stop` was
  // requested first (unsynced() then says which are missing; the failure is logged).
  bool waitForCacheSync(std::chrono::milliseconds timeout, std::stop_token stop = {}) const;
  std::vector<std::string> unsynced() const;

  std::size_t size() const;
  // Each informer's name and the objects its store holds, in order of addition.
  std::vector<std::pair<std::string, std::size_t>> objectCounts() const override;

 private:
  void addBase(std::unique_ptr<InformerBase> informer);

  mutable std::mutex mu_;
  bool started_ = false;
  std::vector<std::unique_ptr<InformerBase>> informers_;
};

}  // namespace saguard::cache
