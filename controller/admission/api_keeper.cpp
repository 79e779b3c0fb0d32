#include "admission/api_keeper.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "kube/discovery.h"

namespace saguard::admission {
namespace {

using nlohmann::json;

kube::Resource resourceOf(const policy::AdmissionKind& kind) {
  const std::string_view apiVersion = kind.apiVersion;
  const auto slash = apiVersion.find('/');
  return kube::Resource{std::string(apiVersion.substr(0, slash)),
                        std::string(apiVersion.substr(slash + 1)), std::string(kind.resource),
                        false};
}

const policy::AdmissionObject* find(const policy::AdmissionPlan& plan,
                                    const policy::AdmissionKind& kind) {
  for (const auto& o : plan.objects) {
    if (o.kind == kind.kind) return &o;
  }
  return nullptr;
}

std::string annotation(const json& object, std::string_view key) {
  const json* annotations = nullptr;
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    if (auto a = m->find("annotations"); a != m->end() && a->is_object()) annotations = &*a;
  }
  if (annotations == nullptr) return "";
  auto it = annotations->find(std::string(key));
  return it != annotations->end() && it->is_string() ? it->get<std::string>() : "";
}

std::string resourceVersionOf(const json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  return m->value("resourceVersion", "");
}

}  // namespace

ApiKeeper::ApiKeeper(kube::Client& client, ApiKeeperOptions options)
    : client_(client),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : SteadyClock::instance()) {}

bool ApiKeeper::mutatingServed() {
  const auto now = clock_.now();
  {
    std::lock_guard lock(mu_);
    // Once served, it stays served for this process (turning a feature gate off restarts
    // the API server, and an object the keeper then fails to write says so).
    if (mutatingServed_ &&
        (*mutatingServed_ || now - mutatingCheckedAt_ < options_.reverifyAfter)) {
      return *mutatingServed_;
    }
  }
  const kube::Resource resource = resourceOf(policy::admissionKinds()[2]);
  auto served = kube::servedResources(client_, resource.group, resource.version);
  std::lock_guard lock(mu_);
  mutatingCheckedAt_ = now;
  if (served.ok()) {
    mutatingServed_ = served->contains(resource.plural);
  } else {
    spdlog::warn("could not find out whether the API server serves MutatingAdmissionPolicy: {}",
                 served.error().describe());
    if (!mutatingServed_) return false;  // asked again on the next reconcile
  }
  return *mutatingServed_;
}

Status ApiKeeper::keep(std::string_view policyName, const policy::AdmissionPlan& plan) {
  const std::string name = policy::admissionObjectName(policyName);
  const bool mutating = mutatingServed();
  for (const policy::AdmissionKind& kind : policy::admissionKinds()) {
    const policy::AdmissionObject* desired = find(plan, kind);
    // Not served: there is nothing of that kind to keep or to delete.
    if (desired == nullptr && kind.apiVersion.ends_with("v1beta1") && !mutating) continue;
    if (Status st = keepOne(kind, name, policyName, desired); !st.ok()) return st;
  }
  return {};
}

Status ApiKeeper::keepOne(const policy::AdmissionKind& kind, const std::string& name,
                          std::string_view policyName, const policy::AdmissionObject* desired) {
  const kube::Resource resource = resourceOf(kind);
  const Key key{std::string(kind.resource), name};
  std::optional<Known> known = remembered(key);
  if (!known) {
    auto read = this->read(resource, name, policyName);
    if (!read.ok()) return read.error();
    known = *read;
    remember(key, *known);
  }
  const std::string wantHash =
      desired != nullptr ? annotation(desired->object, policy::kRenderedHashAnnotation) : "";
  if (known->foreign) {
    if (desired == nullptr) return {};  // not ours to delete
    return makeError(ErrorKind::Conflict,
                     std::string(kind.kind) + " " + name +
                         " exists and is not saguard's for this policy (its annotation " +
                         std::string(policy::kPolicyAnnotation) +
                         " does not name it): saguard leaves it alone; delete or rename it");
  }
  if (desired == nullptr && !known->exists) return {};
  if (desired != nullptr && known->exists && known->hash == wantHash) return {};

  Result<std::string> written = std::string();
  const char* verb = "";
  if (desired == nullptr) {
    verb = "deleted";
    kube::DeleteOptions options;
    options.preconditionResourceVersion = known->resourceVersion;
    auto removed = client_.remove(resource, "", name, options);
    if (!removed.ok() && !removed.is(ErrorKind::NotFound)) {
      forget(key);
      return removed.error();
    }
    remember(key, absent());
  } else {
    json body = desired->object;
    if (known->exists) {
      verb = "replaced";
      body["metadata"]["resourceVersion"] = known->resourceVersion;
      written = client_.update(resource, "", name, body.dump());
    } else {
      verb = "created";
      written = client_.create(resource, "", body.dump());
    }
    if (!written.ok()) {
      forget(key);  // read again next time: someone else wrote, or it came back
      return written.error();
    }
    const json answer = json::parse(*written, nullptr, false);
    remember(key, Known{.exists = true,
                        .foreign = false,
                        .hash = wantHash,
                        .resourceVersion = answer.is_object() ? resourceVersionOf(answer) : "",
                        .checkedAt = clock_.now()});
  }
  {
    std::lock_guard lock(mu_);
    ++writes_;
  }
  spdlog::info("policy {}: {} {} {}", policyName, verb, kind.kind, name);
  return {};
}

Result<ApiKeeper::Known> ApiKeeper::read(const kube::Resource& resource, const std::string& name,
                                         std::string_view policyName) {
  auto got = client_.get(resource, "", name);
  if (!got.ok()) {
    if (got.is(ErrorKind::NotFound)) return absent();
    return got.error();
  }
  const json object = json::parse(*got, nullptr, false);
  if (!object.is_object()) {
    return makeError(ErrorKind::Internal, resource.plural + " " + name + ": not a JSON object");
  }
  return Known{.exists = true,
               .foreign = annotation(object, policy::kPolicyAnnotation) != policyName,
               .hash = annotation(object, policy::kRenderedHashAnnotation),
               .resourceVersion = resourceVersionOf(object),
               .checkedAt = clock_.now()};
}

ApiKeeper::Known ApiKeeper::absent() const {
  Known known;
  known.checkedAt = clock_.now();
  return known;
}

std::optional<ApiKeeper::Known> ApiKeeper::remembered(const Key& key) const {
  std::lock_guard lock(mu_);
  auto it = known_.find(key);
  if (it == known_.end() || clock_.now() - it->second.checkedAt >= options_.reverifyAfter) {
    return std::nullopt;
  }
  return it->second;
}

void ApiKeeper::remember(const Key& key, Known known) {
  std::lock_guard lock(mu_);
  known_[key] = std::move(known);
}

void ApiKeeper::forget(const Key& key) {
  std::lock_guard lock(mu_);
  known_.erase(key);
}

std::size_t ApiKeeper::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

}  // namespace saguard::admission
