// An informer: a reflector (reflector.h) that keeps a Store (store.h) equal to one kind
// of object on the API server, plus event handlers told about every change.
//
//   auto pods = Informer<objects::Pod>::create(client, codecDecoding<codec::Kind::Pod>(),
//                                              {.reflector = {.resource =
//                                              kube::resources::kPods}});
//   (*pods)->addHandlers({.onAdd = [&](const objects::Pod& p) { queue.add(keyOf(p)); }});
//   (*pods)->start();
//   ... (*pods)->hasSynced() ...  (*pods)->store().get("ns", "web-0") ...
//   (*pods)->stop();
//
// Threads: each informer runs two. The reflector thread lists and watches and writes
// the store; the delivery thread calls the handlers. They are joined by an unbounded
// queue of notifications (as client-go's processorListener), so a slow handler never
// holds up the watch: it only lets the queue grow. Handlers are called one at a time,
// in the order the changes were applied to the store, never concurrently.
//
// What handlers see:
//   onAdd(new)            an object appeared: initial list, watch ADDED, or found by a relist
//   onUpdate(old, new)    it changed: watch MODIFIED, or a relist found another resourceVersion
//   onDelete(old)         it went: watch DELETED (its last state, as the event carries it),
//                         or missing from a relist (the last state the store held)
// A relist after Gone (410) produces exactly these for what changed during the gap and
// nothing for what did not. By the time a handler runs the store may already be newer
// than the records it is given (level-based consumers read the store; they do not rely
// on the event). A handler that throws is logged; the others still run.
//
// hasSynced() turns true once the first complete listing is in the store AND every
// notification it produced has been delivered to the handlers registered by then (a
// marker queued behind them). storeSynced() is the weaker "it is in the store".
//
// stop() is prompt: the watch is closed at once and the delivery thread stops after the
// handler call in progress, if any (stop() waits for that call to return). Notifications
// not yet delivered stay queued and are delivered after the next start(); the store
// and the last resourceVersion are kept, so start() after stop() resumes the watch where
// it left off (relisting only if the server says that version is gone).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cache/decoding.h"
#include "cache/reflector.h"
#include "cache/store.h"
#include "kube/client.h"

namespace saguard::cache {

// What an InformerSet needs of any informer, whatever its record type.
class InformerBase {
 public:
  virtual ~InformerBase() = default;
  virtual const std::string& name() const = 0;
  // Starts the reflector and delivery threads; no-op when running.
  virtual void start() = 0;
  // Stops both threads and joins them; no-op when stopped.
  virtual void stop() = 0;
  virtual bool hasSynced() const = 0;
  // Waits until hasSynced(), `deadline` passes or `stop` is requested; returns hasSynced().
  virtual bool waitForSync(std::chrono::steady_clock::time_point deadline,
                           std::stop_token stop) const = 0;
  virtual ReflectorStats stats() const = 0;
  // Objects in the store now (saguard_cache_objects{kind}).
  virtual std::size_t objectCount() const = 0;
};

template <typename R>
struct Handlers {
  std::function<void(const R& added)> onAdd = nullptr;  // each may be left empty
  std::function<void(const R& old, const R& now)> onUpdate = nullptr;
  std::function<void(const R& old)> onDelete = nullptr;
};

template <typename R>
struct InformerOptions {
  ReflectorOptions reflector;
  std::vector<typename Store<R>::Indexer> indexers;
};

namespace detail {
// Non-template halves of the informer, in informer_set.cpp.
void logHandlerFailure(const std::string& informer, const char* what);
}  // namespace detail

template <typename R>
class Informer final : public InformerBase, private ReflectorTarget<R> {
 public:
  using Ptr = typename Store<R>::Ptr;
  using HandlerId = std::uint64_t;

  // Invalid when the options are (the message names the field). `client` must outlive
  // the informer.
  static Result<std::unique_ptr<Informer>> create(kube::Client& client, Decoding<R> decoding,
                                                  InformerOptions<R> options) {
    if (Status st = validate(options.reflector); !st) return st.error();
    if (Status st = Store<R>::validate(options.indexers); !st) return st.error();
    if (!decoding.list || !decoding.event) {
      return makeError(ErrorKind::Invalid, "decoding: the list and event functions must be set");
    }
    return std::unique_ptr<Informer>(new Informer(client, std::move(decoding), std::move(options)));
  }

