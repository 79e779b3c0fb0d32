// `saguard admission render`: the YAML it prints reads back as exactly the objects the
// controller keeps, and bad input says what is wrong and where.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "admission/render_command.h"
#include "audit/manifest.h"
#include "policy/admission.h"
#include "policy/parse.h"

namespace saguard::admission {
namespace {

using nlohmann::json;

struct Rendered {
  int code;
  std::string out, err;
};

Rendered render(std::vector<std::string> args, const std::string& stdinText) {
  std::istringstream in(stdinText);
  std::ostringstream out, err;
  args.insert(args.begin(), "render");
  const int code = runAdmission(args, in, out, err);
  return {code, out.str(), err.str()};
}

constexpr const char* kPolicies = R"(# two policies and something else
apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata:
  name: defaults
spec:
  admission: Deny
  namespaces:
    selector: {matchLabels: {team: "true"}}
    exclude: ["kube-*"]
  serviceAccounts:
    names: ["default", "build-*", "a.b*c"]
  exemptions:
    - {namespace: "mon*", name: prom, reason: "it's needed"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata: {name: quiet}
spec: {admission: None}
)";

TEST(AdmissionRender, PrintsWhatThePlanHoldsAsYamlThatReadsBack) {
  Rendered run = render({"-f", "-", "--mutating"}, kPolicies);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.err.find("quiet: admission None"), std::string::npos) << run.err;

  std::vector<json> printed;
  audit::ManifestSet set = audit::readManifests({"out", run.out});
  ASSERT_TRUE(set.errors.empty());
  for (const audit::Document& doc : set.documents) {
    auto object = audit::toJson(doc.root);
    ASSERT_TRUE(object.ok());
    printed.push_back(*object);
  }

  policy::AdmissionContext context;
  context.selfNamespace = "saguard-system";
  context.mutatingServed = true;
  auto parsed = policy::parsePolicy(
      json{{"metadata", {{"name", "defaults"}}},
           {"spec", json::parse(R"({"admission":"Deny","namespaces":{"selector":{"matchLabels":
          {"team":"true"}},"exclude":["kube-*"]},"serviceAccounts":{"names":["default","build-*",
          "a.b*c"]},"exemptions":[{"namespace":"mon*","name":"prom","reason":"it's needed"}]})")}});
  ASSERT_TRUE(parsed.ok());
  const policy::AdmissionPlan plan = policy::planAdmission(*parsed, context);
  ASSERT_EQ(printed.size(), plan.objects.size());
  for (std::size_t i = 0; i < printed.size(); ++i) {
    // Strings that look like YAML booleans ("true") and backslashes survive the trip.
    json expected = plan.objects[i].object;
    expected["metadata"]["annotations"].erase("saguard.io/policy");  // not the controller's
    EXPECT_EQ(printed[i], expected) << plan.objects[i].kind;
  }
}

TEST(AdmissionRender, WithoutMutatingOnlyTheValidatingPair) {
  Rendered run = render({"-f", "-"}, kPolicies);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("kind: ValidatingAdmissionPolicyBinding"), std::string::npos);
  EXPECT_EQ(run.out.find("MutatingAdmissionPolicy"), std::string::npos);
}

TEST(AdmissionRender, SaysWhatAFileCannotShow) {
  Rendered run = render({"-f", "-"}, R"(
apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata: {name: careful}
spec:
  serviceAccounts: {unboundOnly: true, unusedFor: 720h}
)");
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.err.find("careful: unboundOnly depends on the cluster's RBAC bindings"),
            std::string::npos);
  EXPECT_NE(run.err.find("careful: unusedFor depends on evidence of use"), std::string::npos);
}

TEST(AdmissionRender, BadInputNamesTheFieldAndPrintsNothing) {
  Rendered invalid = render({"-f", "-"}, R"(apiVersion: saguard.io/v1alpha1
kind: ServiceAccountPolicy
metadata: {name: broken}
spec: {admission: Block}
)");
  EXPECT_EQ(invalid.code, 1);
  EXPECT_TRUE(invalid.out.empty());
  EXPECT_NE(invalid.err.find("<stdin>:1:"), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("spec.admission: Unsupported value: \"Block\""), std::string::npos)
      << invalid.err;

  Rendered malformed = render({"-f", "-"}, "kind: [unclosed\n");
  EXPECT_EQ(malformed.code, 1);
  EXPECT_TRUE(malformed.out.empty());

  Rendered none = render({"-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("no ServiceAccountPolicy"), std::string::npos);

  EXPECT_EQ(render({}, "").code, 2);
  EXPECT_EQ(render({"-f", "/nonexistent/policy.yaml"}, "").code, 2);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(runAdmission({"apply"}, in, out, err), 2);
  EXPECT_NE(err.str().find("render"), std::string::npos);
}

}  // namespace
}  // namespace saguard::admission
