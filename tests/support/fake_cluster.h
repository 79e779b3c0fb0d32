// An in-memory cluster for the reconciler's unit tests: it is the ClusterReader (the
// caches), the ClusterWriter (counting every write) and the Notifier (keeping every Event).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/parse.h"
#include "reconcile/cluster_reader.h"
#include "reconcile/cluster_writer.h"
#include "reconcile/notifier.h"

namespace saguard::reconcile::fakes {

using nlohmann::json;
using objects::Tristate;

class FakeCluster : public ClusterReader, public ClusterWriter, public Notifier {
 public:
  // --- ClusterReader
  template <typename T>
  static Shared<T> share(const T& t) {
    return std::make_shared<const T>(t);
  }
  Shared<objects::ServiceAccount> serviceAccount(std::string_view ns,
                                                 std::string_view name) const override {
    auto it = accounts.find(std::string(ns) + "/" + std::string(name));
    if (it == accounts.end()) return nullptr;
    return share(it->second);
  }
  std::vector<Shared<objects::ServiceAccount>> serviceAccounts() const override {
    std::vector<Shared<objects::ServiceAccount>> out;
    for (auto& [k, v] : accounts) out.push_back(share(v));
    return out;
  }
  std::vector<Shared<objects::ServiceAccount>> serviceAccountsIn(
      std::string_view ns) const override {
    std::vector<Shared<objects::ServiceAccount>> out;
    for (auto& [k, v] : accounts) {
      if (v.meta.namespace_.view() == ns) out.push_back(share(v));
    }
    return out;
  }
  Shared<objects::Namespace> namespace_(std::string_view name) const override {
    auto it = namespaces.find(std::string(name));
    if (it == namespaces.end()) return nullptr;
    return share(it->second);
  }
  std::vector<Shared<objects::Pod>> podsOf(std::string_view ns,
                                           std::string_view name) const override {
    std::vector<Shared<objects::Pod>> out;
    for (auto& pod : pods) {
      if (pod.meta.namespace_.view() == ns && pod.serviceAccountName.view() == name) {
        out.push_back(share(pod));
      }
    }
    return out;
  }
  std::vector<Shared<objects::Binding>> bindingsFor(std::string_view,
                                                    std::string_view) const override {
    std::vector<Shared<objects::Binding>> out;
    for (auto& b : bindingObjects) out.push_back(share(b));
    return out;
  }
  std::vector<PolicyRecord> policies() const override {
    std::vector<PolicyRecord> out;
    for (auto& [k, v] : policyRecords) out.push_back(v);
    return out;
  }
  std::optional<PolicyRecord> policy(std::string_view name) const override {
    auto it = policyRecords.find(std::string(name));
    if (it == policyRecords.end()) return std::nullopt;
    return it->second;
  }
  policy::UseEvidence observedUse(std::string_view ns, std::string_view name) const override {
    auto it = observed.find(std::string(ns) + "/" + std::string(name));
    return it == observed.end() ? policy::UseEvidence{.lastUsed = 0, .observingSince = since}
                                : it->second;
  }
  policy::UseEvidence useOf(const objects::ServiceAccount& account) const override {
    return policy::evidenceFor(observedUse(account.meta.namespace_.view(), account.meta.name()),
                               account);
  }
  std::int64_t now() const override { return clock; }
  std::vector<Shared<objects::Binding>> bindings() const override {
    std::vector<Shared<objects::Binding>> out;
    for (auto& b : bindingObjects) out.push_back(share(b));
    return out;
  }
  std::int64_t observingSince() const override { return since; }

