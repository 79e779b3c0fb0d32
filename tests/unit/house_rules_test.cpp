// One home for every decision: what a policy means is decided in controller/policy/
// and nowhere else. These checks read the sources and fail when a decision is written
// again outside policy/ (issue 13: token precedence, which accounts a binding names,
// and the exemption match had each been written two to five times; issue 16: who declares
// an account's automount field). Comments are not
// code: a line's text after "//" is ignored.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace saguard {
namespace {

namespace fs = std::filesystem;

struct Rule {
  const char* pattern;
  const char* decision;  // what policy/ function to call instead
};

const Rule kRules[] = {
    {"\"system:serviceaccount",
     "which accounts a subject names: policy::subjectScope / serviceAccountOfUser"},
    {".kind.view() == \"", "the kind of a binding subject: policy::subjectScope / groupOf"},
    {"globMatch(", "name globs and exemptions: policy::selectAccount / matchingExemption"},
    {".exemptions)", "the exemption match: policy::matchingExemption"},
    {"automount == objects::Tristate", "token precedence: policy::automountOf / podToken"},
    {"automount == Tristate", "token precedence: policy::automountOf / podToken"},
    {"lastAppliedAutomount ==", "who declares the automount field: policy::declarationOf"},
    {"operation == objects::FieldOperation",
     "who declares the automount field: policy::declarationOf"},
    {"operation == FieldOperation", "who declares the automount field: policy::declarationOf"},
};

std::vector<std::string> violations() {
  std::vector<std::string> out;
  const fs::path root = fs::path(SAGUARD_SOURCE_DIR) / "controller";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& path = entry.path();
    if (path.extension() != ".cpp" && path.extension() != ".h") continue;
    const std::string relative = fs::relative(path, root).string();
    if (relative.starts_with("policy/")) continue;
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const std::string code = line.substr(0, line.find("//"));
      for (const Rule& rule : kRules) {
        if (code.find(rule.pattern) != std::string::npos) {
          out.push_back("controller/" + relative + ":" + std::to_string(number) + ": " +
                        rule.decision);
        }
      }
    }
  }
  return out;
}

TEST(HouseRules, PolicyDecisionsLiveOnlyInPolicy) {
  ASSERT_TRUE(fs::exists(fs::path(SAGUARD_SOURCE_DIR) / "controller" / "policy" / "bindings.cpp"));
  const std::vector<std::string> found = violations();
  std::string list;
  for (const auto& v : found) list += "  " + v + "\n";
  EXPECT_TRUE(found.empty()) << "decisions re-derived outside controller/policy/:\n" << list;
}

}  // namespace
}  // namespace saguard
