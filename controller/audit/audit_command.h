// `saguard audit`: the live, read-only audit of issue #7. Lists Pods, ServiceAccounts,
// RoleBindings, ClusterRoleBindings and ServiceAccountPolicies page by page (each page
// is decoded into projected records and dropped; only pods holding a token are kept),
// then judges every pod that really holds a token (audit/verdict.h).
//
//   saguard audit [-n NS | -A] [-o table|wide|json|yaml|openreports|policyreport]
//                 [--fail-on unneeded|review]
//                 [--audit-log FILE]... [--evidence-namespace NS] [--unused-window 720h]
//                 [--kubeconfig F] [--context C]
//
// Evidence of use: saguard's store (the ConfigMaps saguard-token-use-* that `saguard run`
// keeps with an audit source) and exported audit logs (--audit-log, for managed clusters
// whose API server flags cannot be set), folded the same way the controller folds them;
// the accounts' saguard.io/token-last-used annotations count too. With none of them the
// verdicts come from RBAC alone, and a note says so.
//
// Without -n or -A, the kubeconfig context's namespace (else "default") is audited.
// Exit codes: 0; 1 with --fail-on unneeded when a pod's token is unneeded, with
// --fail-on review when one is unneeded or to review; 2 usage errors; 3 when the
// cluster cannot be read (the message says why).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/verdict.h"
#include "base/result.h"

namespace saguard::kube {
class Client;
}

namespace saguard::audit {

struct AuditResult {
  std::string scope;  // the namespace audited, or "" for all
  std::vector<TokenHolder> rows;
  AuditSummary summary;
  std::size_t podsSeen = 0;        // every pod listed, token or not
  std::size_t policies = 0;        // valid ServiceAccountPolicies found
  std::vector<std::string> notes;  // e.g. "ServiceAccountPolicy CRD not installed"
  Evidence evidence;               // what the verdicts were decided with
};

// Where evidence of use comes from (audit/verdict.h's Evidence).
struct EvidenceOptions {
  // saguard's store (evidence/store.h) in this namespace; "" = do not read it.
  std::string storeNamespace = "saguard-system";
  std::vector<std::string> auditLogs;  // exported audit log files (plain or gzip, "-" = stdin)
  std::int64_t window = std::int64_t{30} * 86400;
  std::int64_t now = 0;  // seconds; 0 = the wall clock
};

// Reads the cluster. `ns` empty = all namespaces (ClusterRoleBindings and policies are
// always cluster-wide). Errors are the client's (Forbidden, Unavailable, ...), or a log
// file's (NotFound, Invalid: a corrupt gzip) that cannot be read.
Result<AuditResult> collectAudit(kube::Client& client, std::string_view ns,
                                 std::int64_t pageSize = 500, const EvidenceOptions& evidence = {});

// OpenReports and PolicyReport: the verdicts as policy reports of that API (audit_reports.h).
// Table fits 120 columns (bindings summarised, the verdict word alone); Wide spells every
// binding out and explains the verdict, as kubectl's -o wide.
enum class AuditFormat { Table, Wide, Json, Yaml, OpenReports, PolicyReport };
std::optional<AuditFormat> parseAuditFormat(std::string_view name);

// `colour`: ANSI colours for the verdicts (only when stdout is a terminal).
std::string renderAudit(const AuditResult& result, AuditFormat format, bool colour);

// `args` are the arguments after "audit".
int runAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace saguard::audit
