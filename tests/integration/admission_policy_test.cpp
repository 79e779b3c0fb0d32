// The admission objects saguard keeps (policy/admission.h, admission/api_keeper.h),
// asked of the real API server: exactly which pod creates a Deny or a Warn policy
// refuses or warns about, what a Deployment's pods meet, and that the keeper writes only
// what changed, never an object that is not its own, and is cleaned up after its policy.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admission/api_keeper.h"
#include "codec/decoder.h"
#include "integration/support/admin_client.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "policy/admission.h"
#include "policy/parse.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

policy::Policy parsePolicy(const json& object) {
  auto parsed = policy::parsePolicy(object);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe());
  return parsed.ok() ? *parsed : policy::Policy{};
}

// A policy over the namespaces labelled saguard-test-admission=<id> only, so tests running
// beside this one never meet it.
json policyObject(const std::string& name, const std::string& id, const json& spec) {
  json s = spec;
  s["namespaces"]["selector"]["matchLabels"]["saguard-test-admission"] = id;
  return {{"apiVersion", "saguard.io/v1alpha1"},
          {"kind", "ServiceAccountPolicy"},
          {"metadata", {{"name", name}}},
          {"spec", s}};
}

policy::AdmissionPlan planFor(const policy::Policy& p, kube::Client& client) {
  admission::ApiKeeper probe(client, {});
  policy::AdmissionContext context;
  context.selfNamespace = "saguard-system";
  context.mutatingServed = probe.mutatingServed();
  return policy::planAdmission(p, context);
}

const char* fieldText(int field) {
  return field == 0 ? "unset" : field == 1 ? "true" : "false";
}

std::string accountYaml(const std::string& ns, const std::string& name, int field) {
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata", {{"name", name}, {"namespace", ns}}}};
  if (field != 0) sa["automountServiceAccountToken"] = field == 1;
  return sa.dump();
}

json podObject(const std::string& ns, const std::string& name, const std::string& account,
               int field) {
  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec",
       {{"serviceAccountName", account},
        {"containers", json::array({{{"name", "c"}, {"image", "registry.k8s.io/pause"}}})}}}};
  if (field != 0) pod["spec"]["automountServiceAccountToken"] = field == 1;
  return pod;
}

// A server-side dry run: admission runs in full (the validating policies too), nothing
// is stored.
CommandResult dryRunCreate(const json& object) {
  return kubectl("create --dry-run=server -f -", object.dump());
}

std::string cleanupAll(const std::string& name) {
  std::string out;
  for (const char* kind : {"validatingadmissionpolicybinding", "validatingadmissionpolicy",
                           "mutatingadmissionpolicybinding", "mutatingadmissionpolicy"}) {
    out += kubectl(std::string("delete --ignore-not-found ") + kind + " " + name).err;
  }
  return out;
}

class AdmissionPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    id_ = randomSuffix();
    ns_ = freshNamespace("adm", {{"saguard-test-admission", id_}});
  }
  void TearDown() override {
    for (const std::string& name : kept_) cleanupAll(name);
  }
  // Keeps `object`'s plan through a fresh keeper; returns the keeper's writes.
  std::size_t keep(const json& object) {
    const policy::Policy p = parsePolicy(object);
    admission::ApiKeeper keeper(*client_, {});
    Status st = keeper.keep(p.name, planFor(p, *client_));
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().describe());
    kept_.push_back(policy::admissionObjectName(p.name));
    return keeper.writes();
  }

  std::unique_ptr<kube::Client> client_;
  std::string id_, ns_;
  std::vector<std::string> kept_;
};

