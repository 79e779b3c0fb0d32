// What saguard keeps at admission for one ServiceAccountPolicy (`spec.admission`): native
// admission policies that the API server evaluates itself, so no webhook server stands in
// the path of a pod create.
//
//   AdmissionContext context{.selfNamespace = "saguard-system", .mutatingServed = served,
//                            .bound = boundAccounts(bindings)};
//   AdmissionPlan plan = planAdmission(policy, context);
//   for (const AdmissionObject& o : plan.objects) ... create or replace o.object ...
//
// What the plan holds (the names are admissionObjectName(policy.name), for all four):
//   - ValidatingAdmissionPolicy + binding (admissionregistration.k8s.io/v1), unless
//     admission is None: a Pod CREATE in the policy's namespaces whose spec, after every
//     mutation, carries a serviceAccountToken projected volume (the ground truth: the
//     ServiceAccount admission plugin has already decided) of an account the policy selects
//     is refused (Deny) or admitted with a warning (Warn). An Audit policy only warns.
//   - MutatingAdmissionPolicy + binding (v1beta1), only for an Enforce policy, where the API
//     server serves the API (context.mutatingServed): a selected ServiceAccount created
//     without the field gets automountServiceAccountToken false as it is created, so the
//     pods created right after it never get a token. One created with an explicit value is
//     left to the controller (a declared `true` is a decision, not an omission). Not for an
//     `unusedFor` policy: a new account has been observed for no time at all, so it is never unused
//     (policy/token_use.h evidenceFor()).
//
// How each selection step reaches the API server (policy/selection.h's order):
//   namespaces.selector   the bindings' matchResources.namespaceSelector
//   namespaces.exclude    a matchCondition on request.namespace (globs as RE2 patterns)
//   kube-system and saguard's own namespace: never matched unless the selector names them
//                         (kubernetes.io/metadata.name in matchLabels or an In expression)
//   serviceAccounts.names a CEL test of the pod's account name (the SA's own name on CREATE)
//   serviceAccounts.selector  the ServiceAccount's labels: for pods through params (paramKind
//                         ServiceAccount, paramRef.selector = this selector, evaluated once per
//                         matching account of the namespace, so only the pod's own counts);
//                         for ServiceAccounts, the binding's objectSelector
//   unboundOnly           saguard's decision as data: the accounts RBAC bindings name (from its
//                         cache) as a literal list in the policy, rewritten when it changes
//   unusedFor             saguard's decision as data: the cutoff day (now - window, rewritten
//                         once a day) against the account's saguard.io/token-last-used
//                         annotation and its creationTimestamp, through params; before
//                         observation covers the window nothing is unused (a literal false)
//   exemptions            a CEL test of namespace and account name
// failurePolicy is Ignore everywhere: an expression that errors admits the request, so
// nothing saguard creates can block a cluster's pods.
//
// Pure: the policy and the facts the API server cannot evaluate in, the objects out as
// the API server takes them. Each object carries annotation saguard.io/rendered-hash, a
// hash of everything else in it, so the keeper (controller/admission/) writes only when it
// changed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "objects/objects.h"
#include "policy/types.h"

namespace saguard::policy {

inline constexpr std::string_view kRenderedHashAnnotation = "saguard.io/rendered-hash";
inline constexpr std::string_view kPolicyAnnotation = "saguard.io/policy";

// The accounts RBAC bindings name (policy/bindings.h subjectScope()), the API server's
// built-in all-accounts bindings left out as accountIsBound() does: what unboundOnly
// reads. Sorted, unique.
struct BoundAccounts {
  bool all = false;                     // a binding names group system:serviceaccounts
  std::vector<std::string> namespaces;  // every account of these (system:serviceaccounts:<ns>)
  std::vector<std::string> accounts;    // "ns/name"

  friend bool operator==(const BoundAccounts&, const BoundAccounts&) = default;
};

BoundAccounts boundAccounts(std::span<const objects::Binding* const> bindings);

struct AdmissionContext {
  std::string selfNamespace;    // saguard's namespace; "" = unknown
  bool mutatingServed = false;  // admissionregistration.k8s.io/v1beta1 mutatingadmissionpolicies
  BoundAccounts bound;          // read only for unboundOnly
  std::int64_t now = 0;         // seconds since the epoch: read only for unusedFor
  // Since when audit events are observed (policy::UseEvidence::observingSince); 0 = no audit
  // source. Read only for unusedFor.
  std::int64_t observingSince = 0;
};

struct AdmissionObject {
  std::string apiVersion;  // "admissionregistration.k8s.io/v1"
  std::string kind;        // "ValidatingAdmissionPolicy", ...
  std::string resource;    // "validatingadmissionpolicies", ...
  std::string name;
  nlohmann::json object;  // the whole object, metadata.annotations[rendered-hash] included
};

struct AdmissionPlan {
  // In the order to create them (a policy before its binding). Empty for admission None.
  std::vector<AdmissionObject> objects;
  // Why there is no MutatingAdmissionPolicy ("" when there is one, or admission is None).
  std::string noMutatingReason;
  // What the plan keeps, in words, for the policy's Admission condition:
  // "ValidatingAdmissionPolicy saguard-p (Deny); MutatingAdmissionPolicy saguard-p".
  std::string summary;
  // When the plan changes by time alone (unusedFor's cutoff day moves, observation comes
  // to cover the window): seconds since the epoch, or nullopt.
  std::optional<std::int64_t> changesAt;
};

AdmissionPlan planAdmission(const Policy& policy, const AdmissionContext& context);

// "saguard-<policy>", shortened with a hash when that would exceed 253 characters.
std::string admissionObjectName(std::string_view policyName);

// Every kind a plan may hold, in creation order: what the keeper deletes when a kind
// leaves the plan.
struct AdmissionKind {
  std::string_view apiVersion;
  std::string_view kind;
  std::string_view resource;
};
std::span<const AdmissionKind> admissionKinds();

}  // namespace saguard::policy
