#include "policy/admission.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/hash.h"
#include "policy/bindings.h"
#include "policy/glob.h"
#include "policy/token_use.h"

namespace saguard::policy {
namespace {

using nlohmann::json;

constexpr std::int64_t kDay = 86400;
constexpr std::string_view kNameLabel = "kubernetes.io/metadata.name";
constexpr std::string_view kV1 = "admissionregistration.k8s.io/v1";
constexpr std::string_view kV1beta1 = "admissionregistration.k8s.io/v1beta1";

constexpr AdmissionKind kKinds[] = {
    {kV1, "ValidatingAdmissionPolicy", "validatingadmissionpolicies"},
    {kV1, "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings"},
    {kV1beta1, "MutatingAdmissionPolicy", "mutatingadmissionpolicies"},
    {kV1beta1, "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings"},
};

std::string hex(std::uint64_t value, int digits) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(value));
  return std::string(out + 16 - digits);
}

// A CEL string literal. Names, label keys and values and globs hold no quote or
// backslash (the parser refuses them), but a reason or a policy name goes through here
// too, so both are escaped whatever they hold.
std::string lit(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string listLit(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += lit(items[i]);
  }
  return out + "]";
}

// One glob as a CEL test of `subject`: equality, a prefix test, or an RE2 match. Names
// are [a-z0-9.-]: only '.' needs escaping in a pattern.
std::string globTest(std::string_view glob, const std::string& subject) {
  const bool wild = glob.find_first_of("*?") != std::string_view::npos;
  if (!wild) return subject + " == " + lit(glob);
  const std::string_view head = glob.substr(0, glob.size() - 1);
  if (glob.back() == '*' && head.find_first_of("*?") == std::string_view::npos) {
    return head.empty() ? "true" : subject + ".startsWith(" + lit(head) + ")";
  }
  std::string re = "^";
  for (char c : glob) {
    if (c == '*') {
      re += ".*";
    } else if (c == '?') {
      re += '.';
    } else if (c == '.') {
      re += "\\\\.";  // "\\." in the CEL literal: the pattern's "\."
    } else {
      re += c;
    }
  }
  re += '$';
  return subject + ".matches('" + re + "')";
}

std::string anyGlob(const std::vector<std::string>& globs, const std::string& subject) {
  std::string out;
  for (const std::string& g : globs) {
    if (!out.empty()) out += " || ";
    out += globTest(g, subject);
  }
  return out.empty() ? "false" : "(" + out + ")";
}

bool anyGlobMatches(const std::vector<std::string>& globs, std::string_view name) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return globMatch(g, name); });
}

json selectorJson(const LabelSelector& selector) {
  json out = json::object();
  if (!selector.matchLabels.empty()) {
    json labels = json::object();
    for (const auto& [k, v] : selector.matchLabels) labels[k.str()] = v.str();
    out["matchLabels"] = std::move(labels);
  }
  for (const SelectorRequirement& r : selector.matchExpressions) {
    json e = {{"key", r.key.str()}, {"operator", toString(r.op)}};
    if (!r.values.empty()) {
      json values = json::array();
      for (Symbol v : r.values) values.push_back(v.str());
      e["values"] = std::move(values);
    }
    out["matchExpressions"].push_back(std::move(e));
  }
  return out;
}

// Whether the policy's namespace selector names `ns` by its kubernetes.io/metadata.name
// label: the only way kube-system and saguard's own namespace are matched.
bool selectorNames(const NamespaceSelection& namespaces, std::string_view ns) {
  if (!namespaces.selector) return false;
  for (const auto& [k, v] : namespaces.selector->matchLabels) {
    if (k.view() == kNameLabel && v.view() == ns) return true;
  }
  for (const SelectorRequirement& r : namespaces.selector->matchExpressions) {
    if (r.key.view() != kNameLabel || r.op != SelectorOperator::In) continue;
    for (Symbol v : r.values) {
      if (v.view() == ns) return true;
    }
  }
  return false;
}

