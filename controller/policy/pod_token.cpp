#include "policy/pod_token.h"

namespace saguard::policy {

using objects::TokenVolume;
using objects::Tristate;

const char* toString(TokenSource source) {
  switch (source) {
    case TokenSource::None:
      return "None";
    case TokenSource::PodSetsTrue:
      return "PodSetsTrue";
    case TokenSource::AccountSetsTrue:
      return "AccountSetsTrue";
    case TokenSource::Default:
      return "Default";
    case TokenSource::LegacySecretVolume:
      return "LegacySecretVolume";
    case TokenSource::PodDeclaresVolume:
      return "PodDeclaresVolume";
    case TokenSource::PredatesAccountChange:
      return "PredatesAccountChange";
  }
  return "None";
}

Automount automountOf(Tristate podField, std::optional<Tristate> accountField) {
  if (podField != Tristate::Unset) return {podField == Tristate::True, DecidedBy::Pod};
  if (!accountField) return {true, DecidedBy::UnknownAccount};
  if (*accountField != Tristate::Unset)
    return {*accountField == Tristate::True, DecidedBy::Account};
  return {true, DecidedBy::Default};
}

bool effectiveAutomount(Tristate podField, Tristate accountField) {
  return automountOf(podField, accountField).effective;
}

PodToken podToken(const objects::Pod& pod, const objects::ServiceAccount* account) {
  const Tristate accountField = account != nullptr ? account->automount : Tristate::Unset;
  PodToken out;
  out.effectiveAutomount = effectiveAutomount(pod.automount, accountField);
  out.holdsToken = pod.token != TokenVolume::None;
  switch (pod.token) {
    case TokenVolume::None:
      out.source = TokenSource::None;
      break;
    case TokenVolume::LegacySecret:
      out.source = TokenSource::LegacySecretVolume;
      break;
    case TokenVolume::Projected:
      // Which field admission followed tells how the projected token got there.
      switch (automountOf(pod.automount, accountField).decidedBy) {
        case DecidedBy::Pod:
          out.source = pod.automount == Tristate::True ? TokenSource::PodSetsTrue
                                                       : TokenSource::PodDeclaresVolume;
          break;
        case DecidedBy::Account:
          out.source = accountField == Tristate::True ? TokenSource::AccountSetsTrue
                                                      : TokenSource::PredatesAccountChange;
          break;
        case DecidedBy::Default:
        case DecidedBy::UnknownAccount:
          out.source = TokenSource::Default;
          break;
      }
      break;
  }
  return out;
}

bool recreationDropsToken(TokenSource source) {
  return source == TokenSource::PredatesAccountChange;
}

}  // namespace saguard::policy