  ~Informer() override { stop(); }
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  const Store<R>& store() const { return store_; }
  const std::string& name() const override { return reflector_.name(); }

  // Registers handlers, at any time. Registered after objects are already in the store,
  // they first get an onAdd for each of those, then every later change (no change is
  // seen twice or missed).
  HandlerId addHandlers(Handlers<R> handlers) {
    std::lock_guard dispatch(
        dispatchMu_);  // no store write slips between snapshot and registration
    std::vector<Ptr> existing = store_.list();
    std::lock_guard lock(queueMu_);
    auto registration = std::make_shared<Registration>();
    registration->id = nextHandlerId_++;
    registration->handlers = std::move(handlers);
    registration->fromSeq = nextSeq_;
    for (auto& record : existing) {
      pushLocked(Notification{Kind::Add, nullptr, std::move(record), 0, registration->id});
    }
    registrations_.push_back(std::move(registration));
    queueCv_.notify_all();
    return registrations_.back()->id;
  }

  // Unregisters; notifications not yet delivered to it are dropped. False when unknown.
  bool removeHandlers(HandlerId id) {
    std::lock_guard lock(queueMu_);
    auto it = std::find_if(registrations_.begin(), registrations_.end(),
                           [&](const auto& r) { return r->id == id; });
    if (it == registrations_.end()) return false;
    (*it)->removed = true;
    registrations_.erase(it);
    return true;
  }

  void start() override {
    std::lock_guard lifecycle(lifecycleMu_);
    if (running_) return;
    running_ = true;
    delivery_ = std::jthread([this](std::stop_token stop) { deliverLoop(stop); });
    reflecting_ = std::jthread([this](std::stop_token stop) { reflector_.run(stop); });
  }

  void stop() override {
    std::lock_guard lifecycle(lifecycleMu_);
    if (!running_) return;
    reflecting_.request_stop();
    delivery_.request_stop();
    if (reflecting_.joinable()) reflecting_.join();
    if (delivery_.joinable()) delivery_.join();
    running_ = false;
  }

  bool hasSynced() const override { return synced_.load(); }
  bool storeSynced() const { return storeSynced_.load(); }

  bool waitForSync(std::chrono::steady_clock::time_point deadline,
                   std::stop_token stop) const override {
    std::unique_lock lock(syncMu_);
    syncCv_.wait_until(lock, stop, deadline, [&] { return synced_.load(); });
    return synced_.load();
  }

  ReflectorStats stats() const override { return reflector_.stats(); }
  std::size_t objectCount() const override { return store().size(); }
  std::string lastResourceVersion() const { return reflector_.lastResourceVersion(); }

  // Notifications queued and not yet delivered (for tests and a queue-depth metric).
  std::size_t pendingNotifications() const {
    std::lock_guard lock(queueMu_);
    return queue_.size();
  }

 private:
  enum class Kind : std::uint8_t { Add, Update, Delete, Synced };
  struct Notification {
    Kind kind = Kind::Add;
    Ptr old;
    Ptr now;
    std::uint64_t seq = 0;
    HandlerId target = 0;  // 0: every registration that existed when it was queued
  };
  struct Registration {
    HandlerId id = 0;
    Handlers<R> handlers;
    std::uint64_t fromSeq = 0;  // broadcasts queued before the registration are not for it
    std::atomic<bool> removed{false};
  };

  Informer(kube::Client& client, Decoding<R> decoding, InformerOptions<R> options)
      : store_(std::move(options.indexers)),
        reflector_(client, std::move(decoding), *this, std::move(options.reflector)) {}

  // ---- ReflectorTarget: called on the reflector thread ----

