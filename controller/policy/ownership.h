// Who declares a ServiceAccount's automountServiceAccountToken, and whether saguard may
// set it to false. saguard does not own the accounts it enforces: when a source of truth
// (Git, through Argo CD, Flux, Helm or kubectl apply) declares the field, writing false
// starts a fight with the tool's self-heal that never ends. Kubernetes records who
// declares what, and this reads it:
//   - metadata.managedFields: each manager that wrote the object, with the operation it
//     last used. A manager that owns a field through server-side apply (operation Apply)
//     declares that field in its applied configuration. A manager that owns it through
//     any other write (operation Update: create, update, JSON or merge patch, `kubectl
//     edit`, another controller) changed it once; nothing re-asserts it.
//   - kubectl.kubernetes.io/last-applied-configuration: client-side apply (kubectl apply,
//     Argo CD's default sync) keeps the applied configuration here, and its three-way
//     merge sets a declared field back on every apply.
// The codec projects both (objects::ServiceAccount::automountOwners and
// lastAppliedAutomount); declarationOf() decides from them, mayWriteFalse() says whether
// saguard may write, and declaredByOwnerMessage() is the text of the finding and the
// Warning Event (reason DeclaredByOwner) when it may not.
//
// The rules, first match wins (saguard's own entries, field manager kFieldManager, are
// never a declaration: saguard applying false is what it wants):
//   1. Applied, blocking: a manager other than saguard owns the field through Apply, and
//      the live value is not false. The live value IS its declared value: a different
//      value written by anyone else takes the field away from it (an update always
//      takes ownership, a forced apply too, an unforced conflicting apply fails), so a
//      manager still owning the field through Apply applied the value that is there.
//      The first such manager in managedFields order is named.
//   2. LastApplied, blocking: the last-applied configuration declares true. Named: the
//      last manager that owns the field through Update (client-side apply writes as
//      "kubectl-client-side-apply", Argo CD as "argocd-controller"), else no one (the
//      value was set by create, or taken over later).
//   3. Applied, not blocking: a manager other than saguard applies false.
//   4. LastApplied, not blocking: the last-applied configuration declares false.
//   5. Updated: a manager other than saguard owns the field through Update (the last
//      one in managedFields order, where the API server keeps updates oldest first): a
//      plain write is drift, reverted as today. This includes Helm 3 (manager "helm",
//      operation Update). Helm's declaration lives in its release Secret, not on the
//      object, and its three-way merge re-asserts the chart's value only at `helm
//      upgrade` or rollback, never in a loop: reverting costs one write per upgrade and
//      no fight, while trusting every Update as a declaration would let any `kubectl
//      edit` disable saguard. A chart applied by Argo CD is applied as argocd-controller
//      (rules 1-2), Helm 4's server-side apply as "helm" with Apply (rule 1), a Flux
//      HelmRelease as "helm-controller" (Update: drift, but its drift detection, when
//      enabled, corrects it back, see the fix text).
//   6. None: no one but saguard (or no one at all) owns the field.
// A value of the field that is unset is never blocking unless an Apply manager owns
// the field (rule 1; the API server does not produce that, it is treated as "not false").
//
// Pure: no I/O, no clock. Called by the reconciler before an Enforce write (and by
// evaluate() for the DeclaredByOwner finding), and by `saguard audit` to show the owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/intern.h"
#include "objects/objects.h"

namespace saguard::policy {

// The field manager saguard writes under (server-side apply, and the managedFields
// entries rule 1-5 skip as its own).
inline constexpr std::string_view kFieldManager = "saguard";

struct Declaration {
  enum class Kind : std::uint8_t {
    None,         // rule 6
    Applied,      // rules 1 and 3: a server-side apply manager owns the field
    LastApplied,  // rules 2 and 4: the last-applied configuration declares it
    Updated,      // rule 5: drift
  };

  Kind kind = Kind::None;
  // Applied: the apply manager; LastApplied: the last Update owner of the field, or empty
  // when there is none; Updated: the last Update owner; None: empty.
  Symbol manager;
  // What is declared: Applied and Updated the live value, LastApplied the annotation's.
  objects::Tristate value = objects::Tristate::Unset;

  friend bool operator==(const Declaration&, const Declaration&) = default;
};

const char* toString(Declaration::Kind kind);  // "None", "Applied", "LastApplied", "Updated"

// Who declares the account's automountServiceAccountToken (the rules above).
Declaration declarationOf(const objects::ServiceAccount& account);

// Whether saguard may set the field to false: false exactly when the declaration blocks
// (Applied with a value other than false, LastApplied declaring true). True for None and
// Updated (drift: revert as today) and for declarations of false.
bool mayWriteFalse(const Declaration& declaration);

// The GitOps tool behind a field manager name, for the fix text.
enum class Tool : std::uint8_t {
  ArgoCD,         // "argocd-controller"
  FluxKustomize,  // "kustomize-controller"
  FluxHelm,       // "helm-controller"
  Helm,           // "helm"
  Kubectl,        // "kubectl", "kubectl-client-side-apply", "kubectl-edit", ... ("kubectl" prefix)
  Other,          // anything else, or no manager named
};

Tool toolOf(std::string_view manager);

// The finding's and the DeclaredByOwner Event's message for a blocking declaration:
// who declares what, and how to resolve it. Empty when the declaration does not block.
//   "automountServiceAccountToken: true is declared by argocd-controller (server-side
//    apply); saguard does not overwrite a declared value. Fix: ..."
std::string declaredByOwnerMessage(const Declaration& declaration);

// The fix alone (the "Fix: ..." part), for any declaration whose manager is named; for a
// blocking one it is what declaredByOwnerMessage() ends with. Names the tool's own
// configuration: Argo CD ignoreDifferences with RespectIgnoreDifferences=true, Flux's
// kustomize.toolkit.fluxcd.io/ssa annotation or HelmRelease driftDetection.ignore, the
// chart value for Helm.
std::string ownerFix(const Declaration& declaration);

}  // namespace saguard::policy
