// planAdmission(): which admission objects a policy gets, and what each part of the
// selection turns into. What the API server then does with them is asked of the real
// API server (tests/integration/admission_policy_test.cpp).
#include <gtest/gtest.h>

#include "policy/admission.h"
#include "policy/parse.h"
#include "policy/token_use.h"

namespace saguard::policy {
namespace {

using nlohmann::json;

Policy parse(const std::string& spec, const std::string& name = "p", const std::string& uid = "") {
  json object = {{"apiVersion", "saguard.io/v1alpha1"},
                 {"kind", "ServiceAccountPolicy"},
                 {"metadata", {{"name", name}}},
                 {"spec", json::parse(spec)}};
  if (!uid.empty()) object["metadata"]["uid"] = uid;
  auto parsed = parsePolicy(object);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe());
  return parsed.ok() ? *parsed : Policy{};
}

AdmissionContext served(bool mutating = true) {
  AdmissionContext context;
  context.selfNamespace = "saguard-system";
  context.mutatingServed = mutating;
  return context;
}

std::vector<std::string> kinds(const AdmissionPlan& plan) {
  std::vector<std::string> out;
  for (const auto& o : plan.objects) out.push_back(o.kind);
  return out;
}

const json& object(const AdmissionPlan& plan, const std::string& kind) {
  for (const auto& o : plan.objects) {
    if (o.kind == kind) return o.object;
  }
  static const json none;
  ADD_FAILURE() << "no " << kind << " in the plan";
  return none;
}

std::string variable(const AdmissionPlan& plan, const std::string& name) {
  for (const json& v : object(plan, "ValidatingAdmissionPolicy")["spec"]["variables"]) {
    if (v["name"] == name) return v["expression"];
  }
  return "";
}

TEST(PolicyAdmission, DefaultIsWarn) {
  EXPECT_EQ(parse("{}").admission, Admission::Warn);
  EXPECT_EQ(parse(R"({"admission":"Deny"})").admission, Admission::Deny);
  EXPECT_EQ(parse(R"({"admission":"None"})").admission, Admission::None);
  auto bad = parsePolicy(json{{"metadata", {{"name", "p"}}}, {"spec", {{"admission", "Block"}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().causes.at(0).field, "spec.admission");
}

TEST(PolicyAdmission, NoneKeepsNothing) {
  const AdmissionPlan plan = planAdmission(parse(R"({"admission":"None"})"), served());
  EXPECT_TRUE(plan.objects.empty());
  EXPECT_FALSE(plan.changesAt);
}

TEST(PolicyAdmission, EnforceWhereServedKeepsAllFourInCreationOrder) {
  const AdmissionPlan plan = planAdmission(parse("{}"), served());
  EXPECT_EQ(kinds(plan), (std::vector<std::string>{
                             "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
                             "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}));
  EXPECT_TRUE(plan.noMutatingReason.empty());
  for (const auto& o : plan.objects) {
    EXPECT_EQ(o.name, "saguard-p");
    EXPECT_EQ(o.object["metadata"]["name"], "saguard-p");
    EXPECT_EQ(o.object["apiVersion"], o.apiVersion);
    EXPECT_EQ(o.object["metadata"]["annotations"]["saguard.io/policy"], "p");
    EXPECT_EQ(o.object["metadata"]["labels"]["app.kubernetes.io/managed-by"], "saguard");
    if (o.object["spec"].contains("failurePolicy")) {
      EXPECT_EQ(o.object["spec"]["failurePolicy"], "Ignore") << o.kind;
    }
  }
  // Both policies fail open: an expression error never blocks a request.
  EXPECT_EQ(object(plan, "ValidatingAdmissionPolicy")["spec"]["failurePolicy"], "Ignore");
  EXPECT_EQ(object(plan, "MutatingAdmissionPolicy")["spec"]["failurePolicy"], "Ignore");
  EXPECT_EQ(object(plan, "ValidatingAdmissionPolicyBinding")["spec"]["validationActions"],
            json::array({"Warn"}));
  EXPECT_EQ(
      object(plan,
             "MutatingAdmissionPolicy")["spec"]["mutations"][0]["applyConfiguration"]["expression"],
      "Object{automountServiceAccountToken: false}");
  EXPECT_EQ(
      object(
          plan,
          "MutatingAdmissionPolicy")["spec"]["matchConstraints"]["resourceRules"][0]["resources"],
      json::array({"serviceaccounts"}));
  EXPECT_EQ(object(plan, "ValidatingAdmissionPolicy")["spec"]["matchConstraints"]["resourceRules"]
                                                     [0]["operations"],
            json::array({"CREATE"}));
}

TEST(PolicyAdmission, DenyOnlyForEnforce) {
  const AdmissionPlan enforce = planAdmission(parse(R"({"admission":"Deny"})"), served());
  EXPECT_EQ(object(enforce, "ValidatingAdmissionPolicyBinding")["spec"]["validationActions"],
            json::array({"Deny"}));
  const AdmissionPlan audit =
      planAdmission(parse(R"({"admission":"Deny","mode":"Audit"})"), served());
  EXPECT_EQ(object(audit, "ValidatingAdmissionPolicyBinding")["spec"]["validationActions"],
            json::array({"Warn"}));
  // An Audit policy changes no account, not even at admission.
  EXPECT_EQ(kinds(audit).size(), 2u);
  EXPECT_NE(audit.noMutatingReason.find("Audit"), std::string::npos);
}

TEST(PolicyAdmission, NotServedMeansNoMutatingPolicyAndSaysWhy) {
  const AdmissionPlan plan = planAdmission(parse("{}"), served(false));
  EXPECT_EQ(kinds(plan).size(), 2u);
  EXPECT_NE(plan.noMutatingReason.find("MutatingAdmissionPolicy"), std::string::npos);
  EXPECT_NE(plan.noMutatingReason.find("feature gate"), std::string::npos);
}

TEST(PolicyAdmission, ProtectedNamespacesAreLeftOutUnlessNamed) {
  auto selector = [](const AdmissionPlan& plan) {
    return object(
        plan, "ValidatingAdmissionPolicyBinding")["spec"]["matchResources"]["namespaceSelector"];
  };
  json all = selector(planAdmission(parse("{}"), served()));
  EXPECT_EQ(all, json::parse(R"({"matchExpressions":[{"key":"kubernetes.io/metadata.name",
      "operator":"NotIn","values":["kube-system","saguard-system"]}]})"));

  json labelled =
      selector(planAdmission(parse(R"({"namespaces":{"selector":{"matchLabels":{"team":"a"},
          "matchExpressions":[{"key":"tier","operator":"Exists"}]}}})"),
                             served()));
  EXPECT_EQ(labelled["matchLabels"], json::parse(R"({"team":"a"})"));
  ASSERT_EQ(labelled["matchExpressions"].size(), 2u);
  EXPECT_EQ(labelled["matchExpressions"][0], json::parse(R"({"key":"tier","operator":"Exists"})"));

  json namesSystem = selector(planAdmission(
      parse(R"({"namespaces":{"selector":{"matchExpressions":[{"key":"kubernetes.io/metadata.name",
          "operator":"In","values":["kube-system","apps"]}]}}})"),
      served()));
  ASSERT_EQ(namesSystem["matchExpressions"].size(), 2u);
  EXPECT_EQ(namesSystem["matchExpressions"][1]["values"], json::array({"saguard-system"}));

  json namesSelf = selector(planAdmission(
      parse(R"({"namespaces":{"selector":{"matchLabels":{"kubernetes.io/metadata.name":
          "saguard-system"}}}})"),
      served()));
  EXPECT_EQ(namesSelf["matchExpressions"][0]["values"], json::array({"kube-system"}));

  // The mutating binding covers the same namespaces.
  const AdmissionPlan plan = planAdmission(parse("{}"), served());
  EXPECT_EQ(
      object(plan, "MutatingAdmissionPolicyBinding")["spec"]["matchResources"]["namespaceSelector"],
      all);
}

