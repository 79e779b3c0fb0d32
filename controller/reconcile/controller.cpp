#include "reconcile/controller.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "objects/ref.h"
#include "policy/bindings.h"
#include "reconcile/keys.h"

namespace saguard::reconcile {

Result<std::unique_ptr<Controller>> Controller::create(kube::Client& client, ClusterWriter& writer,
                                                       Notifier& notifier,
                                                       ControllerOptions options) {
  if (options.workers < 1) return makeError(ErrorKind::Invalid, "workers: must be at least 1");
  if (options.policyDelay.count() < 0)
    return makeError(ErrorKind::Invalid, "policyDelay: must not be negative");
  if (options.policyInterval.count() < 0) {
    return makeError(ErrorKind::Invalid, "policyInterval: must not be negative");
  }
  if (options.reportInterval.count() < 0) {
    return makeError(ErrorKind::Invalid, "reportInterval: must not be negative");
  }
  if (options.clock == nullptr) options.clock = &SteadyClock::instance();

  std::unique_ptr<Controller> c(new Controller());
  c->options_ = options;
  cache::ReflectorOptions reflector;
  reflector.clock = options.clock;
  // Initial sync and relists by streaming list where the API server serves it (1.34 does
  // by default): no LIST answers built whole in the API server's memory (reflector.h).
  reflector.streamingList = options.streamingList;
  reflector.protobuf = options.protobuf;

  auto namespaces = cache::makeNamespaceInformer(client, reflector);
  if (!namespaces.ok()) return namespaces.error();
  auto accounts = cache::makeServiceAccountInformer(client, reflector);
  if (!accounts.ok()) return accounts.error();
  auto pods = cache::makePodInformer(client, reflector);
  if (!pods.ok()) return pods.error();
  auto roleBindings = cache::makeRoleBindingInformer(client, reflector);
  if (!roleBindings.ok()) return roleBindings.error();
  auto clusterRoleBindings = cache::makeClusterRoleBindingInformer(client, reflector);
  if (!clusterRoleBindings.ok()) return clusterRoleBindings.error();
  auto policies = cache::makePolicyInformer(client, reflector);
  if (!policies.ok()) return policies.error();

  c->views_.namespaces = &c->informers_.add(std::move(*namespaces));
  c->views_.serviceAccounts = &c->informers_.add(std::move(*accounts));
  c->views_.pods = &c->informers_.add(std::move(*pods));
  c->views_.roleBindings = &c->informers_.add(std::move(*roleBindings));
  c->views_.clusterRoleBindings = &c->informers_.add(std::move(*clusterRoleBindings));
  c->views_.policies = &c->informers_.add(std::move(*policies));
  c->reader_ = std::make_unique<CacheReader>(c->views_, options.evidence);

  queue::WorkQueueOptions queueOptions;
  queueOptions.rateLimiter = queue::defaultControllerRateLimiter(*options.clock);
  queueOptions.metrics = options.queueMetrics;
  c->queue_ = std::make_unique<queue::WorkQueue>(*options.clock, std::move(queueOptions));
  c->statusSchedule_ =
      std::make_unique<StatusSchedule>(options.policyDelay, options.policyInterval);
  c->reportSchedule_ =
      std::make_unique<StatusSchedule>(options.policyDelay, options.reportInterval);
  ReconcilerOptions reconcilerOptions = options.reconciler;
  reconcilerOptions.resultsChanged = [raw = c.get()] { raw->scheduleReports(); };
  reconcilerOptions.reportsChanged = [raw = c.get()] { raw->enqueueAllPolicies(); };
  c->reconciler_ = std::make_unique<Reconciler>(
      *c->reader_, writer, notifier, std::move(reconcilerOptions), options.reconcileHooks);
  c->wireHandlers();
  if (options.evidence != nullptr) {
    options.evidence->onNewUseDay = [queue = c->queue_.get()](const std::string& key) {
      const objects::ObjectName account = objects::splitObjectKey(key);
      queue->add(accountWorkKey(account.namespace_, account.name));
    };
    // An earlier start merged in: `unusedFor` decisions may come sooner than scheduled.
    options.evidence->onObservingSinceEarlier = [raw = c.get()] {
      raw->enqueueAllAccounts();
      raw->enqueueAllPolicies();
    };
  }
  return c;
}

Controller::~Controller() {
  stop();
}

void Controller::schedulePolicy(std::string_view name) {
  std::string key = policyWorkKey(name);
  if (auto after = statusSchedule_->changed(key, options_.clock->now())) {
    queue_->addAfter(key, *after);
  }
}

void Controller::scheduleReports() {
  const std::string key(kReportsWorkKey);
  if (auto after = reportSchedule_->changed(key, options_.clock->now())) {
    queue_->addAfter(key, *after);
  }
}

void Controller::enqueueAllPolicies() {
  for (const auto& p : views_.policies->store().list()) schedulePolicy(p->name);
}

void Controller::enqueueAllAccounts() {
  for (const auto& sa : views_.serviceAccounts->store().list()) {
    queue_->add(accountWorkKey(sa->meta.namespace_.view(), sa->meta.name()));
  }
}

void Controller::enqueueAccountsIn(std::string_view ns) {
  for (const auto& sa : reader_->serviceAccountsIn(ns)) {
    queue_->add(accountWorkKey(sa->meta.namespace_.view(), sa->meta.name()));
  }
}

void Controller::enqueueBindingAccounts(const objects::Binding& binding) {
  for (const auto& subject : binding.subjects) {
    const policy::SubjectScope scope = policy::subjectScope(binding, subject);
    switch (scope.kind) {
      case policy::SubjectScope::Kind::Account:
        queue_->add(accountWorkKey(scope.namespace_, scope.name));
        break;
      case policy::SubjectScope::Kind::AccountsIn:
        enqueueAccountsIn(scope.namespace_);
        break;
      case policy::SubjectScope::Kind::AllAccounts:
        enqueueAllAccounts();
        break;
      case policy::SubjectScope::Kind::Nothing:
        break;
    }
  }
}

void Controller::wireHandlers() {
  views_.namespaces->addHandlers({
      .onAdd =
          [this](const objects::Namespace& ns) {
            enqueueAccountsIn(ns.meta.name());
            enqueueAllPolicies();
          },
      .onUpdate =
          [this](const objects::Namespace& old, const objects::Namespace& now) {
            if (old.labels == now.labels) return;  // only labels change a selection
            enqueueAccountsIn(now.meta.name());
            enqueueAllPolicies();
          },
      .onDelete = [this](const objects::Namespace&) { enqueueAllPolicies(); },
  });
  auto onAccount = [this](const objects::ServiceAccount& sa) {
    queue_->add(accountWorkKey(sa.meta.namespace_.view(), sa.meta.name()));
    enqueueAllPolicies();
  };
  views_.serviceAccounts->addHandlers({
      .onAdd = onAccount,
      .onUpdate = [onAccount](const objects::ServiceAccount&,
                              const objects::ServiceAccount& now) { onAccount(now); },
      .onDelete = [this](const objects::ServiceAccount&) { enqueueAllPolicies(); },
  });
  views_.pods->addHandlers({
      .onAdd = [this](const objects::Pod&) { enqueueAllPolicies(); },
      .onUpdate =
          [this](const objects::Pod& old, const objects::Pod& now) {
            // Pod status churns constantly; only what a finding reads matters.
            if (old.token == now.token && old.automount == now.automount &&
                old.serviceAccountName == now.serviceAccountName) {
              return;
            }
            enqueueAllPolicies();
          },
      .onDelete = [this](const objects::Pod&) { enqueueAllPolicies(); },
  });
  auto onBinding = [this](const objects::Binding& b) {
    enqueueBindingAccounts(b);
    enqueueAllPolicies();
  };
  for (auto* informer : {views_.roleBindings, views_.clusterRoleBindings}) {
    informer->addHandlers({
        .onAdd = onBinding,
        .onUpdate =
            [this, onBinding](const objects::Binding& old, const objects::Binding& now) {
              enqueueBindingAccounts(old);
              onBinding(now);
            },
        .onDelete = onBinding,
    });
  }
  views_.policies->addHandlers({
      .onAdd =
          [this](const PolicyRecord& p) {
            queue_->add(policyWorkKey(p.name));
            enqueueAllAccounts();
          },
      .onUpdate =
          [this](const PolicyRecord& old, const PolicyRecord& now) {
            if (old.generation != now.generation) {  // the spec changed: the selection may have
              queue_->add(policyWorkKey(now.name));
              enqueueAllAccounts();
              return;
            }
            // Status or metadata only, most often the echo of saguard's own status write:
            // recomputed with the next batch of changes, not at once for each write.
            schedulePolicy(now.name);
          },
      .onDelete =
          [this](const PolicyRecord& p) {
            statusSchedule_->forget(policyWorkKey(p.name));
            queue_->add(policyWorkKey(p.name));
            enqueueAllAccounts();  // accounts it alone selected are left as they are; nothing
                                   // reverts
          },
  });
}

void Controller::startInformers() {
  informers_.start();
}

bool Controller::waitForSync(std::chrono::milliseconds timeout, std::stop_token stop) const {
  return informers_.waitForCacheSync(timeout, stop);
}

bool Controller::hasSynced() const {
  return informers_.hasSynced();
}

void Controller::runWorkers() {
  if (stopped_) return;
  // waitForCacheSync() logs which caches are missing each time it gives up (say while the
  // ServiceAccountPolicy CRD is not installed yet); it is asked again until stop().
  while (!informers_.waitForCacheSync(std::chrono::seconds(30), stopSource_.get_token())) {
    if (stopped_ || stopSource_.stop_requested()) return;
  }
  // Which report API is served, and the Reports condition, are found out at once.
  if (options_.reconciler.reports != nullptr) queue_->add(std::string(kReportsWorkKey));
  queue::WorkFn work = [this](const std::string& key) {
    const Clock::time_point now = options_.clock->now();
    statusSchedule_->ran(key, now);  // each ignores the keys it does not schedule
    reportSchedule_->ran(key, now);
    return reconciler_->reconcile(key);
  };
  if (options_.wrapWork) work = options_.wrapWork(std::move(work));
  queue::WorkerHooks& hooks =
      options_.workerHooks != nullptr ? *options_.workerHooks : queue::NoopWorkerHooks::instance();
  Status st = queue::runWorkers(*queue_, options_.workers, work, hooks);
  if (!st.ok()) spdlog::error("workers stopped: {}", st.error().describe());
}

void Controller::runInformers(std::stop_token stop) {
  startInformers();
  std::mutex mu;
  std::condition_variable_any wake;
  std::unique_lock lock(mu);
  wake.wait(lock, stop, [] { return false; });
  informers_.stop();
}

void Controller::runWorkers(std::stop_token stop) {
  std::stop_callback onStop(stop, [this] { this->stop(); });
  runWorkers();
}

void Controller::stop() {
  if (stopped_.exchange(true)) return;
  stopSource_.request_stop();
  informers_.stop();
  queue_->shutDownWithDrain();
}

}  // namespace saguard::reconcile
