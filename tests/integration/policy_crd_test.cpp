// The ServiceAccountPolicy CRD against the real API server: it installs and becomes
// Established, the samples are accepted and defaulted, malformed policies are rejected
// by `kubectl apply` with a message naming the field, and what the schema lets through
// on purpose (label-key syntax) is caught by policy::parsePolicy. Every malformed
// policy is also checked against parsePolicy, so the two validators stay in step.
//
// Policies are applied with --dry-run=server where possible: the server validates and
// defaults them exactly as for a real create, and no cluster-scoped policy is left
// behind to select other tests' accounts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "integration/support/controlplane_env.h"
#include "policy/parse.h"

namespace saguard {
namespace {

using nlohmann::json;
using testing::controlPlane;
using testing::kubectl;

const std::string kCrdPath =
    std::string(SAGUARD_SOURCE_DIR) + "/crd/saguard.io_serviceaccountpolicies.yaml";
const std::string kSamples = std::string(SAGUARD_SOURCE_DIR) + "/manifests/samples/";

std::string describe(const testing::CommandResult& r) {
  return "exit " + std::to_string(r.exitCode) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class PolicyCrd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto applied = kubectl("apply -f " + kCrdPath);
    ASSERT_EQ(applied.exitCode, 0) << describe(applied);
    auto established = kubectl(
        "wait --for=condition=Established --timeout=60s crd/serviceaccountpolicies.saguard.io");
    ASSERT_EQ(established.exitCode, 0) << describe(established);
    // kubectl's discovery cache may lag the new resource by a moment.
    bool served = testing::eventually(30000, [] {
      return kubectl("get serviceaccountpolicies.saguard.io -o name").exitCode == 0;
    });
    ASSERT_TRUE(served) << "the API server never served serviceaccountpolicies";
  }

  // `kubectl apply --dry-run=server` of a JSON object: the server's answer.
  static testing::CommandResult dryRun(const json& object) {
    return kubectl("apply --dry-run=server -o json -f -", object.dump());
  }

  static json policy(const std::string& name, json spec) {
    return json{{"apiVersion", "saguard.io/v1alpha1"},
                {"kind", "ServiceAccountPolicy"},
                {"metadata", {{"name", name}}},
                {"spec", std::move(spec)}};
  }
};

TEST_F(PolicyCrd, DesignSampleIsAcceptedAsWritten) {
  auto r = kubectl("apply --dry-run=server -o json -f " + kSamples +
                   "saguard_v1alpha1_serviceaccountpolicy.yaml");
  ASSERT_EQ(r.exitCode, 0) << describe(r);
  auto parsed = policy::parsePolicy(std::string_view(r.out));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->name, "default-accounts-no-token");
  EXPECT_EQ(parsed->mode, policy::Mode::Enforce);
  ASSERT_TRUE(parsed->namespaces.selector.has_value());
  EXPECT_TRUE(parsed->namespaces.selector->empty());
  EXPECT_EQ(parsed->namespaces.exclude, std::vector<std::string>{"kube-*"});
  EXPECT_EQ(parsed->serviceAccounts.names, std::vector<std::string>{"default"});
  EXPECT_FALSE(parsed->serviceAccounts.unboundOnly);
  ASSERT_EQ(parsed->exemptions.size(), 1u);
  EXPECT_EQ(parsed->exemptions[0].namespaceGlob, "monitoring");
  EXPECT_EQ(parsed->exemptions[0].nameGlob, "prometheus");
  EXPECT_EQ(parsed->exemptions[0].reason, "reads pods and endpoints");
  EXPECT_TRUE(parsed->reportPods);
  EXPECT_TRUE(parsed->reportBindings);
}

TEST_F(PolicyCrd, AuditSampleIsAcceptedAndDefaulted) {
  auto r = kubectl("apply --dry-run=server -o json -f " + kSamples +
                   "saguard_v1alpha1_serviceaccountpolicy_audit.yaml");
  ASSERT_EQ(r.exitCode, 0) << describe(r);
  json object = json::parse(r.out);
  // The sample leaves these out: the server's defaults fill them in.
  EXPECT_EQ(object["spec"]["reportPods"], true);
  EXPECT_EQ(object["spec"]["reportBindings"], true);
  auto parsed = policy::parsePolicy(object);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->mode, policy::Mode::Audit);
  EXPECT_TRUE(parsed->serviceAccounts.unboundOnly);
  ASSERT_TRUE(parsed->namespaces.selector.has_value());
  EXPECT_EQ(parsed->namespaces.selector->matchLabels.size(), 1u);
  EXPECT_EQ(parsed->namespaces.selector->matchExpressions.size(), 1u);
  EXPECT_EQ(parsed->serviceAccounts.selector->matchExpressions.at(0).op,
            policy::SelectorOperator::DoesNotExist);
}

