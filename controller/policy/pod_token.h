// The effective-token rule for pods, from the Kubernetes documentation:
//   effective automount = the pod's spec.automountServiceAccountToken if set,
//                         else the ServiceAccount's automountServiceAccountToken if set,
//                         else true.
// The admission plugin applies it once, at pod CREATE; afterwards the pod's volumes
// are the only truth about whether it holds a token (objects::Pod::token, decoded from
// spec.volumes). So podToken() reports both: what the rule says now, and what the pod
// really holds and why.
#pragma once

#include <cstdint>
#include <optional>

#include "objects/objects.h"

namespace saguard::policy {

// Why a pod holds a token (None when it holds none).
enum class TokenSource : std::uint8_t {
  None,                // no token volume
  PodSetsTrue,         // a projected token, and the pod sets the field true itself
  AccountSetsTrue,     // a projected token; the pod leaves the field unset, the account sets true
  Default,             // a projected token; neither sets the field (or the account is unknown)
  LegacySecretVolume,  // a secret volume of a kubernetes.io/service-account-token Secret
  PodDeclaresVolume,   // a projected token although the pod sets false: it declares the
                       // serviceAccountToken volume itself
  PredatesAccountChange,  // a projected token; the pod leaves the field unset and the account
                          // now sets false: the pod was created before that
};

const char* toString(TokenSource source);

struct PodToken {
  bool effectiveAutomount = true;  // what admission would decide if the pod were created now
  bool holdsToken = false;         // what its volumes say
  TokenSource source = TokenSource::None;

  friend bool operator==(const PodToken&, const PodToken&) = default;
};

// Whether the same pod, recreated now from the same spec with its account as it is now,
// would hold no token: only a pod whose token predates the account's change to false.
// Every other source comes back (the pod or the account asks for it, the default gives
// it, the pod declares the volume itself). `saguard restart` restarts nothing else.
bool recreationDropsToken(TokenSource source);

// `account` is the pod's ServiceAccount, or nullptr when it is not known (then only
// the pod field and the default count).
PodToken podToken(const objects::Pod& pod, const objects::ServiceAccount* account);

// Which field decided the effective automount.
enum class DecidedBy : std::uint8_t {
  Pod,             // the pod sets the field itself
  Account,         // the pod leaves it unset; the account sets it
  Default,         // neither sets it: true
  UnknownAccount,  // the pod leaves it unset and its account is not known (judged true)
};

struct Automount {
  bool effective = true;
  DecidedBy decidedBy = DecidedBy::Default;

  friend bool operator==(const Automount&, const Automount&) = default;
};

// THE precedence rule: the pod's field if set, else the account's if set, else true.
// `accountField` is nullopt when the account is not known (a manifest that does not
// include it); the pod field alone then decides, or the default. Every caller that asks
// "does this pod get a token" (podToken(), findings, `saguard lint`) asks this.
Automount automountOf(objects::Tristate podField, std::optional<objects::Tristate> accountField);

// The effective automount alone, for a known account.
bool effectiveAutomount(objects::Tristate podField, objects::Tristate accountField);

}  // namespace saguard::policy
