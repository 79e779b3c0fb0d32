#include "audit/audit_command.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/flags.h"
#include "codec/decoder.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "policy/record.h"

namespace saguard::audit {
namespace {

// Lists `resource` page by page and decodes each page into records of kind K, handing
// each record to `keep` (which decides what to hold); a page restarting the listing
// (index 0 after an expired continue token) calls `restart` first.
template <codec::Kind K, typename Keep, typename Restart>
Status listRecords(kube::Client& client, codec::Decoder& decoder, const kube::Resource& resource,
                   std::string_view ns, std::int64_t pageSize, Keep keep, Restart restart) {
  std::string buffer;
  return kube::listPages(client, resource, ns, {.limit = pageSize},
                         [&](const kube::Page& page) -> Status {
                           if (page.index == 0) restart();
                           buffer.assign(page.body);
                           codec::ListSink<codec::RecordOf<K>> sink;
                           sink.onItem = [&](codec::RecordOf<K>&& item) { keep(std::move(item)); };
                           auto meta = decoder.list<K>(buffer, sink);
                           if (!meta.ok()) return meta.error();
                           return {};
                         });
}

const char* sourceText(policy::TokenSource s) {
  switch (s) {
    case policy::TokenSource::PodSetsTrue:
      return "pod sets true";
    case policy::TokenSource::AccountSetsTrue:
      return "account sets true";
    case policy::TokenSource::Default:
      return "default";
    case policy::TokenSource::LegacySecretVolume:
      return "legacy token Secret volume";
    case policy::TokenSource::PodDeclaresVolume:
      return "pod declares the token volume";
    case policy::TokenSource::PredatesAccountChange:
      return "created before the account set false";
    case policy::TokenSource::None:
      return "none";
  }
  return "none";
}

std::string bindingText(const GrantingBinding& b) {
  return b.kind + "/" + (b.namespace_.empty() ? "" : b.namespace_ + "/") + b.name + " (" +
         b.roleKind + "/" + b.roleName + ")";
}

std::string summaryText(const AuditResult& r) {
  const AuditSummary& s = r.summary;
  return std::to_string(s.pods) + " of " + std::to_string(r.podsSeen) +
         " pods hold a token: " + std::to_string(s.unneeded) + " unneeded, " +
         std::to_string(s.review) + " review, " + std::to_string(s.needed) + " needed, " +
         std::to_string(s.exempt) + " exempt";
}

nlohmann::ordered_json toJsonValue(const AuditResult& r) {
  nlohmann::ordered_json pods = nlohmann::ordered_json::array();
  for (const TokenHolder& h : r.rows) {
    nlohmann::ordered_json j;
    j["namespace"] = h.namespace_;
    j["pod"] = h.pod;
    j["serviceAccount"] = h.account;
    j["tokenSource"] = policy::toString(h.source);
    nlohmann::ordered_json bindings = nlohmann::ordered_json::array();
    for (const GrantingBinding& b : h.bindings) {
      bindings.push_back({{"kind", b.kind},
                          {"namespace", b.namespace_},
                          {"name", b.name},
                          {"roleKind", b.roleKind},
                          {"roleName", b.roleName}});
    }
    j["bindings"] = std::move(bindings);
    j["verdict"] = toString(h.verdict);
    if (!h.exemptBy.empty()) j["exemptBy"] = h.exemptBy;
    pods.push_back(std::move(j));
  }
  nlohmann::ordered_json out;
  out["pods"] = std::move(pods);
  out["summary"] = {{"podsSeen", r.podsSeen},         {"withToken", r.summary.pods},
                    {"unneeded", r.summary.unneeded}, {"review", r.summary.review},
                    {"needed", r.summary.needed},     {"exempt", r.summary.exempt}};
  if (!r.notes.empty()) out["notes"] = r.notes;
  return out;
}

void emitYaml(YAML::Emitter& e, const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    e << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      e << YAML::Key << it.key() << YAML::Value;
      emitYaml(e, it.value());
    }
    e << YAML::EndMap;
  } else if (j.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& v : j) emitYaml(e, v);
    e << YAML::EndSeq;
  } else if (j.is_string()) {
    e << YAML::DoubleQuoted << j.get<std::string>();
  } else if (j.is_number_unsigned()) {
    e << j.get<std::uint64_t>();
  } else if (j.is_number_integer()) {
    e << j.get<std::int64_t>();
  } else if (j.is_boolean()) {
    e << j.get<bool>();
  } else {
    e << YAML::Null;
  }
}

