// The ServiceAccountPolicy API (saguard.io/v1alpha1) as C++ values: what
// parsePolicy() (policy/parse.h) produces from the object the API server returns,
// with every default already applied, and what the selection functions
// (policy/selection.h) read. A Policy is immutable once parsed; the reconciler keeps
// one per policy object and re-parses it when its generation changes.
//
// The limits below are shared with the CRD (crd/saguard.io_serviceaccountpolicies.yaml):
// the CRD rejects what exceeds them at apply time, and parsePolicy() checks them again
// because a policy may also come from a file (offline lint) or an older CRD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/intern.h"

namespace saguard::policy {

// Enforce patches ServiceAccounts; Audit writes nothing but status and Events.
enum class Mode : std::uint8_t { Enforce, Audit };

const char* toString(Mode mode);

// What saguard keeps at admission for the policy (policy/admission.h): None keeps nothing;
// Warn admits a pod that would hold a selected account's token with a warning; Deny
// refuses it. An Audit-mode policy never denies: its Deny acts as Warn. Default Warn: it
// never refuses a request, so it is safe to turn on everywhere, and it tells whoever
// creates the pod at the moment they do.
enum class Admission : std::uint8_t { None, Warn, Deny };

const char* toString(Admission admission);

// metav1.LabelSelectorOperator.
enum class SelectorOperator : std::uint8_t { In, NotIn, Exists, DoesNotExist };

const char* toString(SelectorOperator op);

struct SelectorRequirement {
  Symbol key;
  SelectorOperator op = SelectorOperator::Exists;
  std::vector<Symbol> values;  // non-empty for In/NotIn, empty for Exists/DoesNotExist

  friend bool operator==(const SelectorRequirement&, const SelectorRequirement&) = default;
};

// metav1.LabelSelector. Every requirement must hold (AND); an empty selector matches
// every object. Keys and values are interned so that matching against cached
// objects::Labels compares pointers.
struct LabelSelector {
  std::vector<std::pair<Symbol, Symbol>> matchLabels;  // sorted by key, unique keys
  std::vector<SelectorRequirement> matchExpressions;

  bool empty() const { return matchLabels.empty() && matchExpressions.empty(); }
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

struct NamespaceSelection {
  std::optional<LabelSelector> selector;  // over Namespace labels; nullopt = every namespace
  std::vector<std::string> exclude;       // namespace-name globs, applied after the selector

  friend bool operator==(const NamespaceSelection&, const NamespaceSelection&) = default;
};

struct AccountSelection {
  std::optional<std::vector<std::string>> names;  // ServiceAccount-name globs; nullopt = all
  std::optional<LabelSelector> selector;          // over ServiceAccount labels; nullopt = all
  bool unboundOnly = false;  // only accounts that no RoleBinding/ClusterRoleBinding names
  // Only accounts whose tokens have no recorded use in this many seconds (policy/token_use.h);
  // nullopt = use does not matter.
  std::optional<std::int64_t> unusedFor;

  friend bool operator==(const AccountSelection&, const AccountSelection&) = default;
};

// An account that really calls the Kubernetes API. Both globs must match.
struct Exemption {
  std::string namespaceGlob;
  std::string nameGlob;
  std::string reason;  // free text, may be empty; echoed in decisions and logs

  friend bool operator==(const Exemption&, const Exemption&) = default;
};

struct Policy {
  std::string name;  // metadata.name (the policy is cluster-scoped)
  std::string uid;
  std::int64_t generation = 0;
  Mode mode = Mode::Enforce;
  Admission admission = Admission::Warn;
  NamespaceSelection namespaces;
  AccountSelection serviceAccounts;
  std::vector<Exemption> exemptions;
  bool reportPods = true;
  bool reportBindings = true;

  friend bool operator==(const Policy&, const Policy&) = default;
};

// Limits shared with the CRD schema. Names are DNS-1123 labels (namespaces, 63) and
// subdomains (ServiceAccounts, 253); a glob longer than the longest name it could
// match makes no sense.
inline constexpr std::size_t kMaxNamespaceGlobLength = 63;
inline constexpr std::size_t kMaxAccountGlobLength = 253;
inline constexpr std::size_t kMaxGlobs = 64;  // per list (exclude, names)
inline constexpr std::size_t kMaxExemptions = 256;
inline constexpr std::size_t kMaxReasonLength = 512;
inline constexpr std::size_t kMaxSelectorEntries = 64;  // matchLabels, matchExpressions, values
inline constexpr std::size_t kMaxLabelKeyLength = 317;  // 253-char prefix + '/' + 63-char name
inline constexpr std::size_t kMaxLabelValueLength = 63;
// serviceAccounts.unusedFor: at least a minute (audit batches arrive a second or so late),
// at most ten years.
inline constexpr std::int64_t kMinUnusedForSeconds = 60;
inline constexpr std::int64_t kMaxUnusedForSeconds = std::int64_t{10} * 365 * 86400;

}  // namespace saguard::policy
