// Who declares automountServiceAccountToken (policy/ownership.h), with managedFields and
// last-applied annotations produced for real: kubectl writes each account as the GitOps
// tools do (server-side apply as argocd-controller or kustomize-controller, client-side
// apply, a patch by another client), the test GETs the account's raw JSON from the API
// server, decodes it with the codec the informers use and asserts the decision.
//
// It also checks the Kubernetes behaviour the decision rests on: a manager that owns the
// field through Apply loses it to any other write of a different value; saguard's
// server-side apply of false under field manager "saguard" conflicts (409) with a manager
// that declares another value unless forced; and a field that the GitOps tool's
// configuration does not declare, once set by saguard's apply, survives the tool's
// re-apply of the same configuration, client-side (three-way merge) and server-side.
//
// Nothing here runs saguard: these are the facts and the decision the wiring will use.
#include "policy/ownership.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/decoder.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using objects::FieldOperation;
using objects::FieldOwner;
using objects::FieldOwners;
using objects::Tristate;
using policy::Declaration;
using Kind = Declaration::Kind;

std::string accountYaml(const std::string& ns, const std::string& name, const std::string& field) {
  std::string yaml = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"" + name +
                     "\"\n  namespace: \"" + ns + "\"\n  labels:\n    app: web\n";
  if (!field.empty()) yaml += "automountServiceAccountToken: " + field + "\n";
  return yaml;
}

// `kubectl ARGS -f -` with `yaml` on standard input; the test fails when kubectl does.
void kubectlOk(const std::string& args, const std::string& yaml = "") {
  const CommandResult r = kubectl(args, yaml);
  ASSERT_EQ(r.exitCode, 0) << "kubectl " << args << "\n" << r.out << r.err;
}

// The account as the API server sends it (not kubectl's rendering, which hides
// managedFields), decoded as the informer decodes it.
objects::ServiceAccount getAccount(const std::string& ns, const std::string& name) {
  const CommandResult r =
      kubectl("get --raw " + shellQuote("/api/v1/namespaces/" + ns + "/serviceaccounts/" + name));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  codec::Decoder decoder;
  auto account = decoder.object<codec::Kind::ServiceAccount>(std::string_view(r.out));
  EXPECT_TRUE(account.ok()) << account.error().describe() << "\n" << r.out;
  return account.ok() ? std::move(*account) : objects::ServiceAccount{};
}

FieldOwner apply(const char* manager) {
  return {Symbol(manager), FieldOperation::Apply};
}
FieldOwner update(const char* manager) {
  return {Symbol(manager), FieldOperation::Update};
}

// saguard's write: server-side apply of the one field under field manager "saguard".
std::string saguardApply(const std::string& ns, const std::string& name) {
  return "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"" + name +
         "\"\n  namespace: \"" + ns + "\"\nautomountServiceAccountToken: false\n";
}
const std::string kSaguardApplyArgs = "apply --server-side --field-manager=saguard -f -";

class Ownership : public ::testing::Test {
 protected:
  void SetUp() override { ns_ = freshNamespace("ownership"); }
  std::string ns_;
};

TEST_F(Ownership, ArgoCdServerSideApplyDeclaringTrueBlocks) {
  ASSERT_NO_FATAL_FAILURE(kubectlOk("apply --server-side --field-manager=argocd-controller -f -",
                                    accountYaml(ns_, "argo", "true")));
  const auto account = getAccount(ns_, "argo");
  EXPECT_EQ(account.automount, Tristate::True);
  EXPECT_EQ(account.automountOwners, (FieldOwners{apply("argocd-controller")}));
  EXPECT_EQ(account.lastAppliedAutomount, Tristate::Unset);
  const Declaration d = policy::declarationOf(account);
  EXPECT_EQ(d, (Declaration{Kind::Applied, Symbol("argocd-controller"), Tristate::True}));
  EXPECT_FALSE(policy::mayWriteFalse(d));
  EXPECT_TRUE(contains(policy::declaredByOwnerMessage(d), "RespectIgnoreDifferences=true"));

  // saguard's apply without force conflicts with the declared value: the API server itself
  // refuses to let saguard take the field silently.
  const CommandResult unforced = kubectl(kSaguardApplyArgs, saguardApply(ns_, "argo"));
  EXPECT_NE(unforced.exitCode, 0) << unforced.out;
  EXPECT_TRUE(contains(unforced.err, "conflict")) << unforced.err;
  EXPECT_EQ(getAccount(ns_, "argo").automount, Tristate::True);
}

