// The Event reasons of DESIGN.md, one enum for the whole controller: policy/ ranks
// findings by them (findings.h), events/ binds each to its Event type, action and
// kinds (events/vocabulary.h), the reconciler passes them from one to the other.
#pragma once

#include <array>
#include <cstdint>

namespace saguard::policy {

enum class Reason : std::uint8_t {
  AutomountDisabled,
  DriftReverted,
  AutomountWouldBeDisabled,
  TokenMounted,
  PodOverridesPolicy,
  BindingGrantsSelectedAccount,
  PolicyInvalid,
  DeclaredByOwner,
};

inline constexpr std::array<Reason, 8> kAllReasons{
    Reason::AutomountDisabled, Reason::DriftReverted,      Reason::AutomountWouldBeDisabled,
    Reason::TokenMounted,      Reason::PodOverridesPolicy, Reason::BindingGrantsSelectedAccount,
    Reason::PolicyInvalid,     Reason::DeclaredByOwner,
};

// The reason as an Event's `reason` field says it: "AutomountDisabled".
const char* toString(Reason reason);

}  // namespace saguard::policy
