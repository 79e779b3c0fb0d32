#include "events/vocabulary.h"

#include <algorithm>

namespace saguard::events {
namespace {

// Indexed by Reason; the static_assert below keeps the table and the enum in step.
constexpr std::array<ReasonSpec, kAllReasons.size()> kSpecs{{
    {EventType::Normal, "Patch", {"ServiceAccount", ""}},   // AutomountDisabled
    {EventType::Warning, "Patch", {"ServiceAccount", ""}},  // DriftReverted
    {EventType::Warning, "Audit", {"ServiceAccount", ""}},  // AutomountWouldBeDisabled
    {EventType::Warning, "Report", {"Pod", ""}},            // TokenMounted
    {EventType::Warning, "Report", {"Pod", ""}},            // PodOverridesPolicy
    {EventType::Warning,
     "Report",
     {"RoleBinding", "ClusterRoleBinding"}},  // BindingGrantsSelectedAccount
    {EventType::Warning, "Reconcile", {"ServiceAccountPolicy", ""}},  // PolicyInvalid
    {EventType::Warning, "Patch", {"ServiceAccount", ""}},            // DeclaredByOwner
}};
static_assert(static_cast<std::size_t>(Reason::DeclaredByOwner) + 1 == kSpecs.size());

constexpr std::array<KindSpec, 5> kKinds{{
    {"ServiceAccount", "v1", true},
    {"Pod", "v1", true},
    {"RoleBinding", "rbac.authorization.k8s.io/v1", true},
    {"ClusterRoleBinding", "rbac.authorization.k8s.io/v1", false},
    {"ServiceAccountPolicy", "saguard.io/v1alpha1", false},
}};

}  // namespace

const ReasonSpec& specOf(Reason reason) {
  return kSpecs[static_cast<std::size_t>(reason)];
}

bool isAbout(Reason reason, std::string_view kind) {
  if (kind.empty()) return false;
  const auto& kinds = specOf(reason).kinds;
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

const char* toString(EventType type) {
  return type == EventType::Normal ? "Normal" : "Warning";
}

std::optional<Reason> parseReason(std::string_view name) {
  for (Reason reason : kAllReasons) {
    if (toString(reason) == name) return reason;
  }
  return std::nullopt;
}

const KindSpec* findKind(std::string_view kind) {
  for (const auto& spec : kKinds) {
    if (spec.kind == kind) return &spec;
  }
  return nullptr;
}

}  // namespace saguard::events