TEST_F(PolicyCrd, DefaultsOfAnEmptySpec) {
  auto r = dryRun(policy("crd-test-defaults", json{{"serviceAccounts", json::object()}}));
  ASSERT_EQ(r.exitCode, 0) << describe(r);
  json spec = json::parse(r.out)["spec"];
  EXPECT_EQ(spec["mode"], "Enforce");
  EXPECT_EQ(spec["admission"], "Warn");
  EXPECT_EQ(spec["reportPods"], true);
  EXPECT_EQ(spec["reportBindings"], true);
  EXPECT_EQ(spec["serviceAccounts"]["unboundOnly"], false);
  EXPECT_FALSE(spec.contains("namespaces"));  // omitted stays omitted: "every namespace"
}

TEST_F(PolicyCrd, UnknownFieldsAreRejectedByStrictValidation) {
  auto r = dryRun(policy("crd-test-unknown", json{{"mod", "Audit"}}));
  EXPECT_NE(r.exitCode, 0) << describe(r);
  EXPECT_NE(r.err.find("spec.mod"), std::string::npos) << describe(r);
}

struct Malformed {
  const char* what;
  json spec;          // null: the object has no spec at all
  std::string field;  // the path the API server's message and parsePolicy must both name
};

std::vector<Malformed> malformedPolicies() {
  json tooManyExcludes = json::array();
  for (int i = 0; i < 65; ++i) tooManyExcludes.push_back("ns-" + std::to_string(i));
  return {
      {"unknown mode", {{"mode", "Enforced"}}, "spec.mode"},
      {"mode of the wrong type", {{"mode", 1}}, "spec.mode"},
      {"unknown admission", {{"admission", "Block"}}, "spec.admission"},
      {"upper-case namespace glob",
       {{"namespaces", {{"exclude", {"Kube-*"}}}}},
       "spec.namespaces.exclude[0]"},
      {"empty namespace glob",
       {{"namespaces", {{"exclude", {"kube-*", ""}}}}},
       "spec.namespaces.exclude[1]"},
      {"duplicate namespace glob",
       {{"namespaces", {{"exclude", {"a", "a"}}}}},
       "spec.namespaces.exclude[1]"},
      {"too many namespace globs",
       {{"namespaces", {{"exclude", tooManyExcludes}}}},
       "spec.namespaces.exclude"},
      {"empty list of names",
       {{"serviceAccounts", {{"names", json::array()}}}},
       "spec.serviceAccounts.names"},
      {"account glob with '..'",
       {{"serviceAccounts", {{"names", {"a..b"}}}}},
       "spec.serviceAccounts.names[0]"},
      {"unboundOnly as a string",
       {{"serviceAccounts", {{"unboundOnly", "true"}}}},
       "spec.serviceAccounts.unboundOnly"},
      {"exemption without namespace",
       {{"exemptions", {{{"name", "prometheus"}}}}},
       "spec.exemptions[0].namespace"},
      {"exemption with empty name",
       {{"exemptions",
         {{{"namespace", "monitoring"}, {"name", "prometheus"}},
          {{"namespace", "monitoring"}, {"name", ""}}}}},
       "spec.exemptions[1].name"},
      {"exemption reason too long",
       {{"exemptions", {{{"namespace", "a"}, {"name", "b"}, {"reason", std::string(513, 'r')}}}}},
       "spec.exemptions[0].reason"},
      {"unknown selector operator",
       {{"namespaces",
         {{"selector",
           {{"matchExpressions",
             {{{"key", "tier"}, {"operator", "Equals"}, {"values", {"web"}}}}}}}}}},
       "spec.namespaces.selector.matchExpressions[0].operator"},
      {"In without values",
       {{"namespaces",
         {{"selector", {{"matchExpressions", {{{"key", "tier"}, {"operator", "In"}}}}}}}}},
       "spec.namespaces.selector.matchExpressions[0].values"},
      {"NotIn with an empty list",
       {{"serviceAccounts",
         {{"selector",
           {{"matchExpressions",
             {{{"key", "tier"}, {"operator", "NotIn"}, {"values", json::array()}}}}}}}}},
       "spec.serviceAccounts.selector.matchExpressions[0].values"},
      {"Exists with values",
       {{"serviceAccounts",
         {{"selector",
           {{"matchExpressions",
             {{{"key", "tier"}, {"operator", "Exists"}, {"values", {"x"}}}}}}}}}},
       "spec.serviceAccounts.selector.matchExpressions[0].values"},
      {"DoesNotExist with values",
       {{"namespaces",
         {{"selector",
           {{"matchExpressions",
             {{{"key", "a"}, {"operator", "DoesNotExist"}, {"values", {"x"}}}}}}}}}},
       "spec.namespaces.selector.matchExpressions[0].values"},
      {"expression without operator",
       {{"namespaces", {{"selector", {{"matchExpressions", {{{"key", "a"}}}}}}}}},
       "spec.namespaces.selector.matchExpressions[0].operator"},
      {"reportPods as a string", {{"reportPods", "yes"}}, "spec.reportPods"},
      {"no spec", nullptr, "spec"},
  };
}

