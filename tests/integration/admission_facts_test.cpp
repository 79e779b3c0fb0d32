// The facts about native admission policies that saguard's `spec.admission` (issue 15)
// rests on, checked on the real kube-apiserver 1.34 of the shared control plane (started with
// SAGUARD_CP_MUTATING_ADMISSION=1: the MutatingAdmissionPolicy feature gate on and
// admissionregistration.k8s.io/v1beta1 served; tests/controlplane/up.sh). Every policy here
// is raw YAML applied with kubectl, not saguard's rendering: these tests check the API
// server, not saguard. The fact without the gate is tests/e2e/admission_fallback_test.cpp.
//
// Isolation: each test makes fresh namespaces, each with a label value of its own, and each
// policy matches only namespaces carrying that value (namespaceSelector), so the tests
// running beside it on the same API server never meet it. Policies are deleted at the end.
//
// A policy, a binding or a param reaches the API server's admission through an informer a
// moment after it is written. Each test therefore first polls with server-side dry runs
// (admission runs in full, nothing is stored) until the policy visibly acts, and only then
// makes the requests it asserts on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "integration/support/pod_token.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

constexpr char kCaseLabel[] = "admission-facts.saguard.io/case";
constexpr int kPolicyDelayMs = 30'000;  // a new policy, binding or param takes effect in time

// `text` with each `{{KEY}}` replaced by its value.
std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string marker = "{{" + key + "}}";
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
      text.replace(at, marker.size(), value);
      at += value.size();
    }
  }
  return text;
}

// Names are quoted: YAML 1.1 reads a bare `off`, `on` or `no` as a boolean.
std::string podYaml(const std::string& ns, const std::string& name, const std::string& account,
                    std::optional<bool> automount = std::nullopt) {
  std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"" + name +
                     "\"\n  namespace: \"" + ns + "\"\nspec:\n  serviceAccountName: \"" + account +
                     "\"\n";
  if (automount)
    yaml += std::string("  automountServiceAccountToken: ") + (*automount ? "true\n" : "false\n");
  return yaml + "  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n";
}

std::string accountYaml(const std::string& ns, const std::string& name,
                        std::optional<bool> automount = std::nullopt,
                        const std::string& labels = "") {
  std::string yaml = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"" + name +
                     "\"\n  namespace: \"" + ns + "\"\n";
  if (!labels.empty()) yaml += "  labels: " + labels + "\n";
  if (automount)
    yaml += std::string("automountServiceAccountToken: ") + (*automount ? "true\n" : "false\n");
  return yaml;
}

// What the API server answered to a create (or a server-side dry run of one).
struct Admission {
  CommandResult result;
  json object;  // the created object; null when it was refused

  bool admitted() const { return result.exitCode == 0 && object.is_object(); }
  // The text after "Warning: " of each warning kubectl printed on standard error.
  std::vector<std::string> warnings() const {
    std::vector<std::string> found;
    std::istringstream in(result.err);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Warning: ", 0) == 0) found.push_back(line.substr(9));
    }
    return found;
  }
};

Admission create(const std::string& yaml, bool dryRun = false) {
  Admission a;
  a.result =
      kubectl(std::string("create -o json ") + (dryRun ? "--dry-run=server " : "") + "-f -", yaml);
  if (a.result.exitCode == 0) a.object = json::parse(a.result.out, nullptr, false);
  return a;
}

// What kubectl prints for a Warn action of policy `name` bound by a binding of the same name.
std::string warnLine(const std::string& name, const std::string& message) {
  return "Validation failed for ValidatingAdmissionPolicy '" + name + "' with binding '" + name +
         "': " + message;
}

// The param names of warnings that policy `name` (Warn, messageExpression "'param ' + NAME")
// gave.
std::set<std::string> warnedParams(const Admission& a, const std::string& name) {
  std::set<std::string> params;
  const std::string prefix = warnLine(name, "param ");
  for (const auto& w : a.warnings()) {
    if (w.rfind(prefix, 0) == 0) params.insert(w.substr(prefix.size()));
  }
  return params;
}

