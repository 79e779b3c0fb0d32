// A directory of its own under the system's temporary directory (TMPDIR), removed with
// everything in it when the TempDir goes. Header-only and free of gtest, so a bench can use
// it too; a failure to make the directory or write a file throws std::runtime_error.
//
//   test_support::TempDir dir("saguard-webhook-");
//   const std::string cert = dir.write("tls.crt", pem);  // its path
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace saguard::test_support {

class TempDir {
 public:
  // `prefix` starts the directory's name; six random characters end it.
  explicit TempDir(std::string_view prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / prefix).string() + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary directory " + pattern);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` in the directory (which need not exist).
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  // Writes `content` to `name` in the directory, replacing it; returns its path.
  std::string write(std::string_view name, std::string_view content) const {
    const std::string path = file(name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
    return path;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace saguard::test_support
