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

bool effectiveAutomount(Tristate podField, Tristate accountField) {
  if (podField != Tristate::Unset) return podField == Tristate::True;
  if (accountField != Tristate::Unset) return accountField == Tristate::True;
  return true;
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
      if (pod.automount == Tristate::True) {
        out.source = TokenSource::PodSetsTrue;
      } else if (pod.automount == Tristate::False) {
        out.source = TokenSource::PodDeclaresVolume;
      } else if (accountField == Tristate::True) {
        out.source = TokenSource::AccountSetsTrue;
      } else if (accountField == Tristate::False) {
        out.source = TokenSource::PredatesAccountChange;
      } else {
        out.source = TokenSource::Default;
      }
      break;
  }
  return out;
}

}  // namespace saguard::policy
