// libFuzzer target: the manifest reader and the linter of `saguard lint` on arbitrary
// bytes. Nothing may throw or crash; every finding must point into the input (a line
// within the text) and name a known rule; every renderer must produce output, and the
// JSON ones must parse back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/lint.h"
#include "audit/manifest.h"
#include "audit/report.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

int lineCount(const std::string& text) {
  int lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace saguard::audit;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const int lines = lineCount(text);

  ManifestSet set = readManifests(Source{"f.yaml", text});
  for (const ReadError& e : set.errors) {
    check(e.at.line >= 1 && e.at.line <= lines, "read error outside the input");
  }
  for (const Document& d : set.documents) {
    auto j = toJson(d.root);  // must not throw, whatever the aliases
    (void)j;
  }

  Linter linter;
  linter.addSource(Source{"f.yaml", text});
  linter.addPolicySource(Source{"p.yaml", text});
  LintReport report = linter.run();
  for (const Finding& f : report.findings) {
    check(f.object < report.objects.size(), "finding without its object");
    check(f.at.line >= 0 && f.at.line <= lines, "finding outside the input");
    check(!f.message.empty(), "finding without a message");
  }
  for (LintFormat format :
       {LintFormat::Text, LintFormat::Json, LintFormat::Sarif, LintFormat::Junit}) {
    const std::string out = renderLint(report, format, "fuzz");
    check(!out.empty(), "empty output");
    if (format == LintFormat::Json || format == LintFormat::Sarif) {
      check(nlohmann::json::accept(out), "JSON output does not parse");
    }
  }
  return 0;
}
