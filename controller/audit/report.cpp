#include "audit/report.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

namespace saguard::audit {
namespace {

std::string place(const Location& l) {
  if (l.line == 0) return l.file;
  return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column);
}

struct Counts {
  std::size_t errors = 0, warnings = 0;
};

Counts count(const LintReport& r) {
  Counts c;
  for (const Finding& f : r.findings) {
    (ruleInfo(f.rule).level == Level::Error ? c.errors : c.warnings)++;
  }
  return c;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string summaryLine(const LintReport& r) {
  const Counts c = count(r);
  std::string policies;
  for (std::size_t i = 0; i < r.policies.size(); ++i) policies += (i ? ", " : "") + r.policies[i];
  return plural(r.findings.size(), "finding") + " (" + plural(c.errors, "error") + ", " +
         plural(c.warnings, "warning") + ") in " + plural(r.workloads, "workload") + ", " +
         plural(r.documents, "document") + ", " + plural(r.files, "file") + "; " +
         (r.policies.size() == 1 ? "policy " : "policies ") + policies + "\n";
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream s(text);
  std::string line;
  while (std::getline(s, line)) out += prefix + line + "\n";
  return out;
}

std::string fixText(const Fix& f) {
  return "fix: " + f.description + " (" + place(f.at) + "):\n" + indent(f.yaml, "  ");
}

std::string renderText(const LintReport& r) {
  std::string out;
  for (const Finding& f : r.findings) {
    out += place(f.at) + ": " + ruleInfo(f.rule).id + " " + f.message + "\n";
    for (const Fix& fix : f.fixes) out += indent(fixText(fix), "  ");
  }
  out += summaryLine(r);
  return out;
}

nlohmann::ordered_json locationJson(const Location& l) {
  nlohmann::ordered_json j;
  j["file"] = l.file;
  j["line"] = l.line;
  j["column"] = l.column;
  return j;
}

std::string renderJson(const LintReport& r) {
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const Finding& f : r.findings) {
    const RuleInfo& info = ruleInfo(f.rule);
    const CheckedObject& o = r.objects[f.object];
    nlohmann::ordered_json j;
    j["ruleId"] = info.id;
    j["rule"] = info.name;
    j["level"] = toString(info.level);
    j["file"] = f.at.file;
    j["line"] = f.at.line;
    j["column"] = f.at.column;
    j["object"] = {{"kind", o.kind}, {"namespace", o.namespace_}, {"name", o.name}};
    j["message"] = f.message;
    nlohmann::ordered_json fixes = nlohmann::ordered_json::array();
    for (const Fix& fix : f.fixes) {
      nlohmann::ordered_json x = locationJson(fix.at);
      x["description"] = fix.description;
      x["yaml"] = fix.yaml;
      fixes.push_back(std::move(x));
    }
    j["fixes"] = std::move(fixes);
    findings.push_back(std::move(j));
  }
  const Counts c = count(r);
  nlohmann::ordered_json out;
  out["findings"] = std::move(findings);
  out["summary"] = {{"files", r.files},         {"documents", r.documents},
                    {"workloads", r.workloads}, {"findings", r.findings.size()},
                    {"errors", c.errors},       {"warnings", c.warnings},
                    {"policies", r.policies}};
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string sarifUri(const std::string& file) {
  if (file == kStdinName) return "stdin";
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char ch : file) {
    const bool plain =
        std::isalnum(ch) || ch == '/' || ch == '.' || ch == '-' || ch == '_' || ch == '~';
    if (plain) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

std::string renderSarif(const LintReport& r, std::string_view version) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const RuleInfo& info : allRules()) {
    nlohmann::ordered_json rule;
    rule["id"] = info.id;
    rule["name"] = info.name;
    rule["shortDescription"] = {{"text", info.summary}};
    rule["fullDescription"] = {{"text", info.description}};
    rule["defaultConfiguration"] = {{"level", toString(info.level)}};
    rules.push_back(std::move(rule));
  }
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const Finding& f : r.findings) {
    const RuleInfo& info = ruleInfo(f.rule);
    nlohmann::ordered_json res;
    res["ruleId"] = info.id;
    res["ruleIndex"] = static_cast<int>(f.rule);
    res["level"] = toString(info.level);
    std::string text = f.message;
    for (const Fix& fix : f.fixes) text += "\n" + fixText(fix);
    res["message"] = {{"text", text}};
    nlohmann::ordered_json physical;
    physical["artifactLocation"] = {{"uri", sarifUri(f.at.file)}};
    if (f.at.line > 0)
      physical["region"] = {{"startLine", f.at.line}, {"startColumn", f.at.column}};
    res["locations"] = nlohmann::ordered_json::array({{{"physicalLocation", physical}}});
    if (!f.fixes.empty()) {
      nlohmann::ordered_json fixes = nlohmann::ordered_json::array();
      for (const Fix& fix : f.fixes) {
        nlohmann::ordered_json x = locationJson(fix.at);
        x["description"] = fix.description;
        x["yaml"] = fix.yaml;
        fixes.push_back(std::move(x));
      }
      res["properties"] = {{"fixes", std::move(fixes)}};
    }
    results.push_back(std::move(res));
  }
  nlohmann::ordered_json driver;
  driver["name"] = "saguard";
  driver["version"] = std::string(version);
  driver["rules"] = std::move(rules);
  nlohmann::ordered_json run;
  run["tool"] = {{"driver", std::move(driver)}};
  run["results"] = std::move(results);
  nlohmann::ordered_json out;
  out["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  out["version"] = "2.1.0";
  out["runs"] = nlohmann::ordered_json::array({std::move(run)});
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string xmlEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even escaped.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
          out += '?';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string renderJunit(const LintReport& r) {
  std::vector<std::vector<const Finding*>> byObject(r.objects.size());
  for (const Finding& f : r.findings) byObject[f.object].push_back(&f);
  std::size_t failed = 0;
  for (const auto& v : byObject) failed += v.empty() ? 0 : 1;
  const std::string counts = "tests=\"" + std::to_string(r.objects.size()) + "\" failures=\"" +
                             std::to_string(failed) + "\"";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"saguard lint\" " + counts + ">\n";
  out += "  <testsuite name=\"saguard lint\" " + counts + " errors=\"0\" skipped=\"0\">\n";
  for (std::size_t i = 0; i < r.objects.size(); ++i) {
    const CheckedObject& o = r.objects[i];
    out += "    <testcase classname=\"" + xmlEscape(o.at.file) + "\" name=\"" +
           xmlEscape(o.display()) + "\"";
    if (byObject[i].empty()) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    for (const Finding* f : byObject[i]) {
      std::string body = place(f->at) + ": " + ruleInfo(f->rule).id + " " + f->message + "\n";
      for (const Fix& fix : f->fixes) body += fixText(fix);
      out += "      <failure type=\"" + std::string(ruleInfo(f->rule).id) + "\" message=\"" +
             xmlEscape(f->message) + "\">" + xmlEscape(body) + "</failure>\n";
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace

std::optional<LintFormat> parseLintFormat(std::string_view name) {
  if (name == "text") return LintFormat::Text;
  if (name == "json") return LintFormat::Json;
  if (name == "sarif") return LintFormat::Sarif;
  if (name == "junit") return LintFormat::Junit;
  return std::nullopt;
}

std::string renderLint(const LintReport& report, LintFormat format, std::string_view version) {
  switch (format) {
    case LintFormat::Text:
      return renderText(report);
    case LintFormat::Json:
      return renderJson(report);
    case LintFormat::Sarif:
      return renderSarif(report, version);
    case LintFormat::Junit:
      return renderJunit(report);
  }
  return {};
}

}  // namespace saguard::audit