class AdmissionFacts : public ::testing::Test {
 protected:
  // A fresh namespace labelled kCaseLabel=<a value of its own>, whose `default` account
  // exists (the ServiceAccount plugin refuses pods until it does).
  struct Case {
    std::string ns;
    std::string value;  // the label value: `{{CASE}}` in policy templates
  };
  Case newCase(const std::string& prefix) {
    const std::string value = prefix + "-" + randomSuffix();
    Case c{.ns = freshNamespace(prefix, {{kCaseLabel, value}}), .value = value};
    if (!eventually(kPolicyDelayMs, [&] {
          return kubectl("get serviceaccount default -n " + c.ns).exitCode == 0;
        })) {
      throw std::runtime_error("namespace " + c.ns + " got no default ServiceAccount");
    }
    return c;
  }

  // Applies admission objects (kubectl apply), deleted again in TearDown.
  void applyPolicy(const std::string& yaml) {
    applied_.push_back(yaml);
    auto r = kubectl("apply -f -", yaml);
    ASSERT_EQ(r.exitCode, 0) << r.err << "\n" << yaml;
  }

  void TearDown() override {
    for (const auto& yaml : applied_) {
      auto r = kubectl("delete --ignore-not-found -f -", yaml);
      EXPECT_EQ(r.exitCode, 0) << "could not delete a policy of this test: " << r.err;
    }
  }

 private:
  std::vector<std::string> applied_;
};

// The facts that need MutatingAdmissionPolicy served (SAGUARD_CP_MUTATING_ADMISSION=1).
class AdmissionFactsMutating : public AdmissionFacts {
 protected:
  void SetUp() override {
    if (!controlPlane().mutatingAdmission) {
      GTEST_SKIP() << "the control plane in " << controlPlane().dir
                   << " was started without SAGUARD_CP_MUTATING_ADMISSION=1";
    }
  }
};

// A MutatingAdmissionPolicy on Pods (CREATE) of a case's namespace that sets the pod's own
// automountServiceAccountToken to false. {{NAME}}, {{CASE}}, {{REINVOCATION}}.
constexpr char kPodMutation[] = R"(apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: "{{NAME}}"}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
    namespaceSelector:
      matchLabels: {admission-facts.saguard.io/case: "{{CASE}}"}
  failurePolicy: Fail
  reinvocationPolicy: {{REINVOCATION}}
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{spec: Object.spec{automountServiceAccountToken: false}}"
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: "{{NAME}}"}
spec:
  policyName: "{{NAME}}"
)";

// (a) The ServiceAccount admission plugin runs before mutating admission policies: a policy
// that turns the pod's own field off does run (the stored pod says false), but the token
// volume is already in, and stays. With reinvocationPolicy IfNeeded (the chain's in-tree
// plugins run a second time) too.
TEST_F(AdmissionFactsMutating, ServiceAccountPluginRunsBeforeMutatingPolicies) {
  for (const std::string reinvocation : {"Never", "IfNeeded"}) {
    SCOPED_TRACE("reinvocationPolicy " + reinvocation);
    Case c = newCase("facts-pod-mutation");
    const std::string name = c.value;
    applyPolicy(
        fill(kPodMutation, {{"NAME", name}, {"CASE", c.value}, {"REINVOCATION", reinvocation}}));

    ASSERT_TRUE(eventually(
        kPolicyDelayMs,
        [&] {
          auto probe = create(podYaml(c.ns, "probe", "default"), /*dryRun=*/true);
          return probe.admitted() &&
                 probe.object["spec"].value("automountServiceAccountToken", true) == false;
        }))
        << "the MutatingAdmissionPolicy never acted on a pod in " << c.ns;

    auto pod = create(podYaml(c.ns, "bare", "default"));
    ASSERT_TRUE(pod.admitted()) << pod.result.err;
    EXPECT_EQ(pod.object["spec"].value("automountServiceAccountToken", true), false)
        << "the policy ran: the stored pod has the field it set";
    EXPECT_TRUE(hasProjectedTokenVolume(pod.object))
        << "the token volume is kept out after all: " << pod.object["spec"].dump(2);
    bool apiAccess = false;
    for (const auto& v : pod.object["spec"].value("volumes", json::array())) {
      apiAccess |= v.value("name", "").rfind("kube-api-access-", 0) == 0;
    }
    EXPECT_TRUE(apiAccess) << pod.object["spec"].dump(2);
  }
}

