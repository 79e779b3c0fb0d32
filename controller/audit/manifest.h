// Reading Kubernetes manifests for the offline linter: multi-document YAML and JSON
// from files, folders and stdin, with the line and column of every node kept so that
// findings can point at the text to fix.
//
// A stream is split into documents at `---` lines before parsing, so one malformed
// document yields one ReadError (file, line, column) and the others are still read.
// Nothing here throws: yaml-cpp exceptions are caught and turned into ReadErrors.
//
//   auto sources = collectSources({"manifests/", "-"}, std::cin);   // files, folders, stdin
//   for (const Source& s : *sources) { ManifestSet set = readManifests(s); ... }
#pragma once

#include <yaml-cpp/yaml.h>

#include <istream>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace saguard::audit {

// A place in an input, 1-based. line 0 means "no place known".
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
};

// One input: a file's path as the user gave it (or as found under a folder), or
// "<stdin>" for `-`.
struct Source {
  std::string name;
  std::string text;
};

inline constexpr const char* kStdinName = "<stdin>";

// Expands PATH arguments: a file is read as is, a folder recursively for *.yaml,
// *.yml and *.json (sorted, so output is stable), `-` reads `in` once. NotFound or
// Invalid (naming the path) when a path cannot be read.
Result<std::vector<Source>> collectSources(const std::vector<std::string>& paths, std::istream& in);

struct Document {
  std::string file;
  int index = 0;       // 0-based position in its file
  int lineOffset = 0;  // lines before this document's first line in the file
  YAML::Node root;

  // The place of `node` (a node of this document) in the file.
  Location at(const YAML::Node& node) const;
};

struct ReadError {
  Location at;
  int documentIndex = 0;
  std::string message;
};

struct ManifestSet {
  std::vector<Document> documents;  // non-empty documents, in file order
  std::vector<ReadError> errors;
};

// Splits `source` into documents and parses each. Empty documents (only comments or
// whitespace) are skipped.
ManifestSet readManifests(const Source& source);

// Map lookup that never throws and never inserts: the value under `key`, or an
// undefined-free null Node when `node` is not a map or has no such key.
YAML::Node child(const YAML::Node& node, std::string_view key);
// The key node of `key` (for pointing at a field name), or a null Node.
YAML::Node childKey(const YAML::Node& node, std::string_view key);
// A scalar's text, or "" for anything else.
std::string scalarText(const YAML::Node& node);

// YAML to JSON the way the API server reads it: plain scalars become booleans,
// numbers or null when they look like one, quoted scalars stay strings. Invalid when
// the document expands beyond kMaxJsonNodes (anchors and aliases can multiply it).
inline constexpr std::size_t kMaxJsonNodes = 100000;
Result<nlohmann::json> toJson(const YAML::Node& node);

}  // namespace saguard::audit
