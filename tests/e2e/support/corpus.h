// ../shared/corpus beside the project: inputs nobody on this team wrote (published install
// manifests, other tools' fixtures for their token checks). It is not part of the
// repository, so a test that reads it skips, saying why, where it is absent:
//
//   auto corpus = corpusDir();
//   if (!corpus) GTEST_SKIP() << kNoCorpus;
//   std::string argo = *corpus + "/real-manifests/argo-cd.yaml";
#pragma once

#include <optional>
#include <string>

namespace saguard::testing {

// The corpus folder ($SAGUARD_CORPUS_DIR, else ../shared/corpus from the source tree),
// nullopt when it has no README.md.
std::optional<std::string> corpusDir();

inline constexpr const char* kNoCorpus =
    "../shared/corpus is absent (not part of the repository; SAGUARD_CORPUS_DIR names another "
    "place): this test judges saguard on inputs nobody on the team wrote and needs them";

}  // namespace saguard::testing