TEST_F(PolicyCrd, MalformedPoliciesAreRejectedNamingTheField) {
  auto cases = malformedPolicies();
  ASSERT_GE(cases.size(), 10u);
  int index = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    json object = policy("crd-test-malformed-" + std::to_string(index++), c.spec);
    if (c.spec.is_null()) object.erase("spec");

    // A real apply (no dry run): nothing may be created.
    auto r = kubectl("apply -f -", object.dump());
    EXPECT_NE(r.exitCode, 0) << describe(r);
    // The API server's "field: Reason: detail" form, so that "spec" does not match "spec.mode".
    EXPECT_NE(r.err.find(c.field + ": "), std::string::npos)
        << "stderr does not name " << c.field << "\n"
        << describe(r);
    auto get = kubectl("get serviceaccountpolicy " + object["metadata"]["name"].get<std::string>());
    EXPECT_NE(get.exitCode, 0) << "the malformed policy was stored: " << describe(get);

    // The controller's own validation agrees and names the same field.
    auto parsed = policy::parsePolicy(object);
    ASSERT_FALSE(parsed.ok()) << "parsePolicy accepted what the API server rejects";
    bool named = false;
    for (const auto& cause : parsed.error().causes) named = named || cause.field == c.field;
    EXPECT_TRUE(named) << parsed.error().describe();
  }
}

// What the schema leaves to the controller: label-key syntax. The API server stores such
// a policy; parsePolicy rejects it naming the field (the reconciler's Ready=False,
// reason Invalid).
TEST_F(PolicyCrd, LabelKeySyntaxIsLeftToTheController) {
  const std::pair<json, std::string> cases[] = {
      {json{{"namespaces", {{"selector", {{"matchLabels", {{"bad key!", "x"}}}}}}}},
       "spec.namespaces.selector.matchLabels"},
      {json{{"serviceAccounts",
             {{"selector",
               {{"matchExpressions", {{{"key", "-leading-dash"}, {"operator", "Exists"}}}}}}}}},
       "spec.serviceAccounts.selector.matchExpressions[0].key"},
      {json{{"serviceAccounts",
             {{"selector",
               {{"matchExpressions",
                 {{{"key", "tier"}, {"operator", "In"}, {"values", {"not a value"}}}}}}}}}},
       "spec.serviceAccounts.selector.matchExpressions[0].values[0]"},
  };
  for (const auto& [spec, field] : cases) {
    SCOPED_TRACE(field);
    auto r = dryRun(policy("crd-test-controller-invalid", spec));
    ASSERT_EQ(r.exitCode, 0) << describe(r);
    auto parsed = policy::parsePolicy(std::string_view(r.out));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.kind(), ErrorKind::Invalid);
    ASSERT_FALSE(parsed.error().causes.empty());
    EXPECT_EQ(parsed.error().causes[0].field, field) << parsed.error().describe();
  }
}