TEST(PolicyAdmission, GlobsBecomeEqualityPrefixOrAnchoredPattern) {
  const AdmissionPlan plan = planAdmission(parse(R"({"namespaces":{"exclude":["kube-*","ci-?-tmp"]},
          "serviceAccounts":{"names":["default","build-*","a.b*c","*"]}})"),
                                           served());
  const json& vap = object(plan, "ValidatingAdmissionPolicy");
  ASSERT_EQ(vap["spec"]["matchConditions"].size(), 1u);
  EXPECT_EQ(vap["spec"]["matchConditions"][0]["expression"],
            "!(request.namespace.startsWith('kube-') || "
            "request.namespace.matches('^ci-.-tmp$'))");
  EXPECT_EQ(variable(plan, "selected"),
            "(variables.account == 'default' || variables.account.startsWith('build-') || "
            "variables.account.matches('^a\\\\.b.*c$') || true)");
  // No exclude: no matchCondition at all.
  EXPECT_FALSE(
      object(planAdmission(parse("{}"), served()), "ValidatingAdmissionPolicy")["spec"].contains(
          "matchConditions"));
}

TEST(PolicyAdmission, ExemptionsAreLeftOutOfTheSelection) {
  const AdmissionPlan plan = planAdmission(
      parse(R"({"exemptions":[{"namespace":"monitoring","name":"prom*","reason":"it's needed"},
          {"namespace":"*","name":"ci"}]})"),
      served());
  EXPECT_EQ(variable(plan, "selected"),
            "!((request.namespace == 'monitoring' && variables.account.startsWith('prom')) || "
            "(true && variables.account == 'ci'))");
  const json& conditions = object(plan, "MutatingAdmissionPolicy")["spec"]["matchConditions"];
  ASSERT_EQ(conditions.size(), 2u);
  // Only an account created without the field: an explicit value is the creator's decision.
  EXPECT_EQ(conditions[0]["name"], "field-unset");
  EXPECT_EQ(conditions[0]["expression"], "!has(object.automountServiceAccountToken)");
  EXPECT_EQ(conditions[1]["name"], "account-not-exempt");
}

