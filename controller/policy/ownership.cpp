#include "policy/ownership.h"

namespace saguard::policy {
namespace {

using objects::FieldOperation;
using objects::FieldOwner;
using objects::Tristate;

bool isSaguard(const FieldOwner& owner) {
  return owner.manager.view() == kFieldManager;
}

// The first Apply owner that is not saguard, or nullptr.
const FieldOwner* firstApplier(const objects::FieldOwners& owners) {
  for (const FieldOwner& owner : owners) {
    if (owner.operation == FieldOperation::Apply && !isSaguard(owner)) return &owner;
  }
  return nullptr;
}

// The last Update owner that is not saguard, or nullptr.
const FieldOwner* lastUpdater(const objects::FieldOwners& owners) {
  const FieldOwner* last = nullptr;
  for (const FieldOwner& owner : owners) {
    if (owner.operation == FieldOperation::Update && !isSaguard(owner)) last = &owner;
  }
  return last;
}

Symbol managerOf(const FieldOwner* owner) {
  return owner != nullptr ? owner->manager : Symbol();
}

std::string valueText(Tristate value) {
  return value == Tristate::Unset ? std::string("unset") : std::string(objects::toString(value));
}

}  // namespace

const char* toString(Declaration::Kind kind) {
  switch (kind) {
    case Declaration::Kind::None:
      return "None";
    case Declaration::Kind::Applied:
      return "Applied";
    case Declaration::Kind::LastApplied:
      return "LastApplied";
    case Declaration::Kind::Updated:
      return "Updated";
  }
  return "None";
}

Declaration declarationOf(const objects::ServiceAccount& account) {
  using Kind = Declaration::Kind;
  const FieldOwner* applier = firstApplier(account.automountOwners);
  const FieldOwner* updater = lastUpdater(account.automountOwners);
  // Rules 1 and 2: the blocking declarations.
  if (applier != nullptr && account.automount != Tristate::False)
    return {Kind::Applied, applier->manager, account.automount};
  if (account.lastAppliedAutomount == Tristate::True)
    return {Kind::LastApplied, managerOf(updater), Tristate::True};
  // Rules 3 and 4: declarations of what saguard wants.
  if (applier != nullptr) return {Kind::Applied, applier->manager, Tristate::False};
  if (account.lastAppliedAutomount == Tristate::False)
    return {Kind::LastApplied, managerOf(updater), Tristate::False};
  // Rule 5: drift.
  if (updater != nullptr) return {Kind::Updated, updater->manager, account.automount};
  return {};
}

bool mayWriteFalse(const Declaration& declaration) {
  switch (declaration.kind) {
    case Declaration::Kind::Applied:
      return declaration.value == Tristate::False;
    case Declaration::Kind::LastApplied:
      return declaration.value != Tristate::True;
    case Declaration::Kind::None:
    case Declaration::Kind::Updated:
      return true;
  }
  return true;
}

Tool toolOf(std::string_view manager) {
  if (manager == "argocd-controller") return Tool::ArgoCD;
  if (manager == "kustomize-controller") return Tool::FluxKustomize;
  if (manager == "helm-controller") return Tool::FluxHelm;
  if (manager == "helm") return Tool::Helm;
  if (manager == "kubectl" || manager.starts_with("kubectl-")) return Tool::Kubectl;
  return Tool::Other;
}

std::string ownerFix(const Declaration& declaration) {
  std::string fix = "set automountServiceAccountToken to false (or remove it) in the configuration";
  switch (toolOf(declaration.manager.view())) {
    case Tool::ArgoCD:
      return fix +
             " Argo CD syncs from Git; or let saguard own the field: in the Application, "
             "ignoreDifferences: [{group: \"\", kind: ServiceAccount, jsonPointers: "
             "[/automountServiceAccountToken]}] with syncPolicy.syncOptions: "
             "[RespectIgnoreDifferences=true], then set it to false once (kubectl patch): Argo CD "
             "keeps the live value from then on";
    case Tool::FluxKustomize:
      return fix +
             " Flux applies from Git; or keep Flux from overriding the live value: annotate the "
             "ServiceAccount in Git with kustomize.toolkit.fluxcd.io/ssa: IfNotPresent, then set "
             "it to false once (kubectl patch)";
    case Tool::FluxHelm:
      return fix +
             " the HelmRelease's chart renders (its values); or ignore the field in drift "
             "detection: spec.driftDetection.ignore: [{paths: [/automountServiceAccountToken], "
             "target: {kind: ServiceAccount}}]";
    case Tool::Helm:
      return fix + " the Helm chart renders (its values), then helm upgrade";
    case Tool::Kubectl:
    case Tool::Other:
      break;
  }
  if (declaration.kind == Declaration::Kind::LastApplied)
    return fix + " applied with kubectl apply (its last-applied-configuration), then re-apply it";
  return fix + " that " +
         (declaration.manager.empty() ? std::string("its owner")
                                      : std::string(declaration.manager.view())) +
         " applies";
}

std::string declaredByOwnerMessage(const Declaration& declaration) {
  if (mayWriteFalse(declaration)) return {};
  std::string who;
  if (declaration.kind == Declaration::Kind::Applied) {
    who = declaration.manager.str() + " (server-side apply)";
  } else if (declaration.manager.empty()) {
    who = "the last-applied configuration (client-side apply)";
  } else {
    who = "the last-applied configuration of " + declaration.manager.str() + " (client-side apply)";
  }
  return "automountServiceAccountToken: " + valueText(declaration.value) + " is declared by " +
         who + "; saguard does not overwrite a declared value. Fix: " + ownerFix(declaration);
}

}  // namespace saguard::policy