// A MutatingAdmissionPolicy on ServiceAccounts (CREATE) of a case's namespace: the account's
// automountServiceAccountToken false. {{NAME}}, {{CASE}}.
constexpr char kAccountMutation[] = R"(apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: "{{NAME}}"}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [serviceaccounts]}
    namespaceSelector:
      matchLabels: {admission-facts.saguard.io/case: "{{CASE}}"}
  failurePolicy: Fail
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{automountServiceAccountToken: false}"
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: "{{NAME}}"}
spec:
  policyName: "{{NAME}}"
)";

// (b) Mutating the account at its CREATE closes the race: a pod applied right after its
// account, in the same `kubectl apply -f` of a two-document file, gets no token. Five rounds,
// each a new account and pod.
TEST_F(AdmissionFactsMutating,
       MutatingPolicyOnAccountCreateKeepsTheTokenFromAPodAppliedRightAfter) {
  Case c = newCase("facts-account-mutation");
  applyPolicy(fill(kAccountMutation, {{"NAME", c.value}, {"CASE", c.value}}));
  ASSERT_TRUE(eventually(kPolicyDelayMs,
                         [&] {
                           auto probe = create(accountYaml(c.ns, "probe"), /*dryRun=*/true);
                           return probe.admitted() &&
                                  probe.object.value("automountServiceAccountToken", true) == false;
                         }))
      << "the MutatingAdmissionPolicy never acted on an account in " << c.ns;

  for (int round = 0; round < 5; ++round) {
    const std::string account = "app-" + std::to_string(round);
    const std::string pod = "web-" + std::to_string(round);
    auto applied =
        kubectl("apply -f -", accountYaml(c.ns, account) + "---\n" + podYaml(c.ns, pod, account));
    ASSERT_EQ(applied.exitCode, 0) << applied.err;
    auto sa = kubectl("get serviceaccount " + account + " -n " + c.ns + " -o json");
    ASSERT_EQ(sa.exitCode, 0) << sa.err;
    EXPECT_EQ(json::parse(sa.out).value("automountServiceAccountToken", true), false)
        << account << " was stored without the field the policy sets";
    auto got = kubectl("get pod " + pod + " -n " + c.ns + " -o json");
    ASSERT_EQ(got.exitCode, 0) << got.err;
    json stored = json::parse(got.out);
    EXPECT_FALSE(hasProjectedTokenVolume(stored))
        << pod << " got a token although its account was created with the field false: "
        << stored["spec"].dump(2);
  }
}

// A ValidatingAdmissionPolicy (Deny) on Pods (CREATE) of a case's namespace: no projected
// serviceAccountToken source. {{NAME}}, {{CASE}}.
constexpr char kNoTokenVolume[] = R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: "{{NAME}}"}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
    namespaceSelector:
      matchLabels: {admission-facts.saguard.io/case: "{{CASE}}"}
  validations:
  - expression: >-
      !has(object.spec.volumes) || !object.spec.volumes.exists(v,
        has(v.projected) && has(v.projected.sources) &&
        v.projected.sources.exists(s, has(s.serviceAccountToken)))
    message: "{{MESSAGE}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: "{{NAME}}"}
spec:
  policyName: "{{NAME}}"
  validationActions: [{{ACTION}}]
)";