TEST(PolicyAdmission, TheGroundTruthIsTheInjectedTokenVolume) {
  const AdmissionPlan plan = planAdmission(parse("{}"), served());
  EXPECT_EQ(variable(plan, "token"),
            "has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.projected) && "
            "has(v.projected.sources) && v.projected.sources.exists(s, "
            "has(s.serviceAccountToken)))");
  const json& validation = object(plan, "ValidatingAdmissionPolicy")["spec"]["validations"][0];
  EXPECT_EQ(validation["expression"], "!(variables.token && variables.selected)");
  EXPECT_EQ(validation["reason"], "Forbidden");
  const std::string message = validation["messageExpression"];
  EXPECT_NE(message.find("ServiceAccountPolicy p"), std::string::npos);
  EXPECT_NE(message.find("variables.account"), std::string::npos);
  EXPECT_NE(message.find("Fix:"), std::string::npos);
  EXPECT_NE(message.find("exempt the account"), std::string::npos);
}

TEST(PolicyAdmission, AccountLabelsArePodParamsAndTheMutatingObjectSelector) {
  const AdmissionPlan plan = planAdmission(
      parse(R"({"serviceAccounts":{"selector":{"matchLabels":{"token":"none"}}}})"), served());
  const json& vap = object(plan, "ValidatingAdmissionPolicy");
  EXPECT_EQ(vap["spec"]["paramKind"],
            json::parse(R"({"apiVersion":"v1","kind":"ServiceAccount"})"));
  EXPECT_EQ(object(plan, "ValidatingAdmissionPolicyBinding")["spec"]["paramRef"],
            json::parse(R"({"selector":{"matchLabels":{"token":"none"}},
                "parameterNotFoundAction":"Allow"})"));
  // Evaluated once per labelled account of the namespace: only the pod's own counts.
  EXPECT_EQ(variable(plan, "selected").rfind("params.metadata.name == variables.account && ", 0),
            0u);
  EXPECT_EQ(
      object(plan, "MutatingAdmissionPolicyBinding")["spec"]["matchResources"]["objectSelector"],
      json::parse(R"({"matchLabels":{"token":"none"}})"));
  // Without a label selector (or unusedFor) there are no params: one evaluation per pod.
  // `selector: {}` selects every account: the same.
  for (const char* spec : {"{}", R"({"serviceAccounts":{"selector":{}}})"}) {
    const AdmissionPlan plain = planAdmission(parse(spec), served());
    EXPECT_FALSE(object(plain, "ValidatingAdmissionPolicy")["spec"].contains("paramKind")) << spec;
    EXPECT_FALSE(object(plain, "ValidatingAdmissionPolicyBinding")["spec"].contains("paramRef"))
        << spec;
    EXPECT_FALSE(object(plain, "MutatingAdmissionPolicyBinding")["spec"]["matchResources"].contains(
        "objectSelector"))
        << spec;
  }
}