  void replace(std::vector<Ptr> records) override {
    std::lock_guard dispatch(dispatchMu_);
    auto changes = store_.replace(std::move(records));
    std::lock_guard lock(queueMu_);
    for (auto& change : changes) {
      switch (change.type) {
        case Store<R>::ChangeType::Added:
          pushLocked(Notification{Kind::Add, nullptr, std::move(change.now)});
          break;
        case Store<R>::ChangeType::Updated:
          pushLocked(Notification{Kind::Update, std::move(change.old), std::move(change.now)});
          break;
        case Store<R>::ChangeType::Deleted:
          pushLocked(Notification{Kind::Delete, std::move(change.old), nullptr});
          break;
      }
    }
    if (!storeSynced_.load()) {
      pushLocked(Notification{Kind::Synced, nullptr, nullptr});
      storeSynced_ = true;
    }
    queueCv_.notify_all();
  }

  void apply(codec::EventType type, R record) override {
    auto now = std::make_shared<const R>(std::move(record));
    std::lock_guard dispatch(dispatchMu_);
    Notification n;
    if (type == codec::EventType::Deleted) {
      const ObjectName ref = refOf(*now);
      // Nothing to tell when the store never had it: handlers never saw it either.
      if (!store_.remove(ref.namespace_, ref.name)) return;
      n = Notification{Kind::Delete, std::move(now), nullptr};
    } else {
      Ptr old = store_.upsert(now);
      n = old ? Notification{Kind::Update, std::move(old), std::move(now)}
              : Notification{Kind::Add, nullptr, std::move(now)};
    }
    std::lock_guard lock(queueMu_);
    pushLocked(std::move(n));
    queueCv_.notify_all();
  }

  void pushLocked(Notification n) {
    n.seq = nextSeq_++;
    queue_.push_back(std::move(n));
  }

  // ---- delivery thread ----

  void deliverLoop(std::stop_token stop) {
    std::vector<std::shared_ptr<Registration>> registrations;
    while (true) {
      Notification n;
      {
        std::unique_lock lock(queueMu_);
        queueCv_.wait(lock, stop, [&] { return !queue_.empty(); });
        if (stop.stop_requested()) return;  // what is left is delivered after the next start()
        n = std::move(queue_.front());
        queue_.pop_front();
        registrations = registrations_;
      }
      if (n.kind == Kind::Synced) {
        {
          std::lock_guard lock(syncMu_);
          synced_ = true;
        }
        syncCv_.notify_all();
        continue;
      }
      for (const auto& registration : registrations) {
        if (registration->removed.load()) continue;
        const bool forIt =
            n.target == 0 ? n.seq >= registration->fromSeq : n.target == registration->id;
        if (forIt) deliver(registration->handlers, n);
      }
    }
  }

  void deliver(const Handlers<R>& handlers, const Notification& n) {
    try {
      switch (n.kind) {
        case Kind::Add:
          if (handlers.onAdd) handlers.onAdd(*n.now);
          break;
        case Kind::Update:
          if (handlers.onUpdate) handlers.onUpdate(*n.old, *n.now);
          break;
        case Kind::Delete:
          if (handlers.onDelete) handlers.onDelete(*n.old);
          break;
        case Kind::Synced:
          break;
      }
    } catch (const std::exception& e) {
      detail::logHandlerFailure(name(), e.what());
    } catch (...) {
      detail::logHandlerFailure(name(), "an exception that is not a std::exception");
    }
  }

  Store<R> store_;
  Reflector<R> reflector_;

  std::mutex dispatchMu_;  // orders store writes with their notifications and with registrations

  mutable std::mutex queueMu_;
  std::condition_variable_any queueCv_;
  std::deque<Notification> queue_;
  std::uint64_t nextSeq_ = 1;
  std::vector<std::shared_ptr<Registration>> registrations_;
  HandlerId nextHandlerId_ = 1;

  std::atomic<bool> storeSynced_{false};
  std::atomic<bool> synced_{false};
  mutable std::mutex syncMu_;
  mutable std::condition_variable_any syncCv_;

  std::mutex lifecycleMu_;
  bool running_ = false;
  // Declared last: destroyed (and so joined) first, while everything they use still exists.
  std::jthread delivery_;
  std::jthread reflecting_;
};

}  // namespace saguard::cache
