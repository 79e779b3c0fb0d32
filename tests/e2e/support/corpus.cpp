#include "e2e/support/corpus.h"

#include <cstdlib>
#include <filesystem>

#include "integration/support/helpers.h"

namespace saguard::testing {

std::optional<std::string> corpusDir() {
  const char* env = std::getenv("SAGUARD_CORPUS_DIR");
  std::filesystem::path dir = env != nullptr && *env != '\0'
                                  ? std::filesystem::path(env)
                                  : std::filesystem::path(source("../shared/corpus"));
  std::error_code ec;
  if (!std::filesystem::exists(dir / "README.md", ec)) return std::nullopt;
  return std::filesystem::weakly_canonical(dir, ec).string();
}

}  // namespace saguard::testing