TEST_F(Ownership, FluxServerSideApplyDeclaringTrueBlocks) {
  ASSERT_NO_FATAL_FAILURE(kubectlOk("apply --server-side --field-manager=kustomize-controller -f -",
                                    accountYaml(ns_, "flux", "true")));
  const auto account = getAccount(ns_, "flux");
  EXPECT_EQ(account.automountOwners, (FieldOwners{apply("kustomize-controller")}));
  const Declaration d = policy::declarationOf(account);
  EXPECT_EQ(d, (Declaration{Kind::Applied, Symbol("kustomize-controller"), Tristate::True}));
  EXPECT_FALSE(policy::mayWriteFalse(d));
  EXPECT_TRUE(
      contains(policy::declaredByOwnerMessage(d), "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent"));
}

TEST_F(Ownership, ClientSideApplyDeclaringTrueBlocks) {
  // kubectl's own client-side apply, and Argo CD's (client-side, as argocd-controller).
  ASSERT_NO_FATAL_FAILURE(kubectlOk("apply -f -", accountYaml(ns_, "csa", "true")));
  ASSERT_NO_FATAL_FAILURE(kubectlOk("apply --field-manager=argocd-controller -f -",
                                    accountYaml(ns_, "argo-csa", "true")));
  const auto csa = getAccount(ns_, "csa");
  EXPECT_EQ(csa.lastAppliedAutomount, Tristate::True);
  const Declaration d = policy::declarationOf(csa);
  EXPECT_EQ(d.kind, Kind::LastApplied);
  EXPECT_EQ(d.value, Tristate::True);
  EXPECT_FALSE(policy::mayWriteFalse(d));
  // kubectl's client-side apply writes as kubectl-client-side-apply (Update).
  EXPECT_EQ(csa.automountOwners, (FieldOwners{update("kubectl-client-side-apply")}));
  EXPECT_EQ(d.manager, Symbol("kubectl-client-side-apply"));

  const auto argo = getAccount(ns_, "argo-csa");
  EXPECT_EQ(argo.lastAppliedAutomount, Tristate::True);
  const Declaration a = policy::declarationOf(argo);
  EXPECT_EQ(a.kind, Kind::LastApplied);
  EXPECT_FALSE(policy::mayWriteFalse(a));
  EXPECT_EQ(argo.automountOwners, (FieldOwners{update("argocd-controller")}));
  EXPECT_EQ(a.manager, Symbol("argocd-controller"));
}

TEST_F(Ownership, PatchByAnotherClientIsDrift) {
  // Created without the field, then `kubectl patch` (an Update by kubectl-patch) sets it.
  ASSERT_NO_FATAL_FAILURE(kubectlOk("create -f -", accountYaml(ns_, "edited", "")));
  ASSERT_NO_FATAL_FAILURE(kubectlOk("patch serviceaccount edited -n " + ns_ +
                                    " --type=merge -p '{\"automountServiceAccountToken\":true}'"));
  const auto account = getAccount(ns_, "edited");
  EXPECT_EQ(account.automountOwners, (FieldOwners{update("kubectl-patch")}));
  const Declaration d = policy::declarationOf(account);
  EXPECT_EQ(d, (Declaration{Kind::Updated, Symbol("kubectl-patch"), Tristate::True}));
  EXPECT_TRUE(policy::mayWriteFalse(d));

  // An Update owner conflicts with an unforced apply too: saguard's revert must force.
  const CommandResult unforced = kubectl(kSaguardApplyArgs, saguardApply(ns_, "edited"));
  EXPECT_NE(unforced.exitCode, 0) << unforced.out;
  ASSERT_NO_FATAL_FAILURE(
      kubectlOk(kSaguardApplyArgs + " --force-conflicts", saguardApply(ns_, "edited")));
  const auto reverted = getAccount(ns_, "edited");
  EXPECT_EQ(reverted.automount, Tristate::False);
  EXPECT_EQ(reverted.automountOwners, (FieldOwners{apply("saguard")}));
  EXPECT_EQ(policy::declarationOf(reverted), Declaration{});
}

