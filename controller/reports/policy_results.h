// The results of a ServiceAccountPolicy's findings: what the controller publishes in
// reports for one evaluation (policy/evaluate.h). Pure.
//
//   const Timestamp at{clock.now()};
//   std::vector<Result> results = resultsOf(policy.name, evaluation.findings, at);
//   for (const auto& account : compliantAccounts) results.push_back(passOf(policy.name, *account,
//   at)); std::vector<Report> reports = groupByScope(std::move(results));   // report.h
//
// Each finding gives one result:
//   policy     the ServiceAccountPolicy's name
//   rule       the finding's reason ("TokenMounted"), so a report and the Events agree
//   result     outcomeOf(reason): see the table there
//   severity   policy::severityOf(reason) (the finding's)
//   resources  the object the finding is about (Pod, RoleBinding, ClusterRoleBinding or
//              ServiceAccount), then, for pods and bindings, the selected account
//   message    the finding's message, with the evidence of use (PendingFinding::build())
//   properties serviceAccount "ns/name"; pods: tokenSource (policy::TokenSource);
//              bindings: role "ClusterRole/admin", subject "Group/system:serviceaccounts"
//              (the subject naming the account); accounts: automountServiceAccountToken
//              ("true", "unset"); with evidence: tokenLastUsed / observingSince (UTC days,
//              as the messages say them, so a report does not change with every use)
// A ClusterRoleBinding's result belongs in the cluster report, the others in the report of
// their object's namespace (report.h scopeOf()).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "objects/objects.h"
#include "policy/evaluate.h"
#include "policy/reason.h"
#include "reports/report.h"

namespace saguard::reports {

// The rule of a pass result for a selected account whose automountServiceAccountToken is
// false: the state the AutomountDisabled action leads to.
inline constexpr std::string_view kAccountCompliantRule = "AutomountDisabled";

// A finding's `result`, by its reason, or nullopt for the reasons that are not findings
// (actions and policy state, reported as Events and conditions):
//   fail   TokenMounted, PodOverridesPolicy, AutomountWouldBeDisabled, DeclaredByOwner:
//          the object is out of the policy and the message says the fix (for
//          DeclaredByOwner, properties declaredBy and declaration name the owner)
//   warn   BindingGrantsSelectedAccount: the policy selects the account, yet a binding grants
//          it permissions, so its pods may need the token: remove the binding or exempt the
//          account (the linter's SAG004 is a warning for the same reason)
// Adding a Reason adds one case here; the compiler names the switch that lacks it.
std::optional<Outcome> outcomeOf(policy::Reason reason);

// The result of one finding of policy `policyName`, or nullopt when its reason has no
// outcome. `at` is the result's timestamp.
std::optional<Result> resultOf(const policy::PendingFinding& finding, std::string_view policyName,
                               Timestamp at);

// resultOf() for every finding, in their order (render() sorts).
std::vector<Result> resultsOf(std::string_view policyName,
                              std::span<const policy::PendingFinding> findings, Timestamp at);

// A pass for a selected account whose field is false (compliant): rule
// kAccountCompliantRule, no severity, the account as its resource.
Result passOf(std::string_view policyName, const objects::ServiceAccount& account, Timestamp at);

}  // namespace saguard::reports
