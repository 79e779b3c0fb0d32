#include "audit/lint.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "policy/bindings.h"
#include "policy/parse.h"
#include "policy/pod_token.h"
#include "policy/selection.h"

namespace saguard::audit {

using objects::Tristate;

namespace {

constexpr const char* kFixField = "automountServiceAccountToken: false";

Tristate tristate(const YAML::Node& node) {
  const std::string v = scalarText(node);
  if (v == "true" || v == "True" || v == "TRUE") return Tristate::True;
  if (v == "false" || v == "False" || v == "FALSE") return Tristate::False;
  return Tristate::Unset;
}

objects::Labels labelsOf(const YAML::Node& metadata) {
  objects::Labels labels;
  YAML::Node l = child(metadata, "labels");
  if (!l.IsMap()) return labels;
  for (auto it = l.begin(); it != l.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    labels.emplace_back(Symbol(it->first.Scalar()), Symbol(scalarText(it->second)));
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               labels.end());
  return labels;
}

std::string nameOf(const YAML::Node& metadata) {
  std::string name = scalarText(child(metadata, "name"));
  if (name.empty()) name = scalarText(child(metadata, "generateName"));
  return name.empty() ? "(unnamed)" : name;
}

// Where the pod spec sits in each workload kind.
YAML::Node podSpecOf(const std::string& kind, const YAML::Node& object) {
  YAML::Node spec = child(object, "spec");
  if (kind == "Pod") return spec;
  if (kind == "CronJob")
    return child(child(child(child(spec, "jobTemplate"), "spec"), "template"), "spec");
  return child(child(spec, "template"), "spec");
}

bool isWorkloadKind(const std::string& kind) {
  static const std::set<std::string> kKinds{"Pod",       "Deployment", "StatefulSet",
                                            "DaemonSet", "ReplicaSet", "ReplicationController",
                                            "Job",       "CronJob"};
  return kKinds.count(kind) != 0;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::string policyWord(const std::vector<std::string>& names) {
  return (names.size() == 1 ? "policy " : "policies ") + joinNames(names);
}

policy::Policy baselinePolicy() {
  policy::Policy p;
  p.name = "baseline";
  p.mode = policy::Mode::Enforce;
  p.serviceAccounts.names = std::vector<std::string>{"default"};
  return p;
}

}  // namespace

std::string CheckedObject::display() const {
  return kind + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

Linter::Linter(LintOptions options) : options_(std::move(options)) {}

void Linter::addSource(const Source& source) {
  ++files_;
  ManifestSet set = readManifests(source);
  documents_ += set.documents.size() + set.errors.size();
  // Problems and documents interleave by document index so findings keep input order.
  std::size_t e = 0;
  auto flushErrorsBefore = [&](int index) {
    for (; e < set.errors.size() && set.errors[e].documentIndex < index; ++e) {
      const ReadError& err = set.errors[e];
      CheckedObject obj{"Document", "", "#" + std::to_string(err.documentIndex + 1), err.at};
      problems_.push_back(Problem{Rule::MalformedDocument, obj, err.at,
                                  "document " + std::to_string(err.documentIndex + 1) +
                                      " is not valid YAML or JSON: " + err.message});
      order_.push_back(Item{Item::Type::Problem, problems_.size() - 1});
    }
  };
  for (const Document& doc : set.documents) {
    flushErrorsBefore(doc.index);
    addDocument(doc, doc.root, false);
  }
  flushErrorsBefore(1 << 30);
}

void Linter::addPolicySource(const Source& source) {
  ManifestSet set = readManifests(source);
  for (const ReadError& err : set.errors) {
    CheckedObject obj{"Document", "", "#" + std::to_string(err.documentIndex + 1), err.at};
    problems_.push_back(Problem{Rule::MalformedDocument, obj, err.at,
                                "policy file document " + std::to_string(err.documentIndex + 1) +
                                    " is not valid YAML or JSON: " + err.message});
    order_.push_back(Item{Item::Type::Problem, problems_.size() - 1});
  }
  for (const Document& doc : set.documents) addDocument(doc, doc.root, true);
}

void Linter::addWorkload(const Document& doc, const YAML::Node& object, const std::string& kind,
                         const std::string& ns) {
  const YAML::Node metadata = child(object, "metadata");
  YAML::Node spec = podSpecOf(kind, object);
  if (!spec.IsMap()) return;  // not a pod-bearing object after all (e.g. a bare template)
  Workload w;
  w.kind = kind;
  w.namespace_ = ns;
  w.name = nameOf(metadata);
  w.at = doc.at(object);
  w.podSpecAt = doc.at(spec);
  YAML::Node automount = child(spec, "automountServiceAccountToken");
  w.automount = tristate(automount);
  w.automountAt = doc.at(childKey(spec, "automountServiceAccountToken"));
  YAML::Node account = child(spec, "serviceAccountName");
  if (scalarText(account).empty()) account = child(spec, "serviceAccount");  // deprecated alias
  w.account = scalarText(account);
  if (w.account.empty()) {
    w.account = "default";
    w.accountAt = w.podSpecAt;
  } else {
    w.accountAt = doc.at(account);
  }
  workloads_.push_back(std::move(w));
  order_.push_back(Item{Item::Type::Workload, workloads_.size() - 1});
}

void Linter::addDocument(const Document& doc, const YAML::Node& object, bool policiesOnly) {
  if (!object.IsMap()) return;
  const std::string kind = scalarText(child(object, "kind"));
  if (kind == "List") {
    YAML::Node items = child(object, "items");
    if (items.IsSequence()) {
      for (const YAML::Node& item : items) addDocument(doc, item, policiesOnly);
    }
    return;
  }
  if (kind == "ServiceAccountPolicy") {
    addPolicy(doc, object);
    return;
  }
  if (policiesOnly) return;

  const YAML::Node metadata = child(object, "metadata");
  std::string ns = scalarText(child(metadata, "namespace"));
  if (ns.empty()) ns = options_.defaultNamespace;

  if (isWorkloadKind(kind)) {
    addWorkload(doc, object, kind, ns);
    return;
  }
  if (kind == "ServiceAccount") {
    Account a;
    a.sa.meta.namespace_ = Symbol(ns);
    a.sa.meta.setName(nameOf(metadata));
    a.sa.labels = labelsOf(metadata);
    a.sa.automount = tristate(child(object, "automountServiceAccountToken"));
    a.at = doc.at(object);
    accounts_.push_back(std::move(a));
    return;
  }
  if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    BindingDoc b;
    b.binding.clusterScoped = kind == "ClusterRoleBinding";
    b.binding.meta.namespace_ = Symbol(b.binding.clusterScoped ? std::string() : ns);
    b.binding.meta.setName(nameOf(metadata));
    YAML::Node roleRef = child(object, "roleRef");
    b.binding.roleRef.kind = Symbol(scalarText(child(roleRef, "kind")));
    b.binding.roleRef.name = Symbol(scalarText(child(roleRef, "name")));
    YAML::Node subjects = child(object, "subjects");
    if (subjects.IsSequence()) {
      for (const YAML::Node& s : subjects) {
        b.binding.subjects.push_back(objects::Subject{Symbol(scalarText(child(s, "kind"))),
                                                      Symbol(scalarText(child(s, "name"))),
                                                      Symbol(scalarText(child(s, "namespace")))});
        b.subjectsAt.push_back(doc.at(s));
      }
    }
    b.at = doc.at(object);
    bindings_.push_back(std::move(b));
    order_.push_back(Item{Item::Type::Binding, bindings_.size() - 1});
    return;
  }
  if (kind == "Namespace") {
    objects::Namespace n;
    n.meta.setName(nameOf(metadata));
    n.labels = labelsOf(metadata);
    namespaces_.push_back(std::move(n));
  }
}

void Linter::addPolicy(const Document& doc, const YAML::Node& object) {
  const Location at = doc.at(object);
  const std::string name = nameOf(child(object, "metadata"));
  auto json = toJson(object);
  Result<policy::Policy> parsed =
      json.ok() ? policy::parsePolicy(*json) : Result<policy::Policy>(json.error());
  if (parsed.ok()) {
    policies_.push_back(PolicyDoc{std::move(*parsed), at});
    return;
  }
  std::string message =
      "ServiceAccountPolicy " + name + " is invalid and was not applied: " + parsed.error().message;
  for (const ErrorCause& c : parsed.error().causes) {
    message += "; " + (c.field.empty() ? std::string() : c.field + ": ") + c.message;
  }
  problems_.push_back(Problem{Rule::InvalidPolicy,
                              CheckedObject{"ServiceAccountPolicy", "", name, at}, at, message});
  order_.push_back(Item{Item::Type::Problem, problems_.size() - 1});
}

// What run() works out once and every check reads.
struct Linter::Context {
  std::vector<policy::Policy> policies;  // those of the input, or the baseline
  std::map<std::pair<std::string, std::string>, const Account*> accounts;
  std::vector<const objects::Binding*> bindings;