// (c) Validating policies run after all mutation: a pod that sets no field at all (no
// volumes, no automount) is denied for the token volume the ServiceAccount plugin injected;
// one with automountServiceAccountToken: false gets none and is admitted.
TEST_F(AdmissionFacts, ValidatingPolicySeesTheInjectedTokenVolume) {
  Case c = newCase("facts-validating");
  const std::string message = "pod holds a service-account token (" + c.value + ")";
  applyPolicy(
      fill(kNoTokenVolume,
           {{"NAME", c.value}, {"CASE", c.value}, {"MESSAGE", message}, {"ACTION", "Deny"}}));
  const std::string denial = "ValidatingAdmissionPolicy '" + c.value + "' with binding '" +
                             c.value + "' denied request: " + message;
  ASSERT_TRUE(eventually(
      kPolicyDelayMs,
      [&] {
        return contains(create(podYaml(c.ns, "probe", "default"), /*dryRun=*/true).result.err,
                        denial);
      }))
      << "the ValidatingAdmissionPolicy never denied a pod in " << c.ns;

  auto bare = create(podYaml(c.ns, "bare", "default"));
  EXPECT_FALSE(bare.admitted()) << "a pod without any field set was admitted";
  EXPECT_TRUE(contains(bare.result.err, denial)) << bare.result.err;
  EXPECT_NE(kubectl("get pod bare -n " + c.ns).exitCode, 0);

  auto off = create(podYaml(c.ns, "off", "default", false));
  ASSERT_TRUE(off.admitted()) << off.result.err;
  EXPECT_FALSE(hasProjectedTokenVolume(off.object)) << off.object["spec"].dump(2);
}

// A ValidatingAdmissionPolicy whose params are ServiceAccounts: `{{EXPRESSION}}` over
// `params` and `object`, message from `{{MESSAGE_EXPRESSION}}`; the binding's paramRef
// selector `{{SELECTOR}}` with parameterNotFoundAction Allow. {{NAME}}, {{CASE}}, {{ACTION}}.
constexpr char kAccountParams[] = R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: "{{NAME}}"}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ServiceAccount}
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
    namespaceSelector:
      matchLabels: {admission-facts.saguard.io/case: "{{CASE}}"}
  validations:
  - expression: "{{EXPRESSION}}"
    messageExpression: "{{MESSAGE_EXPRESSION}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: "{{NAME}}"}
spec:
  policyName: "{{NAME}}"
  validationActions: [{{ACTION}}]
  paramRef:
    selector: {{SELECTOR}}
    parameterNotFoundAction: Allow
)";

// Fails for every param: one Warn per param names it ("param NAME").
const std::vector<std::pair<std::string, std::string>> kEveryParam = {
    {"EXPRESSION", "false"}, {"MESSAGE_EXPRESSION", "'param ' + params.metadata.name"}};

// Fails for the pod's own account when that account says false and the pod says true: the
// rule saguard's Deny needs (the pod's field wins over the account's, so only the pod's own
// true can override an account that is off).
const std::vector<std::pair<std::string, std::string>> kOwnAccountOverride = {
    {"EXPRESSION",
     "params.metadata.name != object.spec.serviceAccountName || "
     "!has(params.automountServiceAccountToken) || params.automountServiceAccountToken || "
     "!has(object.spec.automountServiceAccountToken) || "
     "!object.spec.automountServiceAccountToken"},
    {"MESSAGE_EXPRESSION", "'account ' + params.metadata.name + ' is off; the pod turns it on'"}};

std::vector<std::pair<std::string, std::string>> with(
    std::vector<std::pair<std::string, std::string>> vars,
    const std::vector<std::pair<std::string, std::string>>& more) {
  vars.insert(vars.end(), more.begin(), more.end());
  return vars;
}

