// `saguard lint`: the corpus of small manifests (every cell of the precedence table,
// every workload kind, policies, bindings, broken input), exact positions and fixes,
// golden files for every output format, and the command's flags and exit codes.
//
// SAGUARD_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/lint.h"
#include "audit/lint_command.h"
#include "audit/report.h"

namespace saguard::audit {
namespace {

namespace fs = std::filesystem;

const fs::path& dataDir() {
  static const fs::path dir =
      fs::path(SAGUARD_SOURCE_DIR) / "tests" / "unit" / "testdata" / "audit";
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

LintReport lintText(const std::string& text, const std::string& name = "t.yaml") {
  Linter linter;
  linter.addSource(Source{name, text});
  return linter.run();
}

std::vector<std::string> ruleIds(const LintReport& r) {
  std::vector<std::string> ids;
  for (const Finding& f : r.findings) ids.push_back(ruleInfo(f.rule).id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) {
    if (w != "none") out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------
// The corpus: each file's first line says `# expect: SAG00x ...` (or `none`); files
// that cannot hold a comment (JSON) are listed in expectations.txt.

TEST(AuditLintCorpus, EveryManifestGetsItsExpectedVerdict) {
  const fs::path corpus = dataDir() / "corpus";
  std::map<std::string, std::string> table;
  {
    std::istringstream t(slurp(corpus / "expectations.txt"));
    std::string line;
    while (std::getline(t, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto space = line.find(' ');
      table[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  std::size_t checked = 0;
  std::map<std::string, int> rulesSeen;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().filename() != "expectations.txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    const std::string text = slurp(file);
    std::string expect;
    if (auto it = table.find(name); it != table.end()) {
      expect = it->second;
    } else {
      constexpr std::string_view kPrefix = "# expect:";
      ASSERT_TRUE(std::string_view(text).starts_with(kPrefix)) << name << " has no expectation";
      expect = text.substr(kPrefix.size(), text.find('\n') - kPrefix.size());
    }
    LintReport report = lintText(text, name);
    std::string got;
    for (const Finding& f : report.findings)
      got += "\n  " + std::string(ruleInfo(f.rule).id) + " " + f.message;
    EXPECT_EQ(ruleIds(report), words(expect)) << name << " got:" << got;
    for (const std::string& id : ruleIds(report)) rulesSeen[id]++;
    ++checked;
  }
  EXPECT_GE(checked, 40u);
  // The corpus exercises every rule.
  for (const RuleInfo& info : allRules()) EXPECT_GT(rulesSeen[info.id], 0) << info.id;
}

TEST(AuditLintCorpus, CoversThePrecedenceTableAndEveryKind) {
  const fs::path corpus = dataDir() / "corpus";
  for (const char* kind : {"pod", "deployment"}) {
    for (const char* pod : {"unset", "true", "false"}) {
      for (const char* account : {"unset", "true", "false", "absent"}) {
        const std::string name =
            std::string("precedence-") + kind + "-pod-" + pod + "-account-" + account + ".yaml";
        EXPECT_TRUE(fs::exists(corpus / name)) << name;
      }
    }
  }
  for (const char* kind : {"pod", "deployment", "statefulset", "daemonset", "replicaset",
                           "replicationcontroller", "job", "cronjob"}) {
    EXPECT_TRUE(fs::exists(corpus / (std::string("kind-") + kind + "-token.yaml"))) << kind;
    EXPECT_TRUE(fs::exists(corpus / (std::string("kind-") + kind + "-template-false.yaml")))
        << kind;
  }
}

// ---------------------------------------------------------------------------------
// Positions, messages and fixes.

TEST(AuditLint, Sag001PointsAtTheWorkloadAndOffersBothFixes) {
  LintReport r = lintText(
      "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: a}\n---\n"
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  "
      "template:\n"
      "    spec:\n      containers: []\n");
  ASSERT_EQ(r.findings.size(), 1u);
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.rule, Rule::TokenThroughSelectedAccount);
  EXPECT_EQ(f.at.line, 5);
  EXPECT_EQ(f.at.column, 1);
  EXPECT_NE(f.message.find("Deployment a/web"), std::string::npos);
  EXPECT_NE(f.message.find("ServiceAccount a/default"), std::string::npos);
  EXPECT_NE(f.message.find("policy baseline"), std::string::npos);
  ASSERT_EQ(f.fixes.size(), 2u);
  EXPECT_EQ(f.fixes[0].at.line, 1);  // the ServiceAccount
  EXPECT_EQ(f.fixes[0].yaml, "automountServiceAccountToken: false");
  EXPECT_EQ(f.fixes[1].at.line, 11);  // the pod spec mapping
  EXPECT_EQ(f.fixes[1].at.column, 7);
  EXPECT_EQ(r.objects[f.object].display(), "Deployment a/web");
}

TEST(AuditLint, Sag002PointsAtTheField) {
  LintReport r = lintText(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n  automountServiceAccountToken: "
      "true\n");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, Rule::PodSetsTrue);
  EXPECT_EQ(r.findings[0].at.line, 5);
  EXPECT_EQ(r.findings[0].at.column, 3);
  EXPECT_NE(r.findings[0].message.find("Pod default/p"), std::string::npos);
}

TEST(AuditLint, Sag003PointsAtTheAccountName) {
  LintReport r = lintText(
      "kind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  serviceAccountName: default\n");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, Rule::AccountNotInInput);
  EXPECT_EQ(r.findings[0].at.line, 4);
  EXPECT_EQ(r.findings[0].at.column, 23);
}

TEST(AuditLint, Sag004PointsAtTheSubjectAndFixesThePolicy) {
  LintReport r = lintText(
      "kind: ServiceAccountPolicy\napiVersion: saguard.io/v1alpha1\nmetadata: {name: p}\nspec: "
      "{}\n---\n"
      "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, name: "
      "r}\nsubjects:\n"
      "- kind: User\n  name: alice\n- kind: ServiceAccount\n  name: worker\n");
  ASSERT_EQ(r.findings.size(), 1u);
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.rule, Rule::BindingGrantsSelectedAccount);
  EXPECT_EQ(f.at.line, 12);
  EXPECT_EQ(f.at.column, 3);
  EXPECT_NE(f.message.find("RoleBinding n/b grants Role r to ServiceAccount n/worker"),
            std::string::npos);
  ASSERT_EQ(f.fixes.size(), 1u);
  EXPECT_EQ(f.fixes[0].at.line, 1);
  EXPECT_NE(f.fixes[0].yaml.find("name: worker"), std::string::npos);
  // The fix is itself a valid exemption: with it, the finding goes away.
  LintReport fixed = lintText(
      "kind: ServiceAccountPolicy\napiVersion: saguard.io/v1alpha1\nmetadata: {name: p}\nspec:\n" +
      [&] {
        std::string out;
        std::istringstream s(f.fixes[0].yaml);
        std::string line;
        while (std::getline(s, line)) out += "  " + line + "\n";
        return out;
      }() +
      "---\nkind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, name: "
      "r}\nsubjects:\n"
      "- kind: ServiceAccount\n  name: worker\n");
  EXPECT_TRUE(fixed.findings.empty()) << fixed.findings.size();
}

// A User subject system:serviceaccount:<ns>:<name> grants the account the role, exactly
// as a ServiceAccount subject does (policy::subjectScope reads both), so lint reports it
// even when the account appears nowhere else in the input.
TEST(AuditLint, Sag004ReadsAUserSubjectThatNamesAnAccount) {
  LintReport r = lintText(
      "kind: ServiceAccountPolicy\napiVersion: saguard.io/v1alpha1\nmetadata: {name: p}\nspec: "
      "{}\n---\n"
      "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, name: "
      "r}\nsubjects:\n"
      "- kind: User\n  name: system:serviceaccount:ops:bot\n");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, Rule::BindingGrantsSelectedAccount);
  EXPECT_EQ(r.findings[0].at.line, 10);
  EXPECT_NE(r.findings[0].message.find("grants Role r to ServiceAccount ops/bot"),
            std::string::npos)
      << r.findings[0].message;
}

TEST(AuditLint, InvalidPolicyNamesTheFieldAndTheBaselineStillApplies) {
  LintReport r = lintText(
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata: {name: bad}\nspec: "
      "{mode: Sometimes}\n"
      "---\nkind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: true}\n");
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rule, Rule::InvalidPolicy);
  EXPECT_NE(r.findings[0].message.find("spec.mode"), std::string::npos) << r.findings[0].message;
  EXPECT_EQ(r.findings[1].rule, Rule::PodSetsTrue);
  EXPECT_EQ(r.policies, std::vector<std::string>{"baseline"});
}

TEST(AuditLint, PolicyFromAPolicySourceReplacesTheBaselineAndOnlyPoliciesCount) {
  Linter linter;
  linter.addSource(Source{
      "app.yaml", "kind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: true}\n"});
  // Workloads in a --policy file are not linted.
  linter.addPolicySource(Source{
      "pol.yaml",
      "kind: Pod\nmetadata: {name: ignored}\nspec: {automountServiceAccountToken: true}\n---\n"
      "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\nmetadata: {name: only-app}\n"
      "spec: {serviceAccounts: {names: [\"app-*\"]}}\n"});
  LintReport r = linter.run();
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.policies, std::vector<std::string>{"only-app"});
  EXPECT_EQ(r.workloads, 1u);
}

TEST(AuditLint, DefaultNamespaceOptionAppliesToObjectsWithoutOne) {
  Linter linter(LintOptions{"team"});
  linter.addSource(Source{"a.yaml",
                          "kind: Pod\nmetadata: {name: p}\nspec: {}\n---\n"
                          "kind: ServiceAccount\nmetadata: {name: default, namespace: team}\n"});
  LintReport r = linter.run();
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, Rule::TokenThroughSelectedAccount);
  EXPECT_EQ(r.objects[r.findings[0].object].namespace_, "team");
}