  const Account* findAccount(const std::string& ns, const std::string& name) const {
    auto it = accounts.find({ns, name});
    return it == accounts.end() ? nullptr : it->second;
  }
  // A finding about the object run() added last.
  static void add(LintReport& report, Rule rule, Location at, std::string message,
                  std::vector<Fix> fixes) {
    report.findings.push_back(Finding{rule, std::move(at), std::move(message), std::move(fixes),
                                      report.objects.size() - 1});
  }
};

Linter::Decision Linter::decide(const Context& ctx, const objects::ServiceAccount& sa,
                                bool accountKnown) const {
  Decision d;
  const std::string& nsName = sa.meta.namespace_.str();
  const objects::Namespace* known = nullptr;
  for (const objects::Namespace& n : namespaces_) {
    if (n.meta.name() == nsName) known = &n;
  }
  objects::Namespace unknownLabels;
  unknownLabels.meta.setName(nsName);
  const bool bound =
      policy::accountIsBound(ctx.bindings.begin(), ctx.bindings.end(), nsName, sa.meta.name());
  for (const policy::Policy& p : ctx.policies) {
    const objects::Namespace* ns = known;
    if (ns == nullptr) {
      const bool needsLabels = p.namespaces.selector.has_value() && !p.namespaces.selector->empty();
      ns = needsLabels ? nullptr : &unknownLabels;
    }
    // Manifests carry no evidence of use: a policy with unusedFor selects none of them
    // (UseUnknown), as it selects nothing in a cluster before observation covers its window.
    policy::AccountFacts facts;
    facts.bound = bound;
    policy::Selection s = policy::selectAccount(p, sa, ns, facts);
    if (s.selected) d.selectedBy.push_back(p.name);
    if (!accountKnown && s.reason == policy::SelectionReason::LabelsNotMatched)
      d.labelsUnknown = true;
  }
  std::sort(d.selectedBy.begin(), d.selectedBy.end());
  return d;
}

void Linter::checkWorkload(const Context& ctx, const Workload& w, LintReport& report) const {
  report.objects.push_back(CheckedObject{w.kind, w.namespace_, w.name, w.at});
  const std::string who = report.objects.back().display();
  const std::string accountName = w.namespace_ + "/" + w.account;
  const Account* account = ctx.findAccount(w.namespace_, w.account);
  objects::ServiceAccount stub;
  stub.meta.namespace_ = Symbol(w.namespace_);
  stub.meta.setName(w.account);
  const Decision d = decide(ctx, account != nullptr ? account->sa : stub, account != nullptr);
  const bool selected = !d.selectedBy.empty();
  const std::string by =
      selected ? policyWord(d.selectedBy) : std::string("a policy selecting by account labels");
  const policy::Automount automount = policy::automountOf(
      w.automount, account != nullptr ? std::optional(account->sa.automount) : std::nullopt);
  if (!automount.effective) return;  // the pod or its account sets false: no token
  Fix podFix{"set it false under the pod spec", w.podSpecAt, kFixField};
  switch (automount.decidedBy) {
    case policy::DecidedBy::Pod:
      if (!selected && !d.labelsUnknown) return;
      ctx.add(report, Rule::PodSetsTrue, w.automountAt,
              who + " sets automountServiceAccountToken: true, which overrides ServiceAccount " +
                  accountName + ", selected by " + by,
              {Fix{"change it to false if the pod does not call the Kubernetes API", w.automountAt,
                   kFixField}});
      return;
    case policy::DecidedBy::Account:
    case policy::DecidedBy::Default: {
      if (!selected) return;
      const char* how = automount.decidedBy == policy::DecidedBy::Account
                            ? "the account sets automountServiceAccountToken: true"
                            : "neither sets automountServiceAccountToken";
      ctx.add(report, Rule::TokenThroughSelectedAccount, w.at,
              who + " gets a token through ServiceAccount " + accountName + " (" + how +
                  "), selected by " + by,
              {Fix{"set it false at the top level of ServiceAccount " + accountName, account->at,
                   kFixField},
               std::move(podFix)});
      return;
    }
    case policy::DecidedBy::UnknownAccount:
      if (!selected && !d.labelsUnknown) return;
      ctx.add(report, Rule::AccountNotInInput, w.accountAt,
              who + " runs as ServiceAccount " + accountName +
                  ", which is not in the input: whether it gets a token depends on the account in "
                  "the cluster (" +
                  by + (selected ? " selects it)" : " may select it)"),
              {Fix{"add the ServiceAccount to the input, or set the field under the pod spec",
                   w.podSpecAt, kFixField}});
      return;
  }
}

// A binding: which selected accounts does it grant a role to?
void Linter::checkBinding(const Context& ctx, const BindingDoc& b, LintReport& report) const {
  report.objects.push_back(
      CheckedObject{b.binding.clusterScoped ? "ClusterRoleBinding" : "RoleBinding",
                    b.binding.meta.namespace_.str(), std::string(b.binding.meta.name()), b.at});
  if (policy::isBuiltinAllAccountsBinding(b.binding)) return;
  std::set<std::pair<std::string, std::string>> candidates;
  for (const Account& a : accounts_)
    candidates.emplace(a.sa.meta.namespace_.str(), a.sa.meta.name());
  for (const Workload& w : workloads_) candidates.emplace(w.namespace_, w.account);
  for (const objects::Subject& s : b.binding.subjects) {
    const policy::SubjectScope scope = policy::subjectScope(b.binding, s);
    if (scope.kind == policy::SubjectScope::Kind::Account) {
      candidates.emplace(std::string(scope.namespace_), std::string(scope.name));
    }
  }
  const std::string who = report.objects.back().display();
  for (const auto& [ns, name] : candidates) {
    const objects::Subject* subject = policy::subjectNamingAccount(b.binding, ns, name);
    if (subject == nullptr) continue;
    const Account* account = ctx.findAccount(ns, name);
    objects::ServiceAccount stub;
    stub.meta.namespace_ = Symbol(ns);
    stub.meta.setName(name);
    const Decision d = decide(ctx, account != nullptr ? account->sa : stub, account != nullptr);
    if (d.selectedBy.empty()) continue;
    const auto index = static_cast<std::size_t>(subject - b.binding.subjects.data());
    const Location at = index < b.subjectsAt.size() ? b.subjectsAt[index] : b.at;
    std::vector<Fix> fixes;
    for (const std::string& policyName : d.selectedBy) {
      for (const PolicyDoc& p : policies_) {
        if (p.policy.name != policyName) continue;
        std::string yaml = "exemptions:\n- namespace: ";
        yaml.append(ns)
            .append("\n  name: ")
            .append(name)
            .append("\n  reason: calls the Kubernetes API");
        fixes.push_back(
            Fix{"if its pods call the API, exempt the account under spec of ServiceAccountPolicy " +
                    policyName,
                p.at, std::move(yaml)});
      }
    }
    std::string message = who;
    message.append(" grants ")
        .append(b.binding.roleRef.kind.view())
        .append(" ")
        .append(b.binding.roleRef.name.view());
    message.append(" to ServiceAccount ")
        .append(ns)
        .append("/")
        .append(name)
        .append(", whose token ");
    message.append(policyWord(d.selectedBy)).append(" disables: its pods may need it");
    ctx.add(report, Rule::BindingGrantsSelectedAccount, at, std::move(message), std::move(fixes));
  }
}

LintReport Linter::run() const {
  LintReport report;
  report.files = files_;
  report.documents = documents_;
  report.workloads = workloads_.size();

  Context ctx;
  for (const PolicyDoc& p : policies_) ctx.policies.push_back(p.policy);
  if (ctx.policies.empty()) ctx.policies.push_back(baselinePolicy());
  for (const policy::Policy& p : ctx.policies) report.policies.push_back(p.name);
  for (const Account& a : accounts_)
    ctx.accounts.emplace(std::pair(a.sa.meta.namespace_.str(), a.sa.meta.name()), &a);
  for (const BindingDoc& b : bindings_) ctx.bindings.push_back(&b.binding);

  for (const Item& item : order_) {
    switch (item.type) {
      case Item::Type::Problem: {
        const Problem& p = problems_[item.index];
        report.objects.push_back(p.object);
        Context::add(report, p.rule, p.at, p.message, {});
        break;
      }
      case Item::Type::Workload:
        checkWorkload(ctx, workloads_[item.index], report);
        break;
      case Item::Type::Binding:
        checkBinding(ctx, bindings_[item.index], report);
        break;
    }
  }
  return report;
}

}  // namespace saguard::audit
