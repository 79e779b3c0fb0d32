#include "audit/audit_reports.h"

#include <nlohmann/json.hpp>

#include "audit/verdict_text.h"
#include "objects/ref.h"
#include "policy/token_use.h"
#include "reports/render.h"

namespace saguard::audit {
namespace {

reports::Outcome outcomeOf(Verdict verdict) {
  switch (verdict) {
    case Verdict::Unneeded:
      return reports::Outcome::Fail;
    case Verdict::Review:
    case Verdict::Unused:
      return reports::Outcome::Warn;
    case Verdict::Needed:
      return reports::Outcome::Pass;
    case Verdict::Exempt:
      return reports::Outcome::Skip;
  }
  return reports::Outcome::Error;
}

std::optional<policy::Severity> severityOf(Verdict verdict) {
  switch (verdict) {
    case Verdict::Unneeded:
      return policy::severityOf(policy::Reason::TokenMounted);
    case Verdict::Review:
    case Verdict::Unused:
      return policy::Severity::High;
    case Verdict::Needed:
    case Verdict::Exempt:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string messageOf(const TokenHolder& h) {
  const std::string account = "ServiceAccount " + objects::objectKey(h.namespace_, h.account);
  switch (h.verdict) {
    case Verdict::Unneeded:
      return "pod holds a token of " + account +
             ", which no RBAC binding names: the token only identifies the pod; set "
             "automountServiceAccountToken: false on the account or the pod";
    case Verdict::Review:
      return "pod holds a token of the namespace's default " + account +
             ", which RBAC bindings name: every pod of the namespace holds these permissions; "
             "give the pods that need them an account of their own";
    case Verdict::Unused:
      return "pod holds a token of " + account +
             ", which RBAC bindings name, but no use of it was recorded within the window: review "
             "the bindings";
    case Verdict::Needed:
      return "pod holds a token of " + account + ", which RBAC bindings name";
    case Verdict::Exempt:
      return account + " is exempt: " + h.exemptBy;
  }
  return {};
}

reports::Result resultOf(const TokenHolder& h, const Evidence& evidence) {
  reports::Result r;
  r.policy = std::string(kAuditPolicy);
  r.rule = std::string(kAuditRule);
  r.result = outcomeOf(h.verdict);
  r.severity = severityOf(h.verdict);
  r.timestamp = reports::Timestamp{evidence.now, 0};
  r.resources.push_back(objects::ObjectRef{.apiVersion = "v1",
                                           .kind = "Pod",
                                           .namespace_ = h.namespace_,
                                           .name = h.pod,
                                           .uid = {},
                                           .resourceVersion = {}});
  r.resources.push_back(objects::ObjectRef{.apiVersion = "v1",
                                           .kind = "ServiceAccount",
                                           .namespace_ = h.namespace_,
                                           .name = h.account,
                                           .uid = {},
                                           .resourceVersion = {}});
  r.message = messageOf(h);
  auto& p = r.properties;
  p["serviceAccount"] = objects::objectKey(h.namespace_, h.account);
  p["verdict"] = toString(h.verdict);
  p["tokenSource"] = policy::toString(h.source);
  std::string bindings;
  for (const GrantingBinding& b : h.bindings)
    bindings += (bindings.empty() ? "" : ", ") + bindingText(b);
  if (!bindings.empty()) p["bindings"] = bindings;
  if (!h.exemptBy.empty()) p["exemptBy"] = h.exemptBy;
  if (evidence.available) {
    if (h.lastUsed != 0) p["lastUsed"] = policy::useDayOf(h.lastUsed);
    std::string accesses;
    for (const std::string& a : h.accesses) accesses += (accesses.empty() ? "" : ", ") + a;
    if (!accesses.empty()) p["accesses"] = accesses;
    if (std::string why = evidenceText(h, evidence); !why.empty()) p["evidence"] = why;
  }
  return r;
}

}  // namespace

std::vector<reports::Result> auditResults(const AuditResult& result) {
  std::vector<reports::Result> out;
  out.reserve(result.rows.size());
  for (const TokenHolder& h : result.rows) out.push_back(resultOf(h, result.evidence));
  return out;
}

std::string renderAuditReports(const AuditResult& result, reports::Flavour flavour) {
  std::vector<reports::Report> grouped = reports::groupByScope(auditResults(result));
  if (!result.scope.empty()) {
    bool present = false;
    for (const auto& r : grouped) present = present || r.namespace_ == result.scope;
    if (!present) grouped.push_back(reports::Report{result.scope, {}});
  }
  nlohmann::json items = nlohmann::json::array();
  for (const reports::Report& r : grouped) {
    items.push_back(reports::render(r, flavour, kAuditReportName));
  }
  const nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
  return list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace saguard::audit