std::string renderTable(const AuditResult& r, bool colour) {
  std::vector<std::vector<std::string>> cells{
      {"NAMESPACE", "POD", "ACCOUNT", "TOKEN", "BINDINGS", "VERDICT"}};
  for (const TokenHolder& h : r.rows) {
    std::string bindings;
    for (const GrantingBinding& b : h.bindings)
      bindings += (bindings.empty() ? "" : ", ") + bindingText(b);
    if (bindings.empty()) bindings = "-";
    std::string verdict = toString(h.verdict);
    if (!h.exemptBy.empty()) verdict += " (" + h.exemptBy + ")";
    cells.push_back({h.namespace_, h.pod, h.account, sourceText(h.source), bindings, verdict});
  }
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (std::size_t r0 = 0; r0 < cells.size(); ++r0) {
    const auto& row = cells[r0];
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      std::string cell = row[i];
      if (colour && last && r0 > 0) {
        const Verdict v = r.rows[r0 - 1].verdict;
        const char* code = v == Verdict::Unneeded ? "\033[31m"
                           : v == Verdict::Review ? "\033[33m"
                                                  : "\033[32m";
        cell.insert(0, code);
        cell += "\033[0m";
      }
      line += cell;
      if (!last) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  out += summaryText(r) + "\n";
  for (const std::string& n : r.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace

Result<AuditResult> collectAudit(kube::Client& client, std::string_view ns, std::int64_t pageSize) {
  AuditResult result;
  result.scope = std::string(ns);
  codec::Decoder decoder;
  std::vector<objects::Pod> pods;  // only those holding a token
  Status st = listRecords<codec::Kind::Pod>(
      client, decoder, kube::resources::kPods, ns, pageSize,
      [&](objects::Pod&& p) {
        ++result.podsSeen;
        if (p.token != objects::TokenVolume::None) pods.push_back(std::move(p));
      },
      [&] {
        pods.clear();
        result.podsSeen = 0;
      });
  if (!st.ok()) return st.error();
  std::vector<objects::ServiceAccount> accounts;
  st = listRecords<codec::Kind::ServiceAccount>(
      client, decoder, kube::resources::kServiceAccounts, ns, pageSize,
      [&](objects::ServiceAccount&& a) { accounts.push_back(std::move(a)); },
      [&] { accounts.clear(); });
  if (!st.ok()) return st.error();
  std::vector<objects::Binding> bindings;
  st = listRecords<codec::Kind::RoleBinding>(
      client, decoder, kube::resources::kRoleBindings, ns, pageSize,
      [&](objects::Binding&& b) { bindings.push_back(std::move(b)); }, [&] { bindings.clear(); });
  if (!st.ok()) return st.error();
  std::vector<objects::Binding> clusterBindings;
  st = listRecords<codec::Kind::ClusterRoleBinding>(
      client, decoder, kube::resources::kClusterRoleBindings, "", pageSize,
      [&](objects::Binding&& b) { clusterBindings.push_back(std::move(b)); },
      [&] { clusterBindings.clear(); });
  if (!st.ok()) return st.error();
  bindings.insert(bindings.end(), std::make_move_iterator(clusterBindings.begin()),
                  std::make_move_iterator(clusterBindings.end()));

  // Decoded as the reconciler's informer decodes them (policy/record.h).
  std::vector<policy::Policy> policies;
  st = kube::listPages(
      client, kube::resources::kServiceAccountPolicies, "", {.limit = pageSize},
      [&](const kube::Page& page) -> Status {
        if (page.index == 0) policies.clear();
        auto items = policy::policyRecordsFromList(page.body);
        if (!items.ok()) return makeError(ErrorKind::Internal, items.error().message);
        for (const auto& item : *items) {
          if (!item.ok()) {
            result.notes.push_back("invalid policy ignored: " + item.error().message);
          } else if (item->policy) {
            policies.push_back(*item->policy);
          } else {
            result.notes.push_back("invalid policy ignored: " + item->invalid->message);
          }
        }
        return {};
      });
  if (st.is(ErrorKind::NotFound)) {
    result.notes.push_back("the ServiceAccountPolicy CRD is not installed: no exemptions apply");
  } else if (!st.ok()) {
    return st.error();
  }
  result.policies = policies.size();
  result.rows = findTokenHolders(pods, accounts, bindings, policies);
  result.summary = summarize(result.rows);
  return result;
}

std::optional<AuditFormat> parseAuditFormat(std::string_view name) {
  if (name == "table" || name == "wide") return AuditFormat::Table;
  if (name == "json") return AuditFormat::Json;
  if (name == "yaml") return AuditFormat::Yaml;
  return std::nullopt;
}

std::string renderAudit(const AuditResult& result, AuditFormat format, bool colour) {
  switch (format) {
    case AuditFormat::Table:
      return renderTable(result, colour);
    case AuditFormat::Json:
      return toJsonValue(result).dump(2, ' ', false,
                                      nlohmann::ordered_json::error_handler_t::replace) +
             "\n";
    case AuditFormat::Yaml: {
      YAML::Emitter e;
      emitYaml(e, toJsonValue(result));
      return std::string(e.c_str()) + "\n";
    }
  }
  return {};
}

int runAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string kubeconfig, context, ns, output = "table", failOn;
  bool all = false;
  int pageSize = 500;
  FlagSet flags("saguard audit",
                "Lists every pod that really holds a ServiceAccount token (its volumes say so), "
                "how the token\n"
                "got there, the RBAC bindings that name its account, and a verdict: unneeded, "
                "review, needed\n"
                "or exempt. Read-only.");
  flags.add("kubeconfig", &kubeconfig,
            "Path to a kubeconfig. Default: $KUBECONFIG, in-cluster, ~/.kube/config.");
  flags.add("context", &context, "The kubeconfig context to use.");
  flags.add("namespace", &ns,
            "The namespace to audit. Default: the context's namespace, else default.");
  flags.alias('n', "namespace");
  flags.add("all-namespaces", &all, "Audit every namespace.");
  flags.alias('A', "all-namespaces");
  flags.add("output", &output, "table, json or yaml.");
  flags.alias('o', "output");
  flags.add("fail-on", &failOn,
            "Exit 1 when a token is `unneeded`, or `review` (unneeded or review).");
  flags.add("page-size", &pageSize, "Items per list page.");
  auto rest = flags.parse(args);
  if (!rest.ok()) {
    err << "saguard audit: " << rest.error().message << "\n\n" << flags.usage();
    return 2;
  }
  if (flags.helpRequested()) {
    out << flags.usage();
    return 0;
  }
  auto format = parseAuditFormat(output);
  if (!format) {
    err << "saguard audit: --output must be table, json or yaml, not \"" << output << "\"\n";
    return 2;
  }
  if (!rest->empty()) {
    err << "saguard audit: unexpected argument \"" << rest->front() << "\"\n";
    return 2;
  }
  if (!failOn.empty() && failOn != "unneeded" && failOn != "review") {
    err << "saguard audit: --fail-on must be unneeded or review, not \"" << failOn << "\"\n";
    return 2;
  }
  if (all && !ns.empty()) {
    err << "saguard audit: give -n or -A, not both\n";
    return 2;
  }
  if (pageSize <= 0) {
    err << "saguard audit: --page-size must be positive\n";
    return 2;
  }
  auto config = kube::loadConfig({.kubeconfig = kubeconfig, .context = context});
  if (!config.ok()) {
    err << "saguard audit: " << config.error().describe() << "\n";
    return 3;
  }
  if (!all && ns.empty()) ns = config->namespace_.empty() ? "default" : config->namespace_;
  auto client = kube::makeRestClient(*config);
  if (!client.ok()) {
    err << "saguard audit: " << client.error().describe() << "\n";
    return 3;
  }
  auto result = collectAudit(**client, all ? "" : ns, pageSize);
  if (!result.ok()) {
    err << "saguard audit: " << result.error().describe() << "\n";
    return 3;
  }
  const bool colour =
      *format == AuditFormat::Table && &out == &std::cout && isatty(STDOUT_FILENO) == 1;
  out << renderAudit(*result, *format, colour);
  out.flush();
  const AuditSummary& s = result->summary;
  if (failOn == "unneeded" && s.unneeded > 0) return 1;
  if (failOn == "review" && s.unneeded + s.review > 0) return 1;
  return 0;
}

}  // namespace saguard::audit
