// `saguard audit -o openreports|policyreport`: the audit's verdicts as policy reports,
// printed as one v1 List that `kubectl apply -f -` (and `kubectl create -f -`) accepts.
//
//   std::vector<reports::Result> results = auditResults(result);
//   std::string text = renderAuditReports(result, reports::Flavour::OpenReports);
//
// Each row (a pod that holds a token) gives one result, under policy kAuditPolicy and rule
// kAuditRule ("does this pod need its token?"):
//   verdict   result  severity  why
//   unneeded  fail    medium    the token grants nothing: disable it (TokenMounted's severity)
//   review    warn    high      a default account with permissions: every pod of the
//                               namespace holds them
//   unused    warn    high      permissions that the evidence shows nobody used
//   needed    pass    -
//   exempt    skip    -         a policy's exemption: saguard does not judge it
// resources: the Pod, then its ServiceAccount (no uids: the audit does not keep them).
// properties: serviceAccount, verdict, tokenSource, bindings, exemptBy, and with evidence
// of use lastUsed (UTC day), accesses, evidence.
//
// Decisions:
//   - Reports are named kAuditReportName ("saguard-audit"), not the controller's "saguard":
//     applying an audit to a cluster where saguard runs must not overwrite what the
//     controller keeps, and the two say different things (verdicts of need against policy
//     findings).
//   - Pods are namespaced, so every result is in a namespace's report; bindings, cluster
//     ones too, are named in properties. With -n the audited namespace gets a report even
//     without results (it was audited and is clean); with -A only namespaces with pods
//     holding a token appear (the audit does not list namespaces).
//   - A JSON List rather than multi-document YAML: one document kubectl, jq and `kubectl
//     apply` read alike, rendered byte-stable by reports::render().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_command.h"
#include "reports/flavour.h"
#include "reports/report.h"

namespace saguard::audit {

inline constexpr std::string_view kAuditPolicy = "saguard-audit";
inline constexpr std::string_view kAuditRule = "TokenNeeded";
inline constexpr std::string_view kAuditReportName = "saguard-audit";

// One result per row, timestamped result.evidence.now.
std::vector<reports::Result> auditResults(const AuditResult& result);

// The reports of the audit, grouped by namespace, as a v1 List (JSON, 2-space indent,
// ending in a newline).
std::string renderAuditReports(const AuditResult& result, reports::Flavour flavour);

}  // namespace saguard::audit