TEST(PolicyAdmission, UnboundOnlyCarriesTheBoundAccountsThisPolicyCouldSelect) {
  AdmissionContext context = served();
  context.bound.namespaces = {"kube-public", "shared"};
  context.bound.accounts = {"apps/builder", "apps/default", "kube-x/default"};
  const AdmissionPlan plan = planAdmission(parse(R"({"namespaces":{"exclude":["kube-*"]},
          "serviceAccounts":{"names":["default"],"unboundOnly":true}})"),
                                           context);
  EXPECT_EQ(variable(plan, "selected"),
            "(variables.account == 'default') && (!(request.namespace in ['shared']) && "
            "!((request.namespace + '/' + variables.account) in ['apps/default']))");
  const json& conditions = object(plan, "MutatingAdmissionPolicy")["spec"]["matchConditions"];
  ASSERT_EQ(conditions.size(), 4u);
  EXPECT_EQ(conditions[3]["name"], "account-unbound");

  context.bound = {};
  EXPECT_EQ(variable(planAdmission(parse(R"({"serviceAccounts":{"unboundOnly":true}})"), context),
                     "selected"),
            "true");
  context.bound.all = true;  // system:serviceaccounts is bound: no account is unbound
  EXPECT_EQ(variable(planAdmission(parse(R"({"serviceAccounts":{"unboundOnly":true}})"), context),
                     "selected"),
            "false");
}

TEST(PolicyAdmission, UnusedForWaitsForObservationThenComparesWholeDays) {
  const Policy policy = parse(R"({"serviceAccounts":{"unusedFor":"720h"}})");
  constexpr std::int64_t kNow = 1796611200;  // 2026-12-07T02:40:00Z
  constexpr std::int64_t kWindow = 720 * 3600;
  AdmissionContext context = served();
  context.now = kNow;

  // No audit source: nothing is known to be unused.
  AdmissionPlan plan = planAdmission(policy, context);
  EXPECT_EQ(variable(plan, "selected"), "params.metadata.name == variables.account && false");
  EXPECT_FALSE(plan.changesAt);
  // A new account is never unused: no mutating policy.
  EXPECT_EQ(kinds(plan).size(), 2u);
  EXPECT_NE(plan.noMutatingReason.find("unusedFor"), std::string::npos);

  // Observing for a day: not yet the whole window; looked at again when it is.
  context.observingSince = kNow - 86400;
  plan = planAdmission(policy, context);
  EXPECT_EQ(variable(plan, "selected"), "params.metadata.name == variables.account && false");
  EXPECT_EQ(plan.changesAt, context.observingSince + kWindow);

  // Covered: the cutoff's day against the annotation and the creation time.
  context.observingSince = kNow - kWindow - 3600;
  plan = planAdmission(policy, context);
  const std::string day = useDayOf(kNow - kWindow);
  EXPECT_EQ(day, "2026-11-07");
  EXPECT_EQ(variable(plan, "selected"),
            "params.metadata.name == variables.account && "
            "(string(params.metadata.creationTimestamp) < '2026-11-07T00:00:00Z' && "
            "!(has(params.metadata.annotations) && 'saguard.io/token-last-used' in "
            "params.metadata.annotations && "
            "params.metadata.annotations['saguard.io/token-last-used'] >= '2026-11-07'))");
  // The same all day; the next day's cutoff the day after.
  ASSERT_TRUE(plan.changesAt);
  EXPECT_EQ(useDayOf(*plan.changesAt - kWindow), "2026-11-08");
  EXPECT_EQ((*plan.changesAt - kWindow) % 86400, 0);
  context.now = *plan.changesAt - 1;
  EXPECT_EQ(planAdmission(policy, context).objects[0].object, plan.objects[0].object);
  context.now = *plan.changesAt;
  EXPECT_NE(planAdmission(policy, context).objects[0].object, plan.objects[0].object);
}

