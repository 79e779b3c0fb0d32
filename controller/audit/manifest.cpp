#include "audit/manifest.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

namespace saguard::audit {
namespace fs = std::filesystem;

namespace {

bool isManifestFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Result<std::string> readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return makeError(ErrorKind::NotFound, "cannot read " + p.string());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A line that starts a new document: "---" alone or followed by blanks or content.
bool isDocumentStart(std::string_view line) {
  if (!line.starts_with("---")) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' ||
         line[3] == '\n';
}

struct Chunk {
  int firstLine = 0;  // 0-based
  std::string text;
};

std::vector<Chunk> splitDocuments(const std::string& text) {
  std::vector<Chunk> chunks(1);
  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::size_t next = end == std::string::npos ? text.size() : end + 1;
    std::string_view l(text.data() + pos, next - pos);
    if (isDocumentStart(l) && line > 0) chunks.push_back(Chunk{line, {}});
    chunks.back().text.append(l);
    pos = next;
    ++line;
  }
  return chunks;
}

bool blank(const std::string& chunk) {
  std::istringstream s(chunk);
  std::string line;
  while (std::getline(s, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == '#') continue;
    if (line.compare(first, 3, "---") == 0 &&
        line.find_first_not_of(" \t\r", first + 3) == std::string::npos) {
      continue;
    }
    if (line.compare(first, 3, "...") == 0) continue;
    return false;
  }
  return true;
}

nlohmann::json plainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char first = s[0];
  if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') {
    errno = 0;
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end == s.c_str() + s.size()) return i;
    errno = 0;
    double d = std::strtod(s.c_str(), &end);
    if (errno == 0 && end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos)
      return d;
  }
  return s;
}

Status convert(const YAML::Node& node, nlohmann::json& out, std::size_t& budget) {
  if (budget == 0) {
    return makeError(ErrorKind::Invalid, "the document expands to more than " +
                                             std::to_string(kMaxJsonNodes) +
                                             " nodes (anchors and aliases?)");
  }
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = nullptr;
      return {};
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and leaves plain ones "?".
      out = node.Tag() == "!" ? nlohmann::json(node.Scalar()) : plainScalar(node.Scalar());
      return {};
    case YAML::NodeType::Sequence:
      out = nlohmann::json::array();
      for (const YAML::Node& item : node) {
        nlohmann::json v;
        if (auto s = convert(item, v, budget); !s.ok()) return s;
        out.push_back(std::move(v));
      }
      return {};
    case YAML::NodeType::Map:
      out = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar())
          return makeError(ErrorKind::Invalid, "a map key is not a string");
        nlohmann::json v;
        if (auto s = convert(it->second, v, budget); !s.ok()) return s;
        out[it->first.Scalar()] = std::move(v);
      }
      return {};
  }
  return {};
}

}  // namespace

Result<std::vector<Source>> collectSources(const std::vector<std::string>& paths,
                                           std::istream& in) {
  std::vector<Source> out;
  bool stdinRead = false;
  for (const std::string& path : paths) {
    if (path == "-") {
      if (stdinRead) continue;
      stdinRead = true;
      std::ostringstream s;
      s << in.rdbuf();
      out.push_back(Source{kStdinName, s.str()});
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st))
      return makeError(ErrorKind::NotFound, path + ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec),
          end;
      if (ec) return makeError(ErrorKind::Invalid, path + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) return makeError(ErrorKind::Invalid, path + ": " + ec.message());
        if (it->is_regular_file(ec) && isManifestFile(it->path())) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        auto text = readFile(f);
        if (!text.ok()) return text.error();
        out.push_back(Source{f.generic_string(), std::move(*text)});
      }
      continue;
    }
    auto text = readFile(path);
    if (!text.ok()) return text.error();
    out.push_back(Source{path, std::move(*text)});
  }
  return out;
}

Location Document::at(const YAML::Node& node) const {
  Location l;
  l.file = file;
  if (!node.IsDefined() || node.Mark().is_null()) return l;
  l.line = node.Mark().line + lineOffset + 1;
  l.column = node.Mark().column + 1;
  return l;
}

ManifestSet readManifests(const Source& source) {
  ManifestSet set;
  int index = 0;
  for (const Chunk& chunk : splitDocuments(source.text)) {
    if (blank(chunk.text)) continue;
    const int docIndex = index++;
    try {
      YAML::Node root = YAML::Load(chunk.text);
      if (root.IsNull()) continue;
      set.documents.push_back(Document{source.name, docIndex, chunk.firstLine, root});
    } catch (const YAML::Exception& e) {
      Location at{source.name, chunk.firstLine + 1, 1};
      if (!e.mark.is_null()) {
        at.line = e.mark.line + chunk.firstLine + 1;
        at.column = e.mark.column + 1;
      }
      set.errors.push_back(ReadError{at, docIndex, e.msg});
    } catch (const std::exception& e) {
      set.errors.push_back(
          ReadError{Location{source.name, chunk.firstLine + 1, 1}, docIndex, e.what()});
    }
  }
  return set;
}

YAML::Node child(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return YAML::Node();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node();
}

YAML::Node childKey(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return YAML::Node();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->first;
  }
  return YAML::Node();
}

std::string scalarText(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : std::string();
}

Result<nlohmann::json> toJson(const YAML::Node& node) {
  std::size_t budget = kMaxJsonNodes;
  nlohmann::json out;
  try {
    if (auto s = convert(node, out, budget); !s.ok()) return s.error();
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Invalid, e.what());
  }
  return out;
}

}  // namespace saguard::audit