// pod field {unset, true, false} x account field {unset, true, false} x the account
// selected / exempt / not selected, under Deny and under Warn: a create is refused (Deny)
// or warned about (Warn) exactly when the pod would hold the token of a selected account.
TEST_F(AdmissionPolicyTest, TableOfPodFieldAccountFieldSelectionAndAction) {
  const char* kinds[] = {"sel", "ex", "other"};
  for (int a = 0; a < 3; ++a) {
    for (const char* kind : kinds) {
      const std::string name = std::string(kind) + "-" + fieldText(a);
      ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, name, a)).exitCode, 0) << name;
    }
  }
  for (const char* action : {"Deny", "Warn"}) {
    SCOPED_TRACE(action);
    std::string lower = action;
    lower[0] = static_cast<char>(std::tolower(lower[0]));
    const json object =
        policyObject("adm-table-" + id_ + "-" + lower, id_,
                     {{"admission", action},
                      {"serviceAccounts", {{"names", {"sel-*", "ex-*"}}}},
                      {"exemptions", json::array({{{"namespace", "*"}, {"name", "ex-*"}}})}});
    keep(object);
    // The API server takes its policies from an informer: wait until this one acts.
    const json probe = podObject(ns_, "probe", "sel-unset", 0);
    ASSERT_TRUE(eventually(30'000, [&] {
      CommandResult r = dryRunCreate(probe);
      return contains(r.err, "ServiceAccountPolicy adm-table-");
    })) << "the policy never took effect";

    int refused = 0, warned = 0;
    for (int p = 0; p < 3; ++p) {
      for (int a = 0; a < 3; ++a) {
        for (const char* kind : kinds) {
          const std::string account = std::string(kind) + "-" + fieldText(a);
          const std::string pod = std::string("p-") + fieldText(p) + "-" + account;
          SCOPED_TRACE("pod " + std::string(fieldText(p)) + ", account " + account);
          const bool token = p == 1 || (p == 0 && a != 2);
          const bool hit = token && std::string(kind) == "sel";
          CommandResult r = dryRunCreate(podObject(ns_, pod, account, p));
          const bool denied = r.exitCode != 0;
          const bool warning =
              contains(r.err, "Warning:") && contains(r.err, "ServiceAccountPolicy");
          if (std::string(action) == "Deny") {
            EXPECT_EQ(denied, hit) << r.out << r.err;
            EXPECT_FALSE(warning) << r.err;
            if (denied) {
              ++refused;
              EXPECT_TRUE(contains(r.err, "ServiceAccount " + ns_ + "/" + account)) << r.err;
              EXPECT_TRUE(contains(r.err, "Fix:")) << r.err;
              EXPECT_EQ(contains(r.err, "the pod sets automountServiceAccountToken: true"), p == 1)
                  << r.err;
            }
          } else {
            EXPECT_EQ(r.exitCode, 0) << r.err;
            EXPECT_EQ(warning, hit) << r.err;
            warned += warning ? 1 : 0;
          }
        }
      }
    }
    // pod true: 3 account fields; pod unset: account unset or true: 2. Selected only.
    EXPECT_EQ(std::string(action) == "Deny" ? refused : warned, 5);
    // Gone before the next action's turn (an empty plan deletes them), and out of effect.
    admission::ApiKeeper keeper(*client_, {});
    ASSERT_TRUE(keeper.keep(parsePolicy(object).name, policy::AdmissionPlan{}).ok());
    ASSERT_TRUE(eventually(30'000, [&] {
      CommandResult r = dryRunCreate(probe);
      return r.exitCode == 0 && !contains(r.err, "ServiceAccountPolicy");
    })) << "the deleted policy kept acting";
  }
}