TEST_F(Ownership, ServerSideApplyOfTrueTakenOverByAPatch) {
  // Argo CD applied true; someone patches false: the field leaves Argo CD's set, so the
  // account no longer declares anything (Argo CD would show it out of sync and self-heal).
  ASSERT_NO_FATAL_FAILURE(kubectlOk("apply --server-side --field-manager=argocd-controller -f -",
                                    accountYaml(ns_, "taken", "true")));
  ASSERT_NO_FATAL_FAILURE(kubectlOk("patch serviceaccount taken -n " + ns_ +
                                    " --type=merge -p '{\"automountServiceAccountToken\":false}'"));
  const auto account = getAccount(ns_, "taken");
  EXPECT_EQ(account.automount, Tristate::False);
  EXPECT_EQ(account.automountOwners, (FieldOwners{update("kubectl-patch")}));
  EXPECT_TRUE(policy::mayWriteFalse(policy::declarationOf(account)));
}

TEST_F(Ownership, UndeclaredFieldSetBySaguardSurvivesTheToolsReapply) {
  // The GitOps tool's configuration does not declare the field, applied client-side (one
  // account) and server-side (another).
  const std::string csaArgs = "apply --field-manager=argocd-controller -f -";
  const std::string ssaArgs = "apply --server-side --field-manager=argocd-controller -f -";
  ASSERT_NO_FATAL_FAILURE(kubectlOk(csaArgs, accountYaml(ns_, "plain-csa", "")));
  ASSERT_NO_FATAL_FAILURE(kubectlOk(ssaArgs, accountYaml(ns_, "plain-ssa", "")));
  for (const char* name : {"plain-csa", "plain-ssa"}) {
    SCOPED_TRACE(name);
    const auto before = getAccount(ns_, name);
    EXPECT_EQ(before.automount, Tristate::Unset);
    EXPECT_EQ(before.lastAppliedAutomount, Tristate::Unset);
    EXPECT_TRUE(before.automountOwners.empty());
    EXPECT_EQ(policy::declarationOf(before), Declaration{});
    EXPECT_TRUE(policy::mayWriteFalse(policy::declarationOf(before)));

    // saguard sets it: no one else owns the field, so no force is needed.
    ASSERT_NO_FATAL_FAILURE(kubectlOk(kSaguardApplyArgs, saguardApply(ns_, name)));
    const auto set = getAccount(ns_, name);
    EXPECT_EQ(set.automount, Tristate::False);
    EXPECT_EQ(set.automountOwners, (FieldOwners{apply("saguard")}));
  }

  // The tool re-applies the same configuration (with a label change, so the apply is a
  // real write and not a no-op): the field stays false in both.
  const auto relabel = [&](const std::string& name) {
    std::string yaml = accountYaml(ns_, name, "");
    yaml.replace(yaml.find("app: web"), 8, "app: web2");
    return yaml;
  };
  ASSERT_NO_FATAL_FAILURE(kubectlOk(csaArgs, relabel("plain-csa")));
  ASSERT_NO_FATAL_FAILURE(kubectlOk(ssaArgs, relabel("plain-ssa")));
  for (const char* name : {"plain-csa", "plain-ssa"}) {
    SCOPED_TRACE(name);
    const auto after = getAccount(ns_, name);
    ASSERT_EQ(after.labels.size(), 1u);
    EXPECT_EQ(after.labels[0].second, Symbol("web2"));  // the re-apply did write
    EXPECT_EQ(after.automount, Tristate::False);
    EXPECT_EQ(after.automountOwners, (FieldOwners{apply("saguard")}));
    EXPECT_EQ(policy::declarationOf(after), Declaration{});
  }

  // And the identical configuration again, client-side, as a self-heal loop would.
  ASSERT_NO_FATAL_FAILURE(kubectlOk(csaArgs, relabel("plain-csa")));
  EXPECT_EQ(getAccount(ns_, "plain-csa").automount, Tristate::False);
}

}  // namespace
}  // namespace saguard::testing