// The policy's namespace selector with the protected namespaces it does not name taken out.
json namespaceSelector(const Policy& policy, const AdmissionContext& context) {
  json selector =
      policy.namespaces.selector ? selectorJson(*policy.namespaces.selector) : json::object();
  std::set<std::string> protect;
  for (std::string_view ns :
       {std::string_view("kube-system"), std::string_view(context.selfNamespace)}) {
    if (!ns.empty() && !selectorNames(policy.namespaces, ns)) protect.emplace(ns);
  }
  if (!protect.empty()) {
    selector["matchExpressions"].push_back(
        {{"key", kNameLabel}, {"operator", "NotIn"}, {"values", protect}});
  }
  return selector;
}

// The parts of selection the API server evaluates with CEL, over `ns` and `name` (CEL
// expressions of the request's namespace and the account's name).
struct AccountTests {
  std::string names;    // serviceAccounts.names; "" = all
  std::string exempt;   // the exemptions; "" = none
  std::string unbound;  // unboundOnly; "" = not asked
  std::string unused;   // unusedFor over `params`; "" = not asked
};

AccountTests accountTests(const Policy& policy, const AdmissionContext& context,
                          const std::string& ns, const std::string& name,
                          std::optional<std::int64_t>& changesAt) {
  AccountTests t;
  if (policy.serviceAccounts.names) t.names = anyGlob(*policy.serviceAccounts.names, name);
  for (const Exemption& e : policy.exemptions) {
    if (!t.exempt.empty()) t.exempt += " || ";
    t.exempt += "(" + globTest(e.namespaceGlob, ns) + " && " + globTest(e.nameGlob, name) + ")";
  }
  if (!t.exempt.empty()) t.exempt = "(" + t.exempt + ")";
  if (policy.serviceAccounts.unboundOnly) {
    const BoundAccounts& b = context.bound;
    if (b.all) {
      t.unbound = "false";
    } else {
      // Only what this policy could select: fewer literals to carry and to rewrite.
      std::vector<std::string> namespaces;
      for (const std::string& n : b.namespaces) {
        if (!anyGlobMatches(policy.namespaces.exclude, n)) namespaces.push_back(n);
      }
      std::vector<std::string> accounts;
      for (const std::string& key : b.accounts) {
        const auto slash = key.find('/');
        const std::string_view n = std::string_view(key).substr(0, slash);
        const std::string_view a = std::string_view(key).substr(slash + 1);
        if (anyGlobMatches(policy.namespaces.exclude, n)) continue;
        if (policy.serviceAccounts.names && !anyGlobMatches(*policy.serviceAccounts.names, a)) {
          continue;
        }
        accounts.push_back(key);
      }
      std::string clause;
      if (!namespaces.empty()) clause = "!(" + ns + " in " + listLit(namespaces) + ")";
      if (!accounts.empty()) {
        if (!clause.empty()) clause += " && ";
        clause += "!((" + ns + " + '/' + " + name + ") in " + listLit(accounts) + ")";
      }
      t.unbound = clause.empty() ? "true" : "(" + clause + ")";
    }
  }
  if (policy.serviceAccounts.unusedFor) {
    const std::int64_t window = *policy.serviceAccounts.unusedFor;
    const std::int64_t cutoff = context.now - window;
    if (context.observingSince == 0) {
      t.unused = "false";  // no audit source: nothing is known to be unused
    } else if (context.observingSince > cutoff) {
      t.unused = "false";  // observation does not cover the window yet
      changesAt = context.observingSince + window;
    } else {
      // Used within the window when its last-used day is the cutoff's day or later (the
      // day stands for its last second, policy/token_use.h endOfUseDay()). Observation of
      // an account starts at its creation: created on or after the cutoff's day, it has
      // not been watched for the whole window. Whole days keep the policy the same all day.
      const std::string day = useDayOf(cutoff);
      const std::string annotation = lit(objects::kTokenLastUsedAnnotation);
      // Params are not typed: creationTimestamp is its RFC 3339 text, which orders like time.
      t.unused = "(string(params.metadata.creationTimestamp) < " + lit(day + "T00:00:00Z") +
                 " && !(has(params.metadata.annotations) && " + annotation +
                 " in params.metadata.annotations && params.metadata.annotations[" + annotation +
                 "] >= " + lit(day) + "))";
      changesAt = (cutoff / kDay + 1) * kDay + window;
    }
  }
  return t;
}