TEST(AuditLint, CrossFileAccountsCount) {
  Linter linter;
  linter.addSource(Source{"pod.yaml", "kind: Pod\nmetadata: {name: p, namespace: a}\nspec: {}\n"});
  linter.addSource(Source{"sa.yaml",
                          "kind: ServiceAccount\nmetadata: {name: default, namespace: a}\n"
                          "automountServiceAccountToken: false\n"});
  LintReport r = linter.run();
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.files, 2u);
  EXPECT_EQ(r.documents, 2u);
}

TEST(AuditLint, JunkDocumentsAreIgnoredNotFatal) {
  LintReport r =
      lintText("- just\n- a list\n---\n42\n---\nkind: Deployment\nspec: 7\n---\nkind: [Pod]\n");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.workloads, 0u);
}

// ---------------------------------------------------------------------------------
// Golden files.

std::vector<Source> goldenInputs() {
  std::vector<Source> out;
  for (const char* name : {"shop.yaml", "billing.json", "broken.yaml"}) {
    out.push_back(Source{std::string("inputs/") + name, slurp(dataDir() / "inputs" / name)});
  }
  return out;
}

void expectGolden(const std::string& name, const std::string& got) {
  const fs::path path = dataDir() / "golden" / name;
  const char* update = std::getenv("SAGUARD_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  ASSERT_TRUE(fs::exists(path)) << path << " is missing; run with SAGUARD_UPDATE_GOLDEN=1";
  EXPECT_EQ(got, slurp(path)) << "golden file " << name
                              << " differs; SAGUARD_UPDATE_GOLDEN=1 rewrites it";
}

LintReport goldenReport(bool withPolicy) {
  Linter linter;
  for (const Source& s : goldenInputs()) linter.addSource(s);
  if (withPolicy)
    linter.addPolicySource(
        Source{"inputs/policy.yaml", slurp(dataDir() / "inputs" / "policy.yaml")});
  return linter.run();
}

TEST(AuditLintGolden, Text) {
  expectGolden("lint-baseline.txt",
               renderLint(goldenReport(false), LintFormat::Text, "0.0.0-test"));
  expectGolden("lint-policy.txt", renderLint(goldenReport(true), LintFormat::Text, "0.0.0-test"));
}

TEST(AuditLintGolden, Json) {
  const std::string out = renderLint(goldenReport(false), LintFormat::Json, "0.0.0-test");
  expectGolden("lint-baseline.json", out);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["summary"]["findings"].get<std::size_t>(), j["findings"].size());
}