// unboundOnly at admission: saguard hands over the accounts the cluster's real bindings
// name (here read through the same decoder as saguard's caches, with the API server's
// own bootstrap bindings among them): a pod of an account a RoleBinding names is
// admitted, one of an unbound account refused.
TEST_F(AdmissionPolicyTest, UnboundOnlyLeavesBoundAccountsAlone) {
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "bound-one", 0)).exitCode, 0);
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "lonely", 0)).exitCode, 0);
  ASSERT_EQ(kubectl("-n " + ns_ + " create rolebinding reads --clusterrole=view --serviceaccount=" +
                    ns_ + ":bound-one")
                .exitCode,
            0);
  std::vector<objects::Binding> bindings;
  codec::Decoder decoder;
  auto roleBindings = client_->list(kube::resources::kRoleBindings, "");
  auto clusterRoleBindings = client_->list(kube::resources::kClusterRoleBindings, "");
  ASSERT_TRUE(roleBindings.ok() && clusterRoleBindings.ok());
  auto rb = decoder.list<codec::Kind::RoleBinding>(*roleBindings);
  ASSERT_TRUE(rb.ok());
  for (auto& b : rb->items) bindings.push_back(std::move(b));
  auto crb = decoder.list<codec::Kind::ClusterRoleBinding>(*clusterRoleBindings);
  ASSERT_TRUE(crb.ok());
  for (auto& b : crb->items) bindings.push_back(std::move(b));
  std::vector<const objects::Binding*> pointers;
  for (const auto& b : bindings) pointers.push_back(&b);

  const policy::Policy p = parsePolicy(
      policyObject("adm-unbound-" + id_, id_,
                   {{"admission", "Deny"}, {"serviceAccounts", {{"unboundOnly", true}}}}));
  admission::ApiKeeper keeper(*client_, {});
  policy::AdmissionContext context;
  context.selfNamespace = "saguard-system";
  context.mutatingServed = keeper.mutatingServed();
  context.bound = policy::boundAccounts(pointers);
  EXPECT_FALSE(context.bound.all) << "a built-in binding of every account was counted";
  ASSERT_TRUE(keeper.keep(p.name, policy::planAdmission(p, context)).ok());
  kept_.push_back(policy::admissionObjectName(p.name));

  ASSERT_TRUE(eventually(30'000, [&] {
    return dryRunCreate(podObject(ns_, "probe", "lonely", 0)).exitCode != 0;
  })) << "the policy never refused the unbound account's pod";
  CommandResult bound = dryRunCreate(podObject(ns_, "probe", "bound-one", 0));
  EXPECT_EQ(bound.exitCode, 0) << bound.err;
}

// A Deployment's pods: the test plays the deployment and ReplicaSet controllers (the local
// control plane runs neither): the ReplicaSet owned by the Deployment, then pods from its
// template, owned by it, named from generateName, exactly the create the ReplicaSet
// controller sends. Under Deny it is refused while the account would give the pod a
// token, and admitted, with no token, once the account says false (what saguard's
// Enforce writes).
TEST_F(AdmissionPolicyTest, DeploymentPodsMeetTheSamePolicy) {
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "sel-web", 0)).exitCode, 0);
  keep(policyObject("adm-deploy-" + id_, id_,
                    {{"admission", "Deny"}, {"serviceAccounts", {{"names", {"sel-*"}}}}}));
  ASSERT_TRUE(eventually(
      30'000, [&] { return dryRunCreate(podObject(ns_, "probe", "sel-web", 0)).exitCode != 0; }));
  const json podSpec = {
      {"serviceAccountName", "sel-web"},
      {"containers", json::array({{{"name", "c"}, {"image", "registry.k8s.io/pause"}}})}};
  const json labels = {{"app", "web"}, {"pod-template-hash", "5d4b7c"}};
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", ns_}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template", {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", podSpec}}}}}};
  CommandResult created = kubectl("create -o jsonpath={.metadata.uid} -f -", deployment.dump());
  ASSERT_EQ(created.exitCode, 0) << created.err;
  json replicaSet = {{"apiVersion", "apps/v1"},
                     {"kind", "ReplicaSet"},
                     {"metadata",
                      {{"name", "web-5d4b7c"},
                       {"namespace", ns_},
                       {"labels", labels},
                       {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                         {"kind", "Deployment"},
                                                         {"name", "web"},
                                                         {"uid", trimmed(created.out)},
                                                         {"controller", true},
                                                         {"blockOwnerDeletion", true}}})}}},
                     {"spec",
                      {{"replicas", 1},
                       {"selector", {{"matchLabels", labels}}},
                       {"template", {{"metadata", {{"labels", labels}}}, {"spec", podSpec}}}}}};
  created = kubectl("create -o jsonpath={.metadata.uid} -f -", replicaSet.dump());
  ASSERT_EQ(created.exitCode, 0) << created.err;
  const json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata",
                     {{"generateName", "web-5d4b7c-"},
                      {"namespace", ns_},
                      {"labels", labels},
                      {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                        {"kind", "ReplicaSet"},
                                                        {"name", "web-5d4b7c"},
                                                        {"uid", trimmed(created.out)},
                                                        {"controller", true},
                                                        {"blockOwnerDeletion", true}}})}}},
                    {"spec", podSpec}};

  CommandResult refused = kubectl("create -f -", pod.dump());
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_TRUE(contains(refused.err, "ServiceAccountPolicy adm-deploy-" + id_)) << refused.err;
  EXPECT_TRUE(contains(refused.err, "ServiceAccount " + ns_ + "/sel-web")) << refused.err;

  ASSERT_EQ(kubectl("-n " + ns_ +
                    " patch sa sel-web --type merge -p "
                    "'{\"automountServiceAccountToken\":false}'")
                .exitCode,
            0);
  CommandResult admitted = kubectl("create -o json -f -", pod.dump());
  ASSERT_EQ(admitted.exitCode, 0) << admitted.err;
  EXPECT_FALSE(contains(admitted.out, "serviceAccountToken")) << admitted.out;
}

