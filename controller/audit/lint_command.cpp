#include "audit/lint_command.h"

#include <iostream>
#include <sstream>

#include "audit/lint.h"
#include "audit/manifest.h"
#include "audit/report.h"
#include "base/flags.h"

namespace saguard::audit {

int runLint(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err) {
  return runLint(args, in, out, err, SAGUARD_VERSION);
}

int runLint(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, std::string_view version) {
  std::string output = "text", ns = "default";
  std::vector<std::string> policyFiles;
  bool exitZero = false;
  FlagSet flags(
      "saguard lint PATH... | -",
      "Checks Kubernetes manifests offline: which workloads would get a ServiceAccount token that "
      "a\n"
      "ServiceAccountPolicy (from the input, --policy, or the built-in baseline: no token through "
      "a\n"
      "`default` account) disables. Reads files, folders (recursively: *.yaml, *.yml, *.json) and\n"
      "stdin (-). Exit code 1 when there are findings.");
  flags.add("output", &output, "Output format: text, json, sarif or junit.");
  flags.alias('o', "output");
  flags.add("policy", &policyFiles, "A file of ServiceAccountPolicies to apply (repeatable).");
  flags.add("namespace", &ns, "The namespace of objects that name none.");
  flags.alias('n', "namespace");
  flags.add("exit-zero", &exitZero, "Exit 0 even when there are findings.");
  auto rest = flags.parse(args);
  if (!rest.ok()) {
    err << "saguard lint: " << rest.error().message << "\n\n" << flags.usage();
    return 2;
  }
  if (flags.helpRequested()) {
    out << flags.usage();
    return 0;
  }
  auto format = parseLintFormat(output);
  if (!format) {
    err << "saguard lint: --output must be text, json, sarif or junit, not \"" << output << "\"\n";
    return 2;
  }
  if (rest->empty()) {
    err << "saguard lint: give at least one PATH, or - for stdin\n\n" << flags.usage();
    return 2;
  }
  if (ns.empty()) {
    err << "saguard lint: --namespace must not be empty\n";
    return 2;
  }
  auto sources = collectSources(*rest, in);
  if (!sources.ok()) {
    err << "saguard lint: " << sources.error().message << "\n";
    return 2;
  }
  std::istringstream none;
  auto policySources = collectSources(policyFiles, none);
  if (!policySources.ok()) {
    err << "saguard lint: --policy: " << policySources.error().message << "\n";
    return 2;
  }
  Linter linter(LintOptions{ns});
  for (const Source& s : *sources) linter.addSource(s);
  for (const Source& s : *policySources) linter.addPolicySource(s);
  LintReport report = linter.run();
  out << renderLint(report, *format, version);
  out.flush();
  return report.findings.empty() || exitZero ? 0 : 1;
}

}  // namespace saguard::audit
