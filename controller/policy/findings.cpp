#include "policy/findings.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "base/utf8.h"
#include "policy/ownership.h"
#include "policy/patch.h"

namespace saguard::policy {
namespace {

std::string accountRef(std::string_view ns, std::string_view name) {
  std::string out(ns);
  out += '/';
  out += name;
  return out;
}

bool moreSevere(const Finding& a, const Finding& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  return std::tie(a.kind, a.namespace_, a.name, a.reason, a.message) <
         std::tie(b.kind, b.namespace_, b.name, b.reason, b.message);
}

}  // namespace

const char* toString(FindingKind kind) {
  switch (kind) {
    case FindingKind::ServiceAccount:
      return "ServiceAccount";
    case FindingKind::Pod:
      return "Pod";
    case FindingKind::RoleBinding:
      return "RoleBinding";
    case FindingKind::ClusterRoleBinding:
      return "ClusterRoleBinding";
  }
  return "ServiceAccount";
}

const char* toString(Severity severity) {
  switch (severity) {
    case Severity::Info:
      return "Info";
    case Severity::Low:
      return "Low";
    case Severity::Medium:
      return "Medium";
    case Severity::High:
      return "High";
    case Severity::Critical:
      return "Critical";
  }
  return "Info";
}

Severity severityOf(Reason reason) {
  switch (reason) {
    case Reason::BindingGrantsSelectedAccount:
      return Severity::Critical;
    case Reason::PodOverridesPolicy:
      return Severity::High;
    case Reason::TokenMounted:
    case Reason::DeclaredByOwner:
      return Severity::Medium;
    case Reason::AutomountWouldBeDisabled:
      return Severity::Low;
    case Reason::DriftReverted:
    case Reason::AutomountDisabled:
    case Reason::PolicyInvalid:
      return Severity::Info;
  }
  return Severity::Info;
}

Finding makeFinding(FindingKind kind, std::string namespace_, std::string name, Reason reason,
                    std::string message) {
  return Finding{kind,   std::move(namespace_), std::move(name),
                 reason, std::move(message),    severityOf(reason)};
}

void rankFindings(std::vector<Finding>& findings, std::size_t cap) {
  // moreSevere is a strict total order up to identical findings, so partial_sort
  // (not stable) still gives one deterministic answer.
  if (findings.size() > cap) {
    std::partial_sort(findings.begin(), findings.begin() + static_cast<std::ptrdiff_t>(cap),
                      findings.end(), moreSevere);
    findings.resize(cap);
  } else {
    std::sort(findings.begin(), findings.end(), moreSevere);
  }
}

std::optional<Reason> podFindingReason(const objects::Pod& pod,
                                       const objects::ServiceAccount* account) {
  if (!podToken(pod, account).holdsToken) return std::nullopt;
  return pod.automount == objects::Tristate::True ? Reason::PodOverridesPolicy
                                                  : Reason::TokenMounted;
}

std::optional<Finding> podFinding(const objects::Pod& pod, const objects::ServiceAccount* account) {
  const PodToken token = podToken(pod, account);
  if (!token.holdsToken) return std::nullopt;
  const std::string ns = pod.meta.namespace_.str();
  const std::string sa = accountRef(ns, pod.serviceAccountName.view());
  if (pod.automount == objects::Tristate::True) {
    return makeFinding(FindingKind::Pod, ns, std::string(pod.meta.name()),
                       Reason::PodOverridesPolicy,
                       "pod sets automountServiceAccountToken: true itself and holds a token of "
                       "ServiceAccount " +
                           sa +
                           "; remove the field from the pod template and "
                           "recreate the pod");
  }
  std::string message;
  switch (token.source) {
    case TokenSource::LegacySecretVolume:
      message = "pod mounts a kubernetes.io/service-account-token Secret of ServiceAccount " + sa +
                " as a volume; remove that volume from the pod template";
      break;
    case TokenSource::PodDeclaresVolume:
      message = "pod declares a projected serviceAccountToken volume of ServiceAccount " + sa +
                " itself; remove that volume from the pod template if it does not call the "
                "Kubernetes API";
      break;
    case TokenSource::PredatesAccountChange:
      message = "pod holds a token of ServiceAccount " + sa +
                " because it was created before the account's automountServiceAccountToken "
                "became false; recreate it to drop the token";
      break;
    case TokenSource::AccountSetsTrue:
      message = "pod holds a token of ServiceAccount " + sa +
                " (the account sets automountServiceAccountToken: true); recreate it once the "
                "account is fixed";
      break;
    case TokenSource::Default:
    case TokenSource::PodSetsTrue:
    case TokenSource::None:
      message = "pod holds a token of ServiceAccount " + sa +
                " (automountServiceAccountToken was not false when it was created); recreate "
                "it once the account is fixed";
      break;
  }
  return makeFinding(FindingKind::Pod, ns, std::string(pod.meta.name()), Reason::TokenMounted,
                     std::move(message));
}

Finding bindingFinding(const objects::Binding& binding, const objects::Subject& subject,
                       std::string_view accountNamespace, std::string_view accountName) {
  const bool cluster = binding.clusterScoped;
  std::string message = std::string(cluster ? "ClusterRoleBinding" : "RoleBinding") + " grants " +
                        binding.roleRef.kind.str() + " " + binding.roleRef.name.str() +
                        " to selected ServiceAccount " + accountRef(accountNamespace, accountName);
  if (subject.kind.view() != "ServiceAccount") {
    message += " (through " + subject.kind.str() + " " + subject.name.str() + ")";
  }
  if (!cluster) message += " in namespace " + binding.meta.namespace_.str();
  message += "; any token of that account can use these permissions";
  return makeFinding(cluster ? FindingKind::ClusterRoleBinding : FindingKind::RoleBinding,
                     cluster ? std::string() : binding.meta.namespace_.str(),
                     std::string(binding.meta.name()), Reason::BindingGrantsSelectedAccount,
                     std::move(message));
}

std::optional<Finding> accountFinding(const objects::ServiceAccount& account,
                                      Enforcement enforcement) {
  if (!needsPatch(account)) return std::nullopt;
  if (enforcement == Enforcement::Enforce) {
    std::string message = declaredByOwnerMessage(declarationOf(account));
    if (message.empty()) return std::nullopt;  // not declared: the reconciler patches it
    return makeFinding(FindingKind::ServiceAccount, account.meta.namespace_.str(),
                       std::string(account.meta.name()), Reason::DeclaredByOwner,
                       std::move(message));
  }
  if (enforcement != Enforcement::Audit) return std::nullopt;
  std::string message =
      account.automount == objects::Tristate::True
          ? "automountServiceAccountToken is true; Enforce would set it to false"
          : "automountServiceAccountToken is unset (defaults to true); Enforce would set it to "
            "false";
  return makeFinding(FindingKind::ServiceAccount, account.meta.namespace_.str(),
                     std::string(account.meta.name()), Reason::AutomountWouldBeDisabled,
                     std::move(message));
}

nlohmann::json findingsToJson(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) {
    nlohmann::json item = nlohmann::json::object();
    item["kind"] = toString(f.kind);
    if (!f.namespace_.empty()) item["namespace"] = f.namespace_;
    item["name"] = f.name;
    item["reason"] = toString(f.reason);
    item["message"] = std::string(cutUtf8(f.message, kMaxFindingMessageLength));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace saguard::policy