TEST(AuditLintGolden, Sarif) {
  const std::string out = renderLint(goldenReport(false), LintFormat::Sarif, "0.0.0-test");
  expectGolden("lint-baseline.sarif", out);
  // The parts code-scanning UIs require.
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["version"], "2.1.0");
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), allRules().size());
  ASSERT_FALSE(run["results"].empty());
  for (const auto& res : run["results"]) {
    const int index = res["ruleIndex"];
    EXPECT_EQ(run["tool"]["driver"]["rules"][index]["id"], res["ruleId"]);
    EXPECT_TRUE(res["message"]["text"].is_string());
    const auto& loc = res["locations"][0]["physicalLocation"];
    EXPECT_TRUE(loc["artifactLocation"]["uri"].get<std::string>().starts_with("inputs/"));
    EXPECT_GE(loc["region"]["startLine"].get<int>(), 1);
    EXPECT_GE(loc["region"]["startColumn"].get<int>(), 1);
  }
}

TEST(AuditLintGolden, Junit) {
  const std::string out = renderLint(goldenReport(false), LintFormat::Junit, "0.0.0-test");
  expectGolden("lint-baseline.junit.xml", out);
}

TEST(AuditLintGolden, JunitEscapesMarkup) {
  const std::string out = renderLint(lintText("kind: Pod\nmetadata: {name: \"a<b>&'c\\\"\"}\nspec: "
                                              "{automountServiceAccountToken: true}\n"),
                                     LintFormat::Junit, "0.0.0-test");
  EXPECT_NE(out.find("name=\"Pod default/a&lt;b&gt;&amp;&apos;c&quot;\""), std::string::npos)
      << out;
  EXPECT_EQ(out.find("a<b>"), std::string::npos);
}