std::string allOf(std::initializer_list<std::string> clauses) {
  std::string out;
  for (const std::string& c : clauses) {
    if (c.empty()) continue;
    if (!out.empty()) out += " && ";
    out += c;
  }
  return out.empty() ? "true" : out;
}

json metadata(const Policy& policy, const std::string& name) {
  json meta = {{"name", name},
               {"labels", {{"app.kubernetes.io/managed-by", "saguard"}}},
               {"annotations", {{kPolicyAnnotation, policy.name}}}};
  if (!policy.uid.empty()) {
    meta["ownerReferences"] = json::array({{{"apiVersion", "saguard.io/v1alpha1"},
                                            {"kind", "ServiceAccountPolicy"},
                                            {"name", policy.name},
                                            {"uid", policy.uid},
                                            {"controller", true}}});
  }
  return meta;
}

AdmissionObject finish(const AdmissionKind& kind, const std::string& name, json object) {
  object["apiVersion"] = kind.apiVersion;
  object["kind"] = kind.kind;
  // The hash of everything else, so that a change anywhere changes it.
  object["metadata"]["annotations"][kRenderedHashAnnotation] = hex(fnv1a64(object.dump()), 16);
  return {std::string(kind.apiVersion), std::string(kind.kind), std::string(kind.resource), name,
          std::move(object)};
}

// Whether the policy selects accounts by label (`selector: {}` selects every account).
bool labelled(const Policy& policy) {
  return policy.serviceAccounts.selector && !policy.serviceAccounts.selector->empty();
}

// An Audit policy never refuses: its Deny warns.
bool denies(const Policy& policy) {
  return policy.admission == Admission::Deny && policy.mode == Mode::Enforce;
}

json resourceRule(const char* resource) {
  return {{"apiGroups", json::array({""})},
          {"apiVersions", json::array({"v1"})},
          {"operations", json::array({"CREATE"})},
          {"resources", json::array({resource})}};
}

json excludeCondition(const Policy& policy) {
  return {{"name", "namespace-not-excluded"},
          {"expression", "!" + anyGlob(policy.namespaces.exclude, "request.namespace")}};
}

