#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <utility>

#include "metrics/detail/families.h"

namespace saguard::metrics {

const char* toString(ReconcileResult result) {
  switch (result) {
    case ReconcileResult::Success:
      return "success";
    case ReconcileResult::Requeue:
      return "requeue";
    case ReconcileResult::RequeueAfter:
      return "requeue_after";
    case ReconcileResult::Error:
    case ReconcileResult::TerminalError:
      return "error";
  }
  return "error";
}

const char* toString(PatchResult result) {
  switch (result) {
    case PatchResult::Success:
      return "success";
    case PatchResult::Conflict:
      return "conflict";
    case PatchResult::Error:
      return "error";
  }
  return "error";
}

ScrapeHook::ScrapeHook(ScrapeHook&& other) noexcept
    : metrics_(std::exchange(other.metrics_, nullptr)), id_(std::exchange(other.id_, 0)) {}

ScrapeHook& ScrapeHook::operator=(ScrapeHook&& other) noexcept {
  if (this != &other) {
    reset();
    metrics_ = std::exchange(other.metrics_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

ScrapeHook::~ScrapeHook() {
  reset();
}

void ScrapeHook::reset() {
  if (metrics_ != nullptr) metrics_->removeHook(id_);
  metrics_ = nullptr;
  id_ = 0;
}

Metrics::Metrics() : families_(std::make_unique<detail::Families>()) {}

Metrics::~Metrics() = default;

void Metrics::registerController(std::string_view controller, int maxConcurrentReconciles) {
  families_->controller(controller).maxConcurrent->Set(maxConcurrentReconciles);
}

void Metrics::observeReconcile(std::string_view controller, ReconcileResult result,
                               Clock::duration took) {
  detail::ControllerSeries& s = families_->controller(controller);
  switch (result) {
    case ReconcileResult::Success:
      s.total[detail::kSuccess]->Increment();
      break;
    case ReconcileResult::Requeue:
      s.total[detail::kRequeue]->Increment();
      break;
    case ReconcileResult::RequeueAfter:
      s.total[detail::kRequeueAfter]->Increment();
      break;
    case ReconcileResult::TerminalError:
      s.terminalErrors->Increment();
      [[fallthrough]];
    case ReconcileResult::Error:
      s.total[detail::kError]->Increment();
      s.errors->Increment();
      break;
  }
  s.time->Observe(detail::seconds(took));
}

void Metrics::addActiveWorkers(std::string_view controller, int delta) {
  families_->controller(controller).activeWorkers->Increment(delta);
}

void Metrics::registerQueue(std::string_view name) {
  (void)families_->queue(name);
}

void Metrics::registerRestHost(std::string_view host) {
  for (const char* verb : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    (void)families_->requestDuration(verb, host);
  }
}

void Metrics::observeRequest(std::string_view method, std::string_view code, std::string_view host,
                             std::chrono::nanoseconds took) {
  families_->request(method, code, host).Increment();
  families_->requestDuration(method, host).Observe(detail::seconds(took));
}

void Metrics::registerLeaderElection(std::string_view name) {
  (void)families_->leader(name);
}

void Metrics::setLeader(std::string_view name, bool leading) {
  families_->leader(name).Set(leading ? 1 : 0);
}

void Metrics::setPolicyGauges(std::string_view policy, const PolicyGauges& gauges) {
  detail::Families& f = *families_;
  std::lock_guard lock(f.mu);
  auto it = f.policies.find(policy);
  if (it == f.policies.end()) {
    const prometheus::Labels labels{{"policy", std::string(policy)}};
    detail::PolicySeries s;
    s.selected = &f.policySelected->Add(labels);
    s.compliant = &f.policyCompliant->Add(labels);
    s.podsWithToken = &f.policyPodsWithToken->Add(labels);
    s.riskyBindings = &f.policyRiskyBindings->Add(labels);
    s.declaredByOwner = &f.policyDeclaredByOwner->Add(labels);
    it = f.policies.emplace(std::string(policy), s).first;
  }
  const detail::PolicySeries& s = it->second;
  s.selected->Set(static_cast<double>(gauges.selected));
  s.compliant->Set(static_cast<double>(gauges.compliant));
  s.podsWithToken->Set(static_cast<double>(gauges.podsWithToken));
  s.riskyBindings->Set(static_cast<double>(gauges.riskyBindings));
  s.declaredByOwner->Set(static_cast<double>(gauges.declaredByOwner));
}

void Metrics::removePolicy(std::string_view policy) {
  detail::Families& f = *families_;
  std::lock_guard lock(f.mu);
  auto it = f.policies.find(policy);
  if (it == f.policies.end()) return;
  f.policySelected->Remove(it->second.selected);
  f.policyCompliant->Remove(it->second.compliant);
  f.policyPodsWithToken->Remove(it->second.podsWithToken);
  f.policyRiskyBindings->Remove(it->second.riskyBindings);
  f.policyDeclaredByOwner->Remove(it->second.declaredByOwner);
  f.policies.erase(it);
}

void Metrics::countPatch(PatchResult result) {
  families_->patches[static_cast<std::size_t>(result)]->Increment();
}

void Metrics::registerEvent(std::string_view reason, std::string_view type) {
  (void)families_->event(reason, type);
}

void Metrics::countEvent(std::string_view reason, std::string_view type) {
  families_->event(reason, type).Increment();
}

void Metrics::registerAuditSource(std::string_view source,
                                  std::initializer_list<const char*> results) {
  for (const char* result : results) (void)families_->auditEvents(source, result);
}

void Metrics::countAuditEvents(std::string_view source, std::string_view result,
                               std::uint64_t count) {
  families_->auditEvents(source, result).Increment(static_cast<double>(count));
}

void Metrics::observeAuditWebhook(int status, double seconds) {
  families_->auditWebhookDuration(std::to_string(status)).Observe(seconds);
}

void Metrics::setTokenUseAccounts(std::int64_t recorded, std::int64_t none) {
  families_->accountsWithUse->Set(static_cast<double>(recorded));
  families_->accountsWithoutUse->Set(static_cast<double>(none));
}

void Metrics::registerCacheKind(std::string_view kind) {
  (void)families_->cacheObjects(kind);
}

void Metrics::setCacheObjects(std::string_view kind, std::int64_t count) {
  families_->cacheObjects(kind).Set(static_cast<double>(count));
}

ScrapeHook Metrics::onScrape(std::function<void()> hook) {
  return ScrapeHook(this, families_->collector->addHook(std::move(hook)));
}

void Metrics::removeHook(std::uint64_t id) {
  families_->collector->removeHook(id);
}

std::string Metrics::text() const {
  return prometheus::TextSerializer().Serialize(families_->collector->Collect());
}

}  // namespace saguard::metrics