TEST(AuditLintGolden, JsonAndSarifSurviveInvalidUtf8) {
  LintReport r = lintText(
      "kind: Pod\nmetadata: {name: \"bad\xac\"}\nspec: {automountServiceAccountToken: true}\n");
  ASSERT_EQ(r.findings.size(), 1u);
  for (LintFormat f : {LintFormat::Json, LintFormat::Sarif}) {
    EXPECT_TRUE(nlohmann::json::accept(renderLint(r, f, "0.0.0-test")));
  }
}

// ---------------------------------------------------------------------------------
// The command.

struct LintRun {
  int code;
  std::string out, err;
};

LintRun lint(std::vector<std::string> args, const std::string& stdinText = "") {
  std::istringstream in(stdinText);
  std::ostringstream out, err;
  int code = runLint(args, in, out, err, "0.0.0-test");
  return LintRun{code, out.str(), err.str()};
}

TEST(AuditLintCommand, StdinFindingsExitOne) {
  LintRun r =
      lint({"-"}, "kind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: true}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.starts_with("<stdin>:3:8: SAG002 ")) << r.out;
  EXPECT_TRUE(r.err.empty());
}

TEST(AuditLintCommand, ExitZeroAndCleanInput) {
  const std::string bad =
      "kind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: true}\n";
  EXPECT_EQ(lint({"--exit-zero", "-"}, bad).code, 0);
  LintRun clean =
      lint({"-"}, "kind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: false}\n");
  EXPECT_EQ(clean.code, 0);
  EXPECT_NE(clean.out.find("0 findings"), std::string::npos);
}

TEST(AuditLintCommand, MalformedInputExitsOneAndChecksTheRest) {
  LintRun r = lint({"-o", "json", "-"},
                   "kind: Pod\nmetadata: [x\n---\nkind: Pod\nmetadata: {name: q}\nspec: "
                   "{automountServiceAccountToken: true}\n");
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 2u);
  EXPECT_EQ(j["findings"][0]["ruleId"], "SAG006");
  EXPECT_EQ(j["findings"][0]["file"], "<stdin>");
  EXPECT_EQ(j["findings"][1]["ruleId"], "SAG002");
}

TEST(AuditLintCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(lint({}).code, 2);
  EXPECT_EQ(lint({"-o", "xml", "-"}).code, 2);
  EXPECT_EQ(lint({"--bogus", "-"}).code, 2);
  LintRun missing = lint({(dataDir() / "no-such-file.yaml").string()});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no-such-file.yaml"), std::string::npos);
  EXPECT_EQ(lint({"--policy", (dataDir() / "nope.yaml").string(), "-"}).code, 2);
  LintRun help = lint({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--policy"), std::string::npos);
}

TEST(AuditLintCommand, FoldersPolicyFlagAndNamespaceFlag) {
  // The corpus folder as a whole: many findings, exit 1, every file read.
  LintRun all = lint({"-o", "json", (dataDir() / "corpus").string()});
  EXPECT_EQ(all.code, 1);
  auto j = nlohmann::json::parse(all.out);
  EXPECT_GE(j["summary"]["files"].get<int>(), 40);
  // --policy replaces the baseline: the policy exempts billing/default.
  LintRun withPolicy = lint({"--policy", (dataDir() / "inputs" / "policy.yaml").string(),
                             (dataDir() / "inputs" / "billing.json").string()});
  EXPECT_EQ(withPolicy.code, 0) << withPolicy.out;
  LintRun without = lint({(dataDir() / "inputs" / "billing.json").string()});
  EXPECT_EQ(without.code, 1);
  // -n: the pod has no namespace; its account sets false in `team`.
  const std::string in =
      "kind: Pod\nmetadata: {name: p}\nspec: {}\n---\n"
      "kind: ServiceAccount\nmetadata: {name: default, namespace: "
      "team}\nautomountServiceAccountToken: false\n";
  EXPECT_EQ(lint({"-n", "team", "-"}, in).code, 0);
  EXPECT_EQ(lint({"-"}, in).code, 1);  // in `default`, the account is not in the input
}

}  // namespace
}  // namespace saguard::audit