// The mutating policy (where served): a selected account created without the field is
// born with false; one created with an explicit true keeps it (the controller decides);
// an exempt or unselected account is untouched.
TEST_F(AdmissionPolicyTest, MutatingPolicyFillsTheFieldOnlyWhenTheCreatorLeftItUnset) {
  admission::ApiKeeper probe(*client_, {});
  if (!probe.mutatingServed()) {
    GTEST_SKIP() << "the API server does not serve MutatingAdmissionPolicy "
                    "(SAGUARD_CP_MUTATING_ADMISSION=1 starts one that does)";
  }
  keep(policyObject("adm-mutate-" + id_, id_,
                    {{"admission", "Warn"},
                     {"serviceAccounts", {{"names", {"sel-*", "ex-*"}}}},
                     {"exemptions", json::array({{{"namespace", "*"}, {"name", "ex-*"}}})}}));
  auto field = [&](const std::string& name) {
    return trimmed(
        kubectl("-n " + ns_ + " get sa " + name + " -o jsonpath={.automountServiceAccountToken}")
            .out);
  };
  // The API server takes its policies from an informer: wait until this one acts.
  int probes = 0;
  ASSERT_TRUE(eventually(30'000, [&] {
    const std::string name = "sel-probe-" + std::to_string(++probes);
    kubectl("create -f -", accountYaml(ns_, name, 0));
    return field(name) == "false";
  })) << "the mutating policy never acted";
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "sel-new", 0)).exitCode, 0);
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "sel-explicit", 1)).exitCode, 0);
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "ex-new", 0)).exitCode, 0);
  ASSERT_EQ(kubectl("create -f -", accountYaml(ns_, "other-new", 0)).exitCode, 0);
  EXPECT_EQ(field("sel-new"), "false");
  EXPECT_EQ(field("sel-explicit"), "true");
  EXPECT_EQ(field("ex-new"), "");
  EXPECT_EQ(field("other-new"), "");
}