void validating(const Policy& policy, const AdmissionContext& context, const std::string& name,
                AdmissionPlan& plan) {
  const bool params = labelled(policy) || policy.serviceAccounts.unusedFor.has_value();
  AccountTests t =
      accountTests(policy, context, "request.namespace", "variables.account", plan.changesAt);
  std::string selected =
      allOf({t.names, t.unbound, t.unused, t.exempt.empty() ? "" : "!" + t.exempt});
  if (params) selected = "params.metadata.name == variables.account && " + selected;

  const std::string fix =
      policy.mode == Mode::Enforce
          ? "saguard sets automountServiceAccountToken: false on the account; pods created after "
            "that get no token (a controller retries on its own)"
          : "set automountServiceAccountToken: false on the account";
  auto variable = [](const char* name, std::string expression) {
    return json{{"name", name}, {"expression", std::move(expression)}};
  };
  json variables = json::array();
  variables.push_back(variable("account",
                               "has(object.spec.serviceAccountName) && "
                               "object.spec.serviceAccountName != '' ? "
                               "object.spec.serviceAccountName : 'default'"));
  variables.push_back(variable("podSetsTrue",
                               "has(object.spec.automountServiceAccountToken) && "
                               "object.spec.automountServiceAccountToken == true"));
  // The ground truth: after every mutation, a projected volume with a serviceAccountToken
  // source is the token the pod would hold.
  variables.push_back(variable("token",
                               "has(object.spec.volumes) && object.spec.volumes.exists(v, "
                               "has(v.projected) && has(v.projected.sources) && "
                               "v.projected.sources.exists(s, has(s.serviceAccountToken)))"));
  variables.push_back(variable("selected", selected));

  const std::string message =
      lit("ServiceAccountPolicy " + policy.name +
          ": this pod would hold the API token of ServiceAccount ") +
      " + request.namespace + '/' + variables.account + (variables.podSetsTrue ? " +
      lit(", because the pod sets automountServiceAccountToken: true. Fix: remove that line "
          "from the pod spec") +
      " : " + lit(", which the policy selects. Fix: " + fix) + ") + " +
      lit(", or set automountServiceAccountToken: false on the pod; if the pod calls the "
          "Kubernetes API, exempt the account in the policy.");
  json validation = {{"expression", "!(variables.token && variables.selected)"},
                     {"reason", "Forbidden"},
                     {"messageExpression", message}};

  json spec = json::object();
  spec["failurePolicy"] = "Ignore";
  spec["matchConstraints"]["resourceRules"] = json::array({resourceRule("pods")});
  spec["variables"] = std::move(variables);
  spec["validations"] = json::array({std::move(validation)});
  if (!policy.namespaces.exclude.empty()) {
    spec["matchConditions"] = json::array({excludeCondition(policy)});
  }
  if (params) spec["paramKind"] = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}};
  json vap = {{"metadata", metadata(policy, name)}, {"spec", std::move(spec)}};
  plan.objects.push_back(finish(kKinds[0], name, std::move(vap)));

  const bool deny = denies(policy);
  json bindingSpec = {
      {"policyName", name},
      {"validationActions", json::array({deny ? "Deny" : "Warn"})},
      {"matchResources", {{"namespaceSelector", namespaceSelector(policy, context)}}}};
  if (params) {
    bindingSpec["paramRef"] = {
        {"selector",
         labelled(policy) ? selectorJson(*policy.serviceAccounts.selector) : json::object()},
        {"parameterNotFoundAction", "Allow"}};
  }
  json binding = {{"metadata", metadata(policy, name)}, {"spec", std::move(bindingSpec)}};
  plan.objects.push_back(finish(kKinds[1], name, std::move(binding)));
}

void mutating(const Policy& policy, const AdmissionContext& context, const std::string& name,
              AdmissionPlan& plan) {
  if (policy.mode != Mode::Enforce) {
    plan.noMutatingReason = "an Audit policy changes no ServiceAccount";
    return;
  }
  if (policy.serviceAccounts.unusedFor) {
    plan.noMutatingReason = "an unusedFor policy never selects a new account";
    return;
  }
  if (!context.mutatingServed) {
    plan.noMutatingReason =
        "the API server does not serve admissionregistration.k8s.io/v1beta1 "
        "MutatingAdmissionPolicy (feature gate MutatingAdmissionPolicy), so an account and "
        "pods created together may see their first pods get a token before saguard patches it";
    return;
  }
  std::optional<std::int64_t> unusedChange;  // never asked: unusedFor returned above
  AccountTests t =
      accountTests(policy, context, "request.namespace",
                   "(has(object.metadata.name) ? object.metadata.name : '')", unusedChange);
  json conditions = json::array();
  // Only an account created without the field: one whose creator says `true` explicitly
  // (a chart, a GitOps source) is left to the controller, which decides what to do about
  // a declared value instead of overwriting it unseen.
  conditions.push_back(
      {{"name", "field-unset"}, {"expression", "!has(object.automountServiceAccountToken)"}});
  if (!policy.namespaces.exclude.empty()) conditions.push_back(excludeCondition(policy));
  if (!t.names.empty()) conditions.push_back({{"name", "account-named"}, {"expression", t.names}});
  if (!t.unbound.empty()) {
    conditions.push_back({{"name", "account-unbound"}, {"expression", t.unbound}});
  }
  if (!t.exempt.empty()) {
    conditions.push_back({{"name", "account-not-exempt"}, {"expression", "!" + t.exempt}});
  }
  json mutation = {{"patchType", "ApplyConfiguration"}};
  mutation["applyConfiguration"]["expression"] = "Object{automountServiceAccountToken: false}";
  json spec = json::object();
  spec["failurePolicy"] = "Ignore";
  spec["reinvocationPolicy"] = "Never";
  spec["matchConstraints"]["resourceRules"] = json::array({resourceRule("serviceaccounts")});
  spec["mutations"] = json::array({std::move(mutation)});
  if (!conditions.empty()) spec["matchConditions"] = std::move(conditions);
  json map = {{"metadata", metadata(policy, name)}, {"spec", std::move(spec)}};
  plan.objects.push_back(finish(kKinds[2], name, std::move(map)));

  json matchResources = {{"namespaceSelector", namespaceSelector(policy, context)}};
  if (labelled(policy)) {
    matchResources["objectSelector"] = selectorJson(*policy.serviceAccounts.selector);
  }
  json binding = {{"metadata", metadata(policy, name)},
                  {"spec", {{"policyName", name}, {"matchResources", std::move(matchResources)}}}};
  plan.objects.push_back(finish(kKinds[3], name, std::move(binding)));
}

}  // namespace