// A stored policy: short name, printer columns, the status subresource and its schema.
TEST_F(PolicyCrd, ShortNameColumnsAndStatus) {
  const std::string name = "crd-test-columns";
  // Audit, and selecting only namespaces with a label no test sets: harmless to others.
  json object = policy(
      name,
      json{{"mode", "Audit"},
           {"namespaces", {{"selector", {{"matchLabels", {{"saguard.io/crd-test", "none"}}}}}}}});
  auto created = kubectl("apply -f -", object.dump());
  ASSERT_EQ(created.exitCode, 0) << describe(created);

  json status = {
      {"observedGeneration", 1},
      {"conditions",
       {{{"type", "Ready"},
         {"status", "True"},
         {"reason", "Reconciled"},
         {"message", "ok"},
         {"lastTransitionTime", "2025-01-01T00:00:00Z"},
         {"observedGeneration", 1}}}},
      {"summary",
       {{"selected", 7}, {"compliant", 5}, {"patched", 2}, {"podsWithToken", 3}, {"bindings", 1}}},
      {"findings",
       {{{"kind", "Pod"},
         {"namespace", "a"},
         {"name", "p"},
         {"reason", "TokenMounted"},
         {"message", "holds a token"}}}}};
  auto patched =
      kubectl("patch serviceaccountpolicy " + name + " --subresource=status --type=merge -p '" +
              json{{"status", status}}.dump() + "'");
  ASSERT_EQ(patched.exitCode, 0) << describe(patched);

  auto table = kubectl("get sap " + name);
  ASSERT_EQ(table.exitCode, 0) << describe(table);
  for (const char* column : {"NAME", "MODE", "ADMISSION", "SELECTED", "COMPLIANT",
                             "PODS WITH TOKEN", "BINDINGS", "READY", "AGE"}) {
    EXPECT_NE(table.out.find(column), std::string::npos) << column << "\n" << table.out;
  }
  // The row, in column order: NAME MODE ADMISSION SELECTED COMPLIANT PODS-WITH-TOKEN BINDINGS
  // READY AGE (spec.admission defaulted by the schema).
  std::istringstream row(table.out.substr(table.out.find('\n') + 1));
  std::vector<std::string> cells;
  for (std::string cell; row >> cell;) cells.push_back(cell);
  ASSERT_EQ(cells.size(), 9u) << table.out;
  EXPECT_EQ(cells[0], name);
  EXPECT_EQ(cells[1], "Audit");
  EXPECT_EQ(cells[2], "Warn");
  EXPECT_EQ(cells[3], "7");
  EXPECT_EQ(cells[4], "5");
  EXPECT_EQ(cells[5], "3");
  EXPECT_EQ(cells[6], "1");
  EXPECT_EQ(cells[7], "True");

  // The status schema: at most 100 findings, and the finding reasons are a fixed set.
  json tooMany = json::array();
  for (int i = 0; i < 101; ++i) {
    tooMany.push_back({{"kind", "Pod"},
                       {"namespace", "a"},
                       {"name", "p" + std::to_string(i)},
                       {"reason", "TokenMounted"},
                       {"message", "m"}});
  }
  auto rejected =
      kubectl("patch serviceaccountpolicy " + name + " --subresource=status --type=merge -p '" +
              json{{"status", {{"findings", tooMany}}}}.dump() + "'");
  EXPECT_NE(rejected.exitCode, 0) << describe(rejected);
  EXPECT_NE(rejected.err.find("status.findings"), std::string::npos) << describe(rejected);
  auto badReason =
      kubectl("patch serviceaccountpolicy " + name + " --subresource=status --type=merge -p '" +
              json{{"status",
                    {{"findings",
                      {{{"kind", "Pod"}, {"name", "p"}, {"reason", "Oops"}, {"message", "m"}}}}}}}
                  .dump() +
              "'");
  EXPECT_NE(badReason.exitCode, 0) << describe(badReason);
  EXPECT_NE(badReason.err.find("status.findings[0].reason"), std::string::npos)
      << describe(badReason);

  // Writes to the main resource do not touch status, and status writes do not touch spec.
  auto got = kubectl("get sap " + name + " -o json");
  ASSERT_EQ(got.exitCode, 0) << describe(got);
  json stored = json::parse(got.out);
  EXPECT_EQ(stored["status"]["summary"]["selected"], 7);
  EXPECT_EQ(stored["spec"]["mode"], "Audit");
  EXPECT_EQ(stored["metadata"]["generation"], 1);
  auto parsed = policy::parsePolicy(stored);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->generation, 1);
  EXPECT_FALSE(parsed->uid.empty());

  auto deleted = kubectl("delete sap " + name + " --wait=true");
  EXPECT_EQ(deleted.exitCode, 0) << describe(deleted);
}

}  // namespace
}  // namespace saguard