// (d) paramKind ServiceAccount with `paramRef: {selector: {}, parameterNotFoundAction: Allow}`:
// the policy is evaluated once per ServiceAccount of the request's namespace (one warning
// each, no account of another namespace), so comparing params.metadata.name with the pod's
// serviceAccountName reads the pod's own account.
TEST_F(AdmissionFacts, AccountParamsAreEveryAccountOfTheRequestNamespace) {
  Case c = newCase("facts-params");
  auto made = kubectl(
      "apply -f -", accountYaml(c.ns, "acct-off", false) + "---\n" + accountYaml(c.ns, "acct-on"));
  ASSERT_EQ(made.exitCode, 0) << made.err;
  const std::string every = c.value + "-every";
  const std::string own = c.value + "-own";
  applyPolicy(
      fill(kAccountParams,
           with({{"NAME", every}, {"CASE", c.value}, {"ACTION", "Warn"}, {"SELECTOR", "{}"}},
                kEveryParam)));
  applyPolicy(fill(kAccountParams,
                   with({{"NAME", own}, {"CASE", c.value}, {"ACTION", "Deny"}, {"SELECTOR", "{}"}},
                        kOwnAccountOverride)));

  const std::set<std::string> accounts = {"default", "acct-off", "acct-on"};
  std::set<std::string> params;
  ASSERT_TRUE(eventually(kPolicyDelayMs,
                         [&] {
                           params = warnedParams(
                               create(podYaml(c.ns, "probe", "acct-on"), /*dryRun=*/true), every);
                           return params == accounts;
                         }))
      << "params seen: " << ::testing::PrintToString(params);
  const std::string ownDenial = "ValidatingAdmissionPolicy '" + own + "' with binding '" + own +
                                "' denied request: account acct-off is off; the pod turns it on";
  ASSERT_TRUE(eventually(kPolicyDelayMs, [&] {
    return contains(create(podYaml(c.ns, "probe", "acct-off", true), /*dryRun=*/true).result.err,
                    ownDenial);
  })) << "the policy over the pod's own account never denied";

  auto overrides = create(podYaml(c.ns, "overrides", "acct-off", true));
  EXPECT_FALSE(overrides.admitted());
  EXPECT_TRUE(contains(overrides.result.err, ownDenial)) << overrides.result.err;

  for (const auto& [pod, account, automount] :
       std::vector<std::tuple<std::string, std::string, std::optional<bool>>>{
           {"on-true", "acct-on", true},
           {"off-unset", "acct-off", std::nullopt},
           {"off-false", "acct-off", false},
           {"default-true", "default", true}}) {
    auto admitted = create(podYaml(c.ns, pod, account, automount));
    EXPECT_TRUE(admitted.admitted()) << pod << ": " << admitted.result.err;
    EXPECT_EQ(warnedParams(admitted, every), accounts) << pod << ": one evaluation per account";
  }
}

// (d) A paramRef selector on labels: only the labelled accounts are params; a pod overriding
// an unlabelled account that is off is admitted, one overriding a labelled one denied.
TEST_F(AdmissionFacts, ParamSelectorOnLabelsKeepsOnlyLabelledAccounts) {
  Case c = newCase("facts-param-labels");
  // The unlabelled account first: once the param informer has the labelled one, it has seen
  // the other (one watch, in order).
  auto made = kubectl("apply -f -", accountYaml(c.ns, "plain-off", false) + "---\n" +
                                        accountYaml(c.ns, "marked-off", false,
                                                    "{admission-facts.saguard.io/param: \"yes\"}"));
  ASSERT_EQ(made.exitCode, 0) << made.err;
  const std::string selector = "{matchLabels: {admission-facts.saguard.io/param: \"yes\"}}";
  const std::string every = c.value + "-every";
  const std::string own = c.value + "-own";
  applyPolicy(
      fill(kAccountParams,
           with({{"NAME", every}, {"CASE", c.value}, {"ACTION", "Warn"}, {"SELECTOR", selector}},
                kEveryParam)));
  applyPolicy(
      fill(kAccountParams,
           with({{"NAME", own}, {"CASE", c.value}, {"ACTION", "Deny"}, {"SELECTOR", selector}},
                kOwnAccountOverride)));

  const std::string ownDenial = "ValidatingAdmissionPolicy '" + own + "' with binding '" + own +
                                "' denied request: account marked-off is off; the pod turns it on";
  ASSERT_TRUE(eventually(kPolicyDelayMs, [&] {
    return contains(create(podYaml(c.ns, "probe", "marked-off", true), /*dryRun=*/true).result.err,
                    ownDenial);
  })) << "the policy over the labelled account never denied";

  auto plain = create(podYaml(c.ns, "plain-true", "plain-off", true));
  EXPECT_TRUE(plain.admitted()) << "an unlabelled account was a param: " << plain.result.err;
  EXPECT_EQ(warnedParams(plain, every), std::set<std::string>{"marked-off"});
  auto marked = create(podYaml(c.ns, "marked-true", "marked-off", true));
  EXPECT_FALSE(marked.admitted());
  EXPECT_TRUE(contains(marked.result.err, ownDenial)) << marked.result.err;
}