BoundAccounts boundAccounts(std::span<const objects::Binding* const> bindings) {
  std::set<std::string> namespaces;
  std::set<std::string> accounts;
  BoundAccounts out;
  for (const objects::Binding* binding : bindings) {
    // As accountIsBound(): the API server's own bindings of every account grant nothing
    // account-specific.
    if (isBuiltinAllAccountsBinding(*binding)) continue;
    for (const objects::Subject& subject : binding->subjects) {
      const SubjectScope scope = subjectScope(*binding, subject);
      switch (scope.kind) {
        case SubjectScope::Kind::Nothing:
          break;
        case SubjectScope::Kind::Account:
          accounts.insert(std::string(scope.namespace_) + "/" + std::string(scope.name));
          break;
        case SubjectScope::Kind::AccountsIn:
          namespaces.emplace(scope.namespace_);
          break;
        case SubjectScope::Kind::AllAccounts:
          out.all = true;
          break;
      }
    }
  }
  out.namespaces.assign(namespaces.begin(), namespaces.end());
  for (const std::string& key : accounts) {
    // An account whose whole namespace is bound needs no entry of its own.
    if (!namespaces.contains(key.substr(0, key.find('/')))) out.accounts.push_back(key);
  }
  return out;
}

std::string admissionObjectName(std::string_view policyName) {
  constexpr std::size_t kMax = 253;
  std::string name = "saguard-" + std::string(policyName);
  if (name.size() <= kMax) return name;
  // A prefix of the name, then the hash of the whole: still unique, still readable.
  std::string tail = "-" + hex(fnv1a64(policyName), 16);
  name.resize(kMax - tail.size());
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name + tail;
}

std::span<const AdmissionKind> admissionKinds() {
  return kKinds;
}

AdmissionPlan planAdmission(const Policy& policy, const AdmissionContext& context) {
  AdmissionPlan plan;
  if (policy.admission == Admission::None) return plan;
  const std::string name = admissionObjectName(policy.name);
  validating(policy, context, name, plan);
  mutating(policy, context, name, plan);
  plan.summary =
      "ValidatingAdmissionPolicy " + name + " (" + (denies(policy) ? "Deny" : "Warn") + ")" +
      (policy.admission == Admission::Deny && !denies(policy) ? ": an Audit policy only warns"
                                                              : "");
  plan.summary += plan.noMutatingReason.empty()
                      ? "; MutatingAdmissionPolicy " + name
                      : "; no MutatingAdmissionPolicy: " + plan.noMutatingReason;
  return plan;
}

}  // namespace saguard::policy
