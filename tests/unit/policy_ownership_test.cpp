// Who declares an account's automountServiceAccountToken (policy/ownership.h): every
// combination of live value × owners × last-applied value against the rules, and the
// message and fix text of a DeclaredByOwner finding for each tool.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/ownership.h"

namespace saguard::policy {
namespace {

using objects::FieldOperation;
using objects::FieldOwner;
using objects::FieldOwners;
using objects::Tristate;
using Kind = Declaration::Kind;

constexpr Tristate U = Tristate::Unset;
constexpr Tristate T = Tristate::True;
constexpr Tristate F = Tristate::False;

FieldOwner apply(const char* manager) {
  return {Symbol(manager), FieldOperation::Apply};
}
FieldOwner update(const char* manager) {
  return {Symbol(manager), FieldOperation::Update};
}

objects::ServiceAccount account(Tristate live, FieldOwners owners, Tristate lastApplied = U) {
  objects::ServiceAccount sa;
  sa.meta = objects::Meta(Symbol("shop"), "web", "u1", "1");
  sa.automount = live;
  sa.automountOwners = std::move(owners);
  sa.lastAppliedAutomount = lastApplied;
  return sa;
}

Declaration declared(Kind kind, const char* manager, Tristate value) {
  return {kind, Symbol(manager), value};
}

// The rules in order, one case each, with the tools.
TEST(Ownership, ServerSideApplyDeclaringTrueBlocks) {
  for (const char* tool : {"argocd-controller", "kustomize-controller", "helm", "kubectl"}) {
    const Declaration d = declarationOf(account(T, {apply(tool)}));
    EXPECT_EQ(d, declared(Kind::Applied, tool, T)) << tool;
    EXPECT_FALSE(mayWriteFalse(d)) << tool;
  }
}

TEST(Ownership, ClientSideApplyDeclaringTrueBlocks) {
  // kubectl apply: the field's owner is kubectl-client-side-apply (Update).
  Declaration d = declarationOf(account(T, {update("kubectl-client-side-apply")}, T));
  EXPECT_EQ(d, declared(Kind::LastApplied, "kubectl-client-side-apply", T));
  EXPECT_FALSE(mayWriteFalse(d));
  // Argo CD's client-side sync writes as argocd-controller (Update).
  d = declarationOf(account(T, {update("argocd-controller")}, T));
  EXPECT_EQ(d, declared(Kind::LastApplied, "argocd-controller", T));
  EXPECT_FALSE(mayWriteFalse(d));
  // Set at create (no Update entry owns it): still declared, no one named.
  d = declarationOf(account(T, {}, T));
  EXPECT_EQ(d, declared(Kind::LastApplied, "", T));
  EXPECT_FALSE(mayWriteFalse(d));
  // Live already false (written before saguard looked): the declaration still stands.
  d = declarationOf(account(F, {apply("saguard")}, T));
  EXPECT_EQ(d, declared(Kind::LastApplied, "", T));
  EXPECT_FALSE(mayWriteFalse(d));
}

TEST(Ownership, UpdatesAreDrift) {
  for (const char* who : {"kubectl-edit", "kubectl-patch", "helm", "helm-controller", "some-bot"}) {
    const Declaration d = declarationOf(account(T, {update(who)}));
    EXPECT_EQ(d, declared(Kind::Updated, who, T)) << who;
    EXPECT_TRUE(mayWriteFalse(d)) << who;
    EXPECT_EQ(declaredByOwnerMessage(d), "") << who;
  }
  // The last Update owner is named.
  EXPECT_EQ(declarationOf(account(T, {update("a"), update("b")})), declared(Kind::Updated, "b", T));
}

TEST(Ownership, DeclaringFalseDoesNotBlock) {
  Declaration d = declarationOf(account(F, {apply("argocd-controller")}));
  EXPECT_EQ(d, declared(Kind::Applied, "argocd-controller", F));
  EXPECT_TRUE(mayWriteFalse(d));
  EXPECT_EQ(declaredByOwnerMessage(d), "");
  d = declarationOf(account(T, {update("kubectl-edit")}, F));
  EXPECT_EQ(d, declared(Kind::LastApplied, "kubectl-edit", F));
  EXPECT_TRUE(mayWriteFalse(d));
}

TEST(Ownership, SaguardsOwnEntriesAreNotDeclarations) {
  EXPECT_EQ(declarationOf(account(F, {apply("saguard")})), Declaration{});
  EXPECT_EQ(declarationOf(account(F, {update("saguard")})), Declaration{});
  // Shared apply of false with Argo CD: Argo CD is the declarer, of false.
  EXPECT_EQ(declarationOf(account(F, {apply("saguard"), apply("argocd-controller")})),
            declared(Kind::Applied, "argocd-controller", F));
  // saguard's apply listed first does not hide a later Update owner.
  EXPECT_EQ(declarationOf(account(T, {apply("saguard"), update("kubectl-edit")})),
            declared(Kind::Updated, "kubectl-edit", T));
}

TEST(Ownership, NoOwnerNoDeclaration) {
  for (Tristate live : {U, T, F}) {
    const Declaration d = declarationOf(account(live, {}));
    EXPECT_EQ(d, Declaration{});
    EXPECT_TRUE(mayWriteFalse(d));
  }
}

TEST(Ownership, ApplyWinsOverLastAppliedAndUpdates) {
  // The first non-saguard Apply owner is named.
  EXPECT_EQ(declarationOf(account(T,
                                  {apply("saguard"), apply("kustomize-controller"),
                                   apply("argocd-controller"), update("kubectl-edit")},
                                  T)),
            declared(Kind::Applied, "kustomize-controller", T));
  // An Apply owner of false, with a last-applied declaring true: the blocking one wins.
  EXPECT_EQ(declarationOf(account(F, {apply("argocd-controller")}, T)),
            declared(Kind::LastApplied, "", T));
}

TEST(Ownership, ApplyOwnerOfAnUnsetValueIsTreatedAsNotFalse) {
  const Declaration d = declarationOf(account(U, {apply("argocd-controller")}));
  EXPECT_EQ(d, declared(Kind::Applied, "argocd-controller", U));
  EXPECT_FALSE(mayWriteFalse(d));
  EXPECT_NE(declaredByOwnerMessage(d).find("automountServiceAccountToken: unset is declared by "
                                           "argocd-controller"),
            std::string::npos);
}

// Exhaustive: live × last-applied × each owner set, against the rules restated as a
// table-free oracle (blocking = an Apply owner other than saguard with live != false, or
// last-applied true).
TEST(Ownership, EveryCombinationAgreesWithTheRules) {
  const std::vector<FieldOwners> ownerSets = {
      {},
      {apply("saguard")},
      {update("saguard")},
      {apply("argocd-controller")},
      {update("kubectl-edit")},
      {apply("saguard"), apply("argocd-controller")},
      {apply("argocd-controller"), update("kubectl-edit")},
      {update("kubectl-client-side-apply"), update("kubectl-edit")},
      {apply("kustomize-controller"), apply("saguard"), update("helm")},
  };
  for (Tristate live : {U, T, F}) {
    for (Tristate last : {U, T, F}) {
      for (const FieldOwners& owners : ownerSets) {
        const Declaration d = declarationOf(account(live, owners, last));
        bool otherApplier = false;
        bool otherUpdater = false;
        for (const FieldOwner& o : owners) {
          if (o.manager.view() == kFieldManager) continue;
          (o.operation == FieldOperation::Apply ? otherApplier : otherUpdater) = true;
        }
        const bool blocks = (otherApplier && live != F) || last == T;
        SCOPED_TRACE(std::string("live=") + objects::toString(live) +
                     " last=" + objects::toString(last) +
                     " owners=" + std::to_string(owners.size()) + " -> " + toString(d.kind));
        EXPECT_EQ(mayWriteFalse(d), !blocks);
        EXPECT_EQ(declaredByOwnerMessage(d).empty(), !blocks);
        if (otherApplier) {
          EXPECT_TRUE(d.kind == Kind::Applied || (live == F && last == T));
        } else if (last != U) {
          EXPECT_EQ(d.kind, Kind::LastApplied);
          EXPECT_EQ(d.value, last);
        } else if (otherUpdater) {
          EXPECT_EQ(d.kind, Kind::Updated);
          EXPECT_EQ(d.value, live);
        } else {
          EXPECT_EQ(d, Declaration{});
        }
      }
    }
  }
}

TEST(Ownership, ToolsByManagerName) {
  EXPECT_EQ(toolOf("argocd-controller"), Tool::ArgoCD);
  EXPECT_EQ(toolOf("kustomize-controller"), Tool::FluxKustomize);
  EXPECT_EQ(toolOf("helm-controller"), Tool::FluxHelm);
  EXPECT_EQ(toolOf("helm"), Tool::Helm);
  EXPECT_EQ(toolOf("kubectl"), Tool::Kubectl);
  EXPECT_EQ(toolOf("kubectl-client-side-apply"), Tool::Kubectl);
  EXPECT_EQ(toolOf("kubectl-edit"), Tool::Kubectl);
  EXPECT_EQ(toolOf("kubectlish"), Tool::Other);
  EXPECT_EQ(toolOf(""), Tool::Other);
  EXPECT_EQ(toolOf("argocd-application-controller"), Tool::Other);
}

TEST(Ownership, MessagesNameTheOwnerAndTheFix) {
  EXPECT_EQ(declaredByOwnerMessage(declared(Kind::Applied, "argocd-controller", T)),
            "automountServiceAccountToken: true is declared by argocd-controller (server-side "
            "apply); saguard does not overwrite a declared value. Fix: set "
            "automountServiceAccountToken to false (or remove it) in the configuration Argo CD "
            "syncs from Git; or let saguard own the field: in the Application, ignoreDifferences: "
            "[{group: \"\", kind: ServiceAccount, jsonPointers: [/automountServiceAccountToken]}] "
            "with syncPolicy.syncOptions: [RespectIgnoreDifferences=true], then set it to false "
            "once (kubectl patch): Argo CD keeps the live value from then on");
  const std::string flux =
      declaredByOwnerMessage(declared(Kind::Applied, "kustomize-controller", T));
  EXPECT_NE(flux.find("declared by kustomize-controller (server-side apply)"), std::string::npos);
  EXPECT_NE(flux.find("kustomize.toolkit.fluxcd.io/ssa: IfNotPresent, then set it to false once"),
            std::string::npos);
  const std::string helm = declaredByOwnerMessage(declared(Kind::Applied, "helm", T));
  EXPECT_NE(helm.find("the Helm chart renders (its values), then helm upgrade"), std::string::npos);
  const std::string argoCsa =
      declaredByOwnerMessage(declared(Kind::LastApplied, "argocd-controller", T));
  EXPECT_NE(argoCsa.find("declared by the last-applied configuration of argocd-controller "
                         "(client-side apply)"),
            std::string::npos);
  EXPECT_NE(argoCsa.find("RespectIgnoreDifferences=true"), std::string::npos);
  EXPECT_EQ(declaredByOwnerMessage(declared(Kind::LastApplied, "kubectl-client-side-apply", T)),
            "automountServiceAccountToken: true is declared by the last-applied configuration of "
            "kubectl-client-side-apply (client-side apply); saguard does not overwrite a declared "
            "value. Fix: set automountServiceAccountToken to false (or remove it) in the "
            "configuration applied with kubectl apply (its last-applied-configuration), then "
            "re-apply it");
  EXPECT_NE(declaredByOwnerMessage(declared(Kind::LastApplied, "", T))
                .find("declared by the last-applied configuration (client-side apply)"),
            std::string::npos);
  EXPECT_EQ(ownerFix(declared(Kind::Applied, "team-bot", T)),
            "set automountServiceAccountToken to false (or remove it) in the configuration that "
            "team-bot applies");
  EXPECT_NE(ownerFix(declared(Kind::Updated, "helm-controller", T))
                .find("spec.driftDetection.ignore: [{paths: [/automountServiceAccountToken], "
                      "target: {kind: ServiceAccount}}]"),
            std::string::npos);
}

TEST(Ownership, KindNames) {
  EXPECT_STREQ(toString(Kind::None), "None");
  EXPECT_STREQ(toString(Kind::Applied), "Applied");
  EXPECT_STREQ(toString(Kind::LastApplied), "LastApplied");
  EXPECT_STREQ(toString(Kind::Updated), "Updated");
}

}  // namespace
}  // namespace saguard::policy