// The keeper: all objects at first, nothing from a fresh keeper (a restarted saguard)
// when nothing changed, only the binding when only the action changed, everything
// deleted for admission None; an object of the same name that is not saguard's is
// neither replaced nor deleted.
TEST_F(AdmissionPolicyTest, KeeperWritesOnlyWhatChanged) {
  const std::string name = "adm-keep-" + id_;
  const json warn = policyObject(name, id_, {{"admission", "Warn"}});
  const std::size_t objects = planFor(parsePolicy(warn), *client_).objects.size();
  ASSERT_GE(objects, 2u);
  EXPECT_EQ(keep(warn), objects);
  EXPECT_EQ(keep(warn), 0u) << "a restarted keeper rewrote objects that did not change";

  const std::string object = policy::admissionObjectName(name);
  const std::string before = trimmed(kubectl("get validatingadmissionpolicy " + object +
                                             " -o jsonpath={.metadata.resourceVersion}")
                                         .out);
  json deny = warn;
  deny["spec"]["admission"] = "Deny";
  EXPECT_EQ(keep(deny), 1u);  // the binding's validationActions
  EXPECT_EQ(trimmed(kubectl("get validatingadmissionpolicybinding " + object +
                            " -o jsonpath={.spec.validationActions}")
                        .out),
            "[\"Deny\"]");
  EXPECT_EQ(trimmed(kubectl("get validatingadmissionpolicy " + object +
                            " -o jsonpath={.metadata.resourceVersion}")
                        .out),
            before);

  json none = warn;
  none["spec"]["admission"] = "None";
  EXPECT_EQ(keep(none), objects);
  EXPECT_EQ(trimmed(kubectl("get validatingadmissionpolicy,validatingadmissionpolicybinding "
                            "--ignore-not-found -o name --field-selector metadata.name=" +
                            object)
                        .out),
            "");
  EXPECT_EQ(keep(none), 0u);

  // Somebody else's object under the name saguard would use.
  const std::string foreign = "adm-foreign-" + id_;
  const std::string foreignObject = policy::admissionObjectName(foreign);
  kept_.push_back(foreignObject);
  json theirs = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                 {"kind", "ValidatingAdmissionPolicyBinding"},
                 {"metadata", {{"name", foreignObject}}},
                 {"spec", {{"policyName", "someone-elses"}, {"validationActions", {"Audit"}}}}};
  ASSERT_EQ(kubectl("create -f -", theirs.dump()).exitCode, 0);
  const policy::Policy p = parsePolicy(policyObject(foreign, id_, {{"admission", "Deny"}}));
  admission::ApiKeeper keeper(*client_, {});
  Status st = keeper.keep(p.name, planFor(p, *client_));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::Conflict);
  EXPECT_TRUE(contains(st.error().message, "not saguard's")) << st.error().message;
  EXPECT_EQ(trimmed(kubectl("get validatingadmissionpolicybinding " + foreignObject +
                            " -o jsonpath={.spec.policyName}")
                        .out),
            "someone-elses");
  // And deleting the policy's objects leaves it too.
  EXPECT_TRUE(keeper.keep(p.name, policy::AdmissionPlan{}).ok());
  EXPECT_EQ(kubectl("get validatingadmissionpolicybinding " + foreignObject).exitCode, 0);
}

// Owned by the policy: the garbage collector deletes them with it even when saguard
// is not running.
TEST_F(AdmissionPolicyTest, DeletedWithThePolicy) {
  ASSERT_TRUE(installPolicyCrd());
  const std::string name = "adm-owned-" + id_;
  const json object = policyObject(name, id_, {{"admission", "Warn"}});
  ASSERT_TRUE(
      eventually(30'000, [&] { return kubectl("create -f -", object.dump()).exitCode == 0; }));
  const std::string uid =
      trimmed(kubectl("get serviceaccountpolicy " + name + " -o jsonpath={.metadata.uid}").out);
  ASSERT_FALSE(uid.empty());
  json withUid = object;
  withUid["metadata"]["uid"] = uid;
  keep(withUid);
  const std::string kept = policy::admissionObjectName(name);
  ASSERT_EQ(kubectl("get validatingadmissionpolicy " + kept).exitCode, 0);
  ASSERT_EQ(kubectl("delete serviceaccountpolicy " + name).exitCode, 0);
  EXPECT_TRUE(eventually(60'000, [&] {
    return kubectl("get validatingadmissionpolicy " + kept).exitCode != 0 &&
           kubectl("get validatingadmissionpolicybinding " + kept).exitCode != 0;
  })) << "the garbage collector left the policy's admission objects";
}

}  // namespace
}  // namespace saguard::testing