TEST(PolicyAdmission, TheRenderedHashFollowsEveryChange) {
  const AdmissionPlan a = planAdmission(parse("{}"), served());
  const AdmissionPlan same = planAdmission(parse("{}"), served());
  ASSERT_EQ(a.objects.size(), same.objects.size());
  for (std::size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].object, same.objects[i].object);
    EXPECT_EQ(a.objects[i]
                  .object["metadata"]["annotations"]["saguard.io/rendered-hash"]
                  .get<std::string>()
                  .size(),
              16u);
  }
  const AdmissionPlan deny = planAdmission(parse(R"({"admission":"Deny"})"), served());
  auto hash = [](const AdmissionPlan& plan, std::size_t i) {
    return plan.objects[i].object["metadata"]["annotations"]["saguard.io/rendered-hash"];
  };
  EXPECT_EQ(hash(a, 0), hash(deny, 0));  // the policy object did not change
  EXPECT_NE(hash(a, 1), hash(deny, 1));  // its binding did
}

TEST(PolicyAdmission, OwnedByThePolicyWhenItsUidIsKnown) {
  const AdmissionPlan owned = planAdmission(parse("{}", "p", "uid-1"), served());
  for (const auto& o : owned.objects) {
    EXPECT_EQ(o.object["metadata"]["ownerReferences"],
              json::parse(R"([{"apiVersion":"saguard.io/v1alpha1","kind":"ServiceAccountPolicy",
                  "name":"p","uid":"uid-1","controller":true}])"));
  }
  // From a file (saguard admission render): no uid, no owner.
  EXPECT_FALSE(planAdmission(parse("{}"), served())
                   .objects[0]
                   .object["metadata"]
                   .contains("ownerReferences"));
}

TEST(PolicyAdmission, LongPolicyNamesAreShortenedUniquely) {
  EXPECT_EQ(admissionObjectName("p"), "saguard-p");
  const std::string a(250, 'a');
  const std::string b = std::string(249, 'a') + "b";
  EXPECT_EQ(admissionObjectName(a).size(), 253u);
  EXPECT_NE(admissionObjectName(a), admissionObjectName(b));
  EXPECT_EQ(admissionObjectName(a).rfind("saguard-aaa", 0), 0u);
  EXPECT_EQ(admissionObjectName(std::string(245, 'a')).size(), 253u);  // fits: kept whole
}

TEST(PolicyAdmission, BoundAccountsReadsEverySubjectForm) {
  auto binding = [](bool cluster, const std::string& ns, std::vector<objects::Subject> subjects) {
    objects::Binding b;
    b.clusterScoped = cluster;
    b.meta.namespace_ = Symbol(ns);
    b.meta.setName("b");
    b.subjects = std::move(subjects);
    return b;
  };
  auto subject = [](const char* kind, const char* name, const char* ns = "") {
    return objects::Subject{Symbol(kind), Symbol(name), Symbol(ns)};
  };
  const objects::Binding rb =
      binding(false, "apps", {subject("ServiceAccount", "builder"), subject("User", "alice")});
  const objects::Binding crb = binding(true, "",
                                       {subject("ServiceAccount", "prom", "monitoring"),
                                        subject("Group", "system:serviceaccounts:shared"),
                                        subject("User", "system:serviceaccount:shared:x"),
                                        subject("User", "system:serviceaccount:ci:runner")});
  const objects::Binding* some[] = {&rb, &crb};
  const BoundAccounts bound = boundAccounts(some);
  EXPECT_FALSE(bound.all);
  EXPECT_EQ(bound.namespaces, std::vector<std::string>{"shared"});
  EXPECT_EQ(bound.accounts,
            (std::vector<std::string>{"apps/builder", "ci/runner", "monitoring/prom"}));

  objects::Binding everyone = binding(true, "", {subject("Group", "system:serviceaccounts")});
  everyone.meta.setName("read-everything");
  const objects::Binding* all[] = {&rb, &everyone};
  EXPECT_TRUE(boundAccounts(all).all);

  // The API server's own (system:service-account-issuer-discovery in every cluster)
  // counts as it does for accountIsBound(): not at all.
  objects::Binding builtin = binding(true, "", {subject("Group", "system:serviceaccounts")});
  builtin.meta.setName("system:service-account-issuer-discovery");
  builtin.roleRef = {Symbol("ClusterRole"), Symbol("system:service-account-issuer-discovery")};
  const objects::Binding* withBuiltin[] = {&rb, &builtin};
  EXPECT_FALSE(boundAccounts(withBuiltin).all);
  EXPECT_EQ(boundAccounts(withBuiltin).accounts, std::vector<std::string>{"apps/builder"});
}

}  // namespace
}  // namespace saguard::policy