// A ValidatingAdmissionPolicy (Deny) whose expression errors when the pod does not set
// automountServiceAccountToken (no has()): "no such key". {{NAME}}, {{CASE}}, {{FAILURE}}.
constexpr char kErroring[] = R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: "{{NAME}}"}
spec:
  failurePolicy: {{FAILURE}}
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
    namespaceSelector:
      matchLabels: {admission-facts.saguard.io/case: "{{CASE}}"}
  validations:
  - expression: "object.spec.automountServiceAccountToken == true"
    message: "evaluated to false"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: "{{NAME}}"}
spec:
  policyName: "{{NAME}}"
  validationActions: [Deny]
)";

// (e) failurePolicy decides what an expression that errors at run time does: Fail denies
// (saying which expression and why), Ignore admits. Whether the policy is in force is first
// seen on a pod whose field is false (the expression evaluates, to false: denied, both ways).
TEST_F(AdmissionFacts, FailurePolicyDecidesWhatAnErroringExpressionDoes) {
  for (const std::string failure : {"Fail", "Ignore"}) {
    SCOPED_TRACE("failurePolicy " + failure);
    Case c = newCase("facts-failure");
    applyPolicy(fill(kErroring, {{"NAME", c.value}, {"CASE", c.value}, {"FAILURE", failure}}));
    ASSERT_TRUE(eventually(
        kPolicyDelayMs,
        [&] {
          return contains(
              create(podYaml(c.ns, "probe", "default", false), /*dryRun=*/true).result.err,
              "ValidatingAdmissionPolicy '" + c.value + "' with binding '" + c.value +
                  "' denied request: evaluated to false");
        }))
        << "the policy never denied a pod in " << c.ns;

    auto unset = create(podYaml(c.ns, "unset", "default"));
    if (failure == "Fail") {
      EXPECT_FALSE(unset.admitted());
      EXPECT_TRUE(contains(
          unset.result.err,
          "expression 'object.spec.automountServiceAccountToken == true' resulted in error: no "
          "such key: automountServiceAccountToken"))
          << unset.result.err;
    } else {
      EXPECT_TRUE(unset.admitted()) << unset.result.err;
    }
  }
}

// (f) validationActions [Warn]: the pod is created and kubectl prints the message on standard
// error as "Warning: Validation failed for ValidatingAdmissionPolicy 'P' with binding 'B':
// MESSAGE".
TEST_F(AdmissionFacts, WarnActionPrintsAWarningAndAdmits) {
  Case c = newCase("facts-warn");
  const std::string message = "pod holds a service-account token (" + c.value + ")";
  applyPolicy(
      fill(kNoTokenVolume,
           {{"NAME", c.value}, {"CASE", c.value}, {"MESSAGE", message}, {"ACTION", "Warn"}}));
  const std::string line = "Warning: " + warnLine(c.value, message) + "\n";
  ASSERT_TRUE(
      eventually(kPolicyDelayMs,
                 [&] {
                   return contains(
                       create(podYaml(c.ns, "probe", "default"), /*dryRun=*/true).result.err, line);
                 }))
      << "the policy never warned in " << c.ns;

  auto warned = create(podYaml(c.ns, "warned", "default"));
  ASSERT_TRUE(warned.admitted()) << warned.result.err;
  EXPECT_EQ(warned.result.err, line);
  EXPECT_TRUE(hasProjectedTokenVolume(warned.object));
  EXPECT_EQ(kubectl("get pod warned -n " + c.ns).exitCode, 0);
}

}  // namespace
}  // namespace saguard::testing