  // --- ClusterWriter
  Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                       std::string_view) override {
    patches.push_back(std::string(ns) + "/" + std::string(name));
    if (patchError) return *patchError;
    auto& sa = accounts.at(std::string(ns) + "/" + std::string(name));
    ++revision;
    std::string rv = std::to_string(revision);
    if (applyPatches) {
      sa.automount = Tristate::False;
      sa.meta.setResourceVersion(rv);
    }
    return rv;
  }
  Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                      std::string_view resourceVersion) override {
    useDayWrites.push_back(std::string(ns) + "/" + std::string(name) + "=" + std::string(day));
    auto& sa = accounts.at(std::string(ns) + "/" + std::string(name));
    if (sa.meta.resourceVersion() != resourceVersion) {
      return makeError(ErrorKind::Conflict, "the object has been modified");
    }
    if (applyPatches) {
      sa.tokenLastUsed = Symbol(day);
      sa.meta.setResourceVersion(std::to_string(++revision));
    }
    return {};
  }
  Status patchPolicyStatus(std::string_view name, const std::string& statusJson) override {
    statusWrites.push_back(std::string(name));
    policyRecords.at(std::string(name)).statusJson = statusJson;
    return {};
  }

  // --- Notifier
  void notify(const ObjectRef& object, policy::Reason reason, const std::string& message) override {
    events.push_back({object.kind + "/" + object.namespace_ + "/" + object.name, reason, message});
  }

  // --- test helpers
  void addNamespace(const std::string& name, objects::Labels labels = {}) {
    objects::Namespace ns;
    ns.meta.setName(name);
    ns.labels = std::move(labels);
    ns.phase = Symbol("Active");
    namespaces[name] = ns;
  }
  objects::ServiceAccount& addAccount(const std::string& ns, const std::string& name,
                                      Tristate automount = Tristate::Unset) {
    objects::ServiceAccount sa;
    sa.meta.namespace_ = Symbol(ns);
    sa.meta.setName(name);
    sa.meta.setUid("uid-" + ns + "-" + name);
    sa.meta.setResourceVersion(std::to_string(++revision));
    sa.automount = automount;
    return accounts[ns + "/" + name] = sa;
  }
  void addPod(const std::string& ns, const std::string& name, const std::string& sa,
              Tristate automount, objects::TokenVolume token) {
    objects::Pod pod;
    pod.meta.namespace_ = Symbol(ns);
    pod.meta.setName(name);
    pod.meta.setUid("uid-pod-" + name);
    pod.serviceAccountName = Symbol(sa);
    pod.automount = automount;
    pod.token = token;
    pods.push_back(pod);
  }
  void addPolicy(const std::string& yamlishJson) {
    auto parsed = policy::parsePolicy(std::string_view(yamlishJson));
    PolicyRecord record;
    json object = json::parse(yamlishJson);
    record.name = object["metadata"]["name"];
    record.uid = object["metadata"].value("uid", "");
    record.generation = object["metadata"].value("generation", 1);
    if (parsed.ok()) {
      record.policy = std::make_shared<policy::Policy>(*parsed);
    } else {
      record.invalid = parsed.error();
    }
    policyRecords[record.name] = record;
  }

  struct Emitted {
    std::string object;
    policy::Reason reason;
    std::string message;
  };
  std::map<std::string, objects::Namespace> namespaces;
  std::map<std::string, objects::ServiceAccount> accounts;
  std::vector<objects::Pod> pods;
  std::vector<objects::Binding> bindingObjects;
  std::map<std::string, PolicyRecord> policyRecords;
  std::vector<std::string> patches;
  std::vector<std::string> statusWrites;
  std::vector<std::string> useDayWrites;                // "ns/name=day"
  std::map<std::string, policy::UseEvidence> observed;  // what the audit sources recorded
  std::int64_t since = 0;                               // observingSince of every account
  std::int64_t clock = 0;                               // now()
  std::vector<Emitted> events;
  std::optional<Error> patchError;
  bool applyPatches = true;
  int revision = 100;
};

inline std::string policyJson(const std::string& name, const std::string& spec,
                              int generation = 1) {
  return R"({"apiVersion":"saguard.io/v1alpha1","kind":"ServiceAccountPolicy","metadata":{"name":")" +
         name + R"(","uid":"u-)" + name + R"(","generation":)" + std::to_string(generation) +
         R"(},"spec":)" + spec + "}";
}

}  // namespace saguard::reconcile::fakes
