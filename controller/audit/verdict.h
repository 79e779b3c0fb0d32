// The judgement behind `saguard audit` (the live, read-only audit of issue #7), kept
// apart from fetching so it can be tested without a cluster: given the projected
// records of a cluster, every pod that really holds a token (its volumes are the ground
// truth, objects::Pod::token), how the token got there (policy::podToken), the bindings
// that name its account, and a verdict:
//   exempt    an exemption of some policy matches the account (checked first)
//   unneeded  no binding names the account: the token can only identify the pod
//   review    a binding names a namespace's `default` account (every pod there gets it)
//   needed    a non-default account that bindings name
// With evidence of use (an audit source: saguard's store or exported audit logs, whose
// observation covers the window), the facts decide instead of the structure:
//   needed    its token was used within the window (the evidence says when and for what)
//   unneeded  no binding names it and no use in the window
//   unused    a binding names it, but no use in the window: review the binding
// An account whose observation does not cover the window yet keeps its structural
// verdict; without any audit source the verdicts are structural and say so.
// Bindings are counted as in policy/bindings.h, skipping the API server's built-in
// all-accounts bindings (policy::isBuiltinAllAccountsBinding).
//
//   std::vector<TokenHolder> rows = findTokenHolders(pods, accounts, bindings, policies);
//   AuditSummary summary = summarize(rows);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "objects/objects.h"
#include "objects/ref.h"
#include "policy/ownership.h"
#include "policy/pod_token.h"
#include "policy/token_use.h"
#include "policy/types.h"

namespace saguard::audit {

enum class Verdict : std::uint8_t { Unneeded, Review, Needed, Exempt, Unused };

const char* toString(Verdict verdict);  // "unneeded", "review", "needed", "exempt", "unused"

// What the audit sources say, for the verdicts.
struct Evidence {
  bool available = false;                              // some audit source was read
  std::int64_t now = 0;                                // seconds
  std::int64_t window = std::int64_t{30} * 86400;      // "no use in <window>"
  std::int64_t observingSince = 0;                     // 0 = unknown
  std::map<std::string, policy::AccountUse> accounts;  // "ns/name" -> what was recorded
  // "ns/name" -> the latest kubernetes.io/legacy-token-last-used label of the account's
  // legacy token Secrets (the API server keeps it itself, day-granular).
  std::map<std::string, std::string> legacyTokenDays;
};

struct GrantingBinding {
  std::string kind;        // RoleBinding or ClusterRoleBinding
  std::string namespace_;  // empty for a ClusterRoleBinding
  std::string name;
  std::string roleKind;  // Role or ClusterRole
  std::string roleName;

  friend bool operator==(const GrantingBinding&, const GrantingBinding&) = default;
};

struct TokenHolder {
  std::string namespace_;
  std::string pod;
  std::string account;
  policy::TokenSource source = policy::TokenSource::None;
  std::vector<GrantingBinding> bindings;  // sorted by kind, namespace, name
  Verdict verdict = Verdict::Unneeded;
  std::string exemptBy;  // for Exempt: "policy-name" and the exemption reason, if any
  // Evidence of use (Evidence::available): the last use (0 = none recorded; the account's
  // last-used annotation folded in) and the latest accesses, "list configmaps",
  // "get secrets (403)", newest first (at most 3).
  std::int64_t lastUsed = 0;
  std::vector<std::string> accesses;
  // Who declares the account's automountServiceAccountToken (policy/ownership.h): a
  // GitOps tool's declaration is why an Enforce policy leaves the account alone. None
  // when the account is not in the input.
  policy::Declaration fieldOwner;
  // The pod's controller (metadata.ownerReferences, controller: true): kind and name, with
  // the pod's namespace; kind empty for a bare pod, "Other" for a kind objects::
  // ControllerKind does not list, name empty when the record does not know it (objects::
  // Pod); uid empty. `saguard restart` completes it (a GET of the pod) and groups by it.
  objects::ObjectRef controller;

  friend bool operator==(const TokenHolder&, const TokenHolder&) = default;
};

// One row per pod that holds a token, sorted by namespace then pod name. Pods without
// a token are left out whatever their fields say. `accounts` may miss a pod's account
// (then the source is judged from the pod alone).
std::vector<TokenHolder> findTokenHolders(std::span<const objects::Pod> pods,
                                          std::span<const objects::ServiceAccount> accounts,
                                          std::span<const objects::Binding> bindings,
                                          std::span<const policy::Policy> policies,
                                          const Evidence& evidence = {});

struct AuditSummary {
  std::size_t pods = 0;  // pods holding a token
  std::size_t unneeded = 0, review = 0, needed = 0, exempt = 0, unused = 0;

  friend bool operator==(const AuditSummary&, const AuditSummary&) = default;
};

AuditSummary summarize(std::span<const TokenHolder> rows);

}  // namespace saguard::audit
