#include "audit/audit_command.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/audit_reports.h"
#include "audit/restart_plan.h"
#include "audit/verdict_text.h"
#include "base/flags.h"
#include "codec/decoder.h"
#include "codec/rfc3339.h"
#include "evidence/ingest.h"
#include "evidence/ledger.h"
#include "evidence/log_file.h"
#include "evidence/observation.h"
#include "evidence/store.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "objects/ref.h"
#include "policy/duration.h"
#include "policy/ownership.h"
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

std::string summaryText(const AuditResult& r) {
  const AuditSummary& s = r.summary;
  std::string text = std::to_string(s.pods) + " of " + std::to_string(r.podsSeen) +
                     " pods hold a token: " + std::to_string(s.unneeded) + " unneeded, " +
                     std::to_string(s.review) + " review, " + std::to_string(s.needed) +
                     " needed, " + std::to_string(s.exempt) + " exempt";
  if (r.evidence.available) text += ", " + std::to_string(s.unused) + " unused";
  return text;
}

nlohmann::ordered_json toJsonValue(const AuditResult& r) {
  nlohmann::ordered_json pods = nlohmann::ordered_json::array();
  for (const TokenHolder& h : r.rows) {
    nlohmann::ordered_json j;
    j["namespace"] = h.namespace_;
    j["pod"] = h.pod;
    j["serviceAccount"] = h.account;
    j["tokenSource"] = policy::toString(h.source);
    if (h.fieldOwner.kind != policy::Declaration::Kind::None) {
      j["fieldOwner"] = {{"manager", h.fieldOwner.manager.str()},
                         {"declaration", policy::toString(h.fieldOwner.kind)},
                         {"value", objects::toString(h.fieldOwner.value)},
                         {"enforceLeavesIt", !policy::mayWriteFalse(h.fieldOwner)}};
    }
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
    if (r.evidence.available) {
      j["lastUsed"] = h.lastUsed == 0 ? nlohmann::ordered_json(nullptr)
                                      : nlohmann::ordered_json(codec::formatRfc3339(h.lastUsed));
      j["accesses"] = h.accesses;
      j["evidence"] = evidenceText(h, r.evidence);
    }
    pods.push_back(std::move(j));
  }
  nlohmann::ordered_json out;
  out["pods"] = std::move(pods);
  out["summary"] = {{"podsSeen", r.podsSeen},         {"withToken", r.summary.pods},
                    {"unneeded", r.summary.unneeded}, {"review", r.summary.review},
                    {"needed", r.summary.needed},     {"exempt", r.summary.exempt},
                    {"unused", r.summary.unused}};
  if (r.evidence.available) {
    out["evidence"] = {
        {"observingSince",
         r.evidence.observingSince == 0
             ? nlohmann::ordered_json(nullptr)
             : nlohmann::ordered_json(codec::formatRfc3339(r.evidence.observingSince))},
        {"window", policy::humanDuration(r.evidence.window)}};
  }
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

// The token's source in the default table: a word or two.
const char* sourceWord(policy::TokenSource s) {
  switch (s) {
    case policy::TokenSource::PodSetsTrue:
      return "pod: true";
    case policy::TokenSource::AccountSetsTrue:
      return "account: true";
    case policy::TokenSource::Default:
      return "default";
    case policy::TokenSource::LegacySecretVolume:
      return "legacy Secret";
    case policy::TokenSource::PodDeclaresVolume:
      return "pod volume";
    case policy::TokenSource::PredatesAccountChange:
      return "predates fix";
    case policy::TokenSource::None:
      return "none";
  }
  return "none";
}

// The default table fits 120 columns with everyday names (a real install's bindings
// made it hundreds wide): TOKEN in a word or two, BINDINGS as a count, the verdict word
// alone, and no OWNER column. -o wide (kubectl's word) spells everything out: OWNER when
// some account's field has one, the source in words, every binding with its role, and
// the exemption or the evidence after the verdict.
std::string renderTable(const AuditResult& r, bool colour, bool wide) {
  const bool evidence = r.evidence.available;
  // OWNER only when some account's field has one, LAST USED only with evidence.
  const bool owners = wide && std::any_of(r.rows.begin(), r.rows.end(), [](const TokenHolder& h) {
                        return h.fieldOwner.kind != policy::Declaration::Kind::None;
                      });
  std::vector<std::vector<std::string>> cells{
      {"NAMESPACE", "POD", "ACCOUNT", "OWNER", "TOKEN", "BINDINGS", "LAST USED", "VERDICT"}};
  if (!evidence) cells[0].erase(cells[0].begin() + 6);
  if (!owners) cells[0].erase(cells[0].begin() + 3);
  for (const TokenHolder& h : r.rows) {
    std::string bindings;
    if (wide) {
      for (const GrantingBinding& b : h.bindings)
        bindings += (bindings.empty() ? "" : ", ") + bindingText(b);
      if (bindings.empty()) bindings = "-";
    } else {
      bindings = std::to_string(h.bindings.size());
    }
    std::string verdict = toString(h.verdict);
    if (wide && !h.exemptBy.empty()) verdict += " (" + h.exemptBy + ")";
    if (wide && evidence && h.exemptBy.empty()) verdict += ": " + evidenceText(h, r.evidence);
    cells.push_back({h.namespace_, h.pod, h.account, ownerText(h.fieldOwner),
                     wide ? sourceText(h.source) : sourceWord(h.source), bindings, verdict});
    if (evidence) cells.back().insert(cells.back().begin() + 6, lastUsedText(h, r.evidence));
    if (!owners) cells.back().erase(cells.back().begin() + 3);
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
        const char* code = v == Verdict::Unneeded                         ? "\033[31m"
                           : v == Verdict::Review || v == Verdict::Unused ? "\033[33m"
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
  const auto restartable = std::count_if(r.rows.begin(), r.rows.end(), [](const TokenHolder& h) {
    return isRestartCandidate(h) && policy::recreationDropsToken(h.source);
  });
  if (restartable > 0) {
    out += std::to_string(restartable) +
           " pods would lose their token if recreated: `saguard restart` prints the plan\n";
  }
  for (const std::string& n : r.notes) out += "note: " + n + "\n";
  return out;
}

// The legacy token Secrets' kubernetes.io/legacy-token-last-used labels (the API server
// writes them on use), read as metadata only: the tokens themselves never leave the server.
Status collectLegacyTokenDays(kube::Client& client, std::string_view ns, Evidence& e,
                              std::vector<std::string>& notes) {
  kube::ListOptions options;
  options.fieldSelector = "type=kubernetes.io/service-account-token";
  kube::CallOptions call;
  call.accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
  auto listed = client.list(kube::resources::kSecrets, ns, options, call);
  if (!listed.ok()) {
    if (!listed.is(ErrorKind::Forbidden)) return listed.error();
    notes.push_back("cannot list token Secrets (" + listed.error().message +
                    "): the last-used label of legacy tokens was not read");
    return {};
  }
  const auto list = nlohmann::json::parse(*listed, nullptr, /*allow_exceptions=*/false);
  if (!list.is_object()) return makeError(ErrorKind::Invalid, "Secret list: not JSON");
  for (const auto& item : list.value("items", nlohmann::json::array())) {
    const auto& meta = item.value("metadata", nlohmann::json::object());
    const auto& labels = meta.value("labels", nlohmann::json::object());
    const auto& annotations = meta.value("annotations", nlohmann::json::object());
    auto day = labels.find("kubernetes.io/legacy-token-last-used");
    auto account = annotations.find("kubernetes.io/service-account.name");
    if (day == labels.end() || account == annotations.end() || !day->is_string() ||
        !account->is_string()) {
      continue;
    }
    std::string& kept = e.legacyTokenDays[objects::objectKey(meta.value("namespace", ""),
                                                             account->get<std::string>())];
    kept = std::max(kept, day->get<std::string>());
  }
  return {};
}

// The evidence of use the verdicts are decided with: the store, then the log files.
Status collectEvidence(kube::Client& client, const EvidenceOptions& options, AuditResult& result) {
  Evidence& e = result.evidence;
  e.window = options.window;
  e.now = options.now != 0 ? options.now
                           : std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  // The store's observation period and the files' span, merged as the replicas merge
  // theirs (evidence/observation.h): a gap between them restarts observation.
  evidence::ObservationPeriod stored;
  std::int64_t logsEarliest = 0;
  if (!options.storeNamespace.empty()) {
    auto store = evidence::readStore(client, options.storeNamespace);
    if (store.ok()) {
      e.available = true;
      e.accounts = std::move(store->accounts);
      stored = store->period();
    } else if (store.is(ErrorKind::Forbidden)) {
      result.notes.push_back("cannot read saguard's evidence in namespace " +
                             options.storeNamespace + ": " + store.error().message);
    } else if (!store.is(ErrorKind::NotFound)) {
      return store.error();
    }
  }
  evidence::Ledger ledger;
  evidence::Ingest ingest(ledger, "file");
  for (const std::string& path : options.auditLogs) {
    Status read =
        evidence::readAuditLogFile(path, [&](codec::PaddedView line) { ingest.line(line); });
    if (!read.ok()) return read;
  }
  if (!options.auditLogs.empty()) {
    const evidence::IngestCounts& counts = ingest.counts();
    e.available = true;
    for (auto& [key, use] : ledger.all()) policy::mergeUse(e.accounts[key], use);
    logsEarliest = counts.earliest;
    if (counts.malformed > 0) {
      result.notes.push_back(std::to_string(counts.malformed) +
                             " malformed audit events were skipped");
    }
  }
  const evidence::ObservationPeriod period =
      evidence::auditPeriod(stored, logsEarliest, e.now, evidence::kGapToleranceSeconds);
  e.observingSince = evidence::observingSinceAt(period, e.now, evidence::kGapToleranceSeconds);
  if (e.available) {
    if (Status st = collectLegacyTokenDays(client, result.scope, e, result.notes); !st.ok()) {
      return st;
    }
  }
  if (!e.available) {
    result.notes.push_back(
        "no evidence of token use: verdicts from RBAC bindings alone (run saguard with "
        "--audit-webhook-bind-address or --audit-log-path, or pass exported logs with "
        "--audit-log)");
  } else if (period.empty()) {
    result.notes.push_back("the audit sources hold no events yet: verdicts from RBAC bindings");
  } else if (e.observingSince == 0) {
    result.notes.push_back("saguard's observation of audit events stopped at " +
                           codec::formatRfc3339(period.until) + ", " +
                           policy::humanDuration(e.now - period.until) +
                           " ago: uses since are not known, so accounts without recorded use "
                           "keep their RBAC verdict");
  } else if (e.observingSince > e.now - e.window) {
    result.notes.push_back("use has been observed for " +
                           policy::humanDuration(e.now - e.observingSince) +
                           " only: accounts "
                           "without recorded use keep their RBAC verdict until observation "
                           "covers " +
                           policy::humanDuration(e.window));
  }
  return {};
}

}  // namespace

Result<AuditResult> collectAudit(kube::Client& client, std::string_view ns, std::int64_t pageSize,
                                 const EvidenceOptions& evidenceOptions) {
  AuditResult result;
  result.scope = std::string(ns);
  if (Status st = collectEvidence(client, evidenceOptions, result); !st.ok()) return st.error();
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
  result.rows = findTokenHolders(pods, accounts, bindings, policies, result.evidence);
  result.summary = summarize(result.rows);
  return result;
}

std::optional<AuditFormat> parseAuditFormat(std::string_view name) {
  if (name == "table") return AuditFormat::Table;
  if (name == "wide") return AuditFormat::Wide;
  if (name == "json") return AuditFormat::Json;
  if (name == "yaml") return AuditFormat::Yaml;
  if (name == "openreports") return AuditFormat::OpenReports;
  if (name == "policyreport") return AuditFormat::PolicyReport;
  return std::nullopt;
}

std::string renderAudit(const AuditResult& result, AuditFormat format, bool colour) {
  switch (format) {
    case AuditFormat::Table:
      return renderTable(result, colour, false);
    case AuditFormat::Wide:
      return renderTable(result, colour, true);
    case AuditFormat::Json:
      return toJsonValue(result).dump(2, ' ', false,
                                      nlohmann::ordered_json::error_handler_t::replace) +
             "\n";
    case AuditFormat::Yaml: {
      YAML::Emitter e;
      emitYaml(e, toJsonValue(result));
      return std::string(e.c_str()) + "\n";
    }
    case AuditFormat::OpenReports:
      return renderAuditReports(result, reports::Flavour::OpenReports);
    case AuditFormat::PolicyReport:
      return renderAuditReports(result, reports::Flavour::PolicyReport);
  }
  return {};
}

int runAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string kubeconfig, context, ns, output = "table", failOn;
  std::string evidenceNamespace = "saguard-system", window = "720h";
  std::vector<std::string> auditLogs;
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
  flags.add("output", &output,
            "table (fits 120 columns), wide (every binding, the verdict's evidence), json,\n"
            "yaml, or openreports / policyreport (the verdicts as a List of\n"
            "openreports.io Reports / wgpolicyk8s.io PolicyReports for kubectl apply).");
  flags.alias('o', "output");
  flags.add("fail-on", &failOn,
            "Exit 1 when a token is `unneeded`, or `review` (unneeded or review).");
  flags.add("page-size", &pageSize, "Items per list page.");
  flags.add("audit-log", &auditLogs,
            "An exported API server audit log (JSON lines, plain or gzip; \"-\" = stdin) to\n"
            "learn token use from. Repeat for several files.");
  flags.add("evidence-namespace", &evidenceNamespace,
            "Where saguard run keeps its evidence of token use (\"\" = do not read it).");
  flags.add("unused-window", &window,
            "How long without use makes a token unused (\"720h\", whole h/m/s).");
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
    err << "saguard audit: --output must be table, wide, json, yaml, openreports or policyreport, "
           "not \""
        << output << "\"\n";
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
  auto windowSeconds = policy::parseDuration(window);
  if (!windowSeconds || *windowSeconds <= 0) {
    err << "saguard audit: --unused-window must be a duration like 720h, not \"" << window
        << "\"\n";
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
  EvidenceOptions evidence;
  evidence.storeNamespace = evidenceNamespace;
  evidence.auditLogs = auditLogs;
  evidence.window = *windowSeconds;
  auto result = collectAudit(**client, all ? "" : ns, pageSize, evidence);
  if (!result.ok()) {
    err << "saguard audit: " << result.error().describe() << "\n";
    return 3;
  }
  const bool colour = (*format == AuditFormat::Table || *format == AuditFormat::Wide) &&
                      &out == &std::cout && isatty(STDOUT_FILENO) == 1;
  out << renderAudit(*result, *format, colour);
  out.flush();
  const AuditSummary& s = result->summary;
  if (failOn == "unneeded" && s.unneeded > 0) return 1;
  if (failOn == "review" && s.unneeded + s.review > 0) return 1;
  return 0;
}

}  // namespace saguard::audit
