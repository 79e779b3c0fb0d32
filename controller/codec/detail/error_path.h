// Where a decoder failed, and why: "items[3].metadata.name: expected string". Built from
// the inside out: the innermost reader says what (fail, missing), each enclosing reader
// prefixes its field or index on the way out (in, inEntry, at; all return false, for
// `return ok || c.in("spec")`). Shared by the JSON decoder's context (detail/ondemand.h)
// and the protobuf decoder's (protobuf.cpp).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace saguard::codec::detail {

// Quoted for a message, shortened so a hostile value cannot bloat the log line.
inline std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown) out += "...";
  out += '"';
  return out;
}

class ErrorPath {
 public:
  // Item-level failure with a message of our own.
  bool fail(std::string what) { return set(std::move(what), false); }
  // The document itself is broken: nothing after this point can be trusted.
  bool failFatal(std::string what) { return set(std::move(what), true); }

  // A required field that is absent or empty; `path` from the outside in.
  bool missing(std::initializer_list<std::string_view> path) {
    fail("missing");
    for (auto it = std::rbegin(path); it != std::rend(path); ++it) in(*it);
    return false;
  }

  bool in(std::string_view field) { return prefix(std::string(field)); }
  // A map entry (labels, annotations): ["key"], since keys contain dots themselves.
  bool inEntry(std::string_view key) { return prefix("[" + quoted(key) + "]"); }
  bool at(std::size_t index) { return prefix("[" + std::to_string(index) + "]"); }

  bool fatal() const { return fatal_; }
  std::string message() const { return path_.empty() ? what_ : path_ + ": " + what_; }
  void clear() {
    path_.clear();
    what_.clear();
    fatal_ = false;
  }

 protected:
  bool set(std::string what, bool fatal) {
    path_.clear();
    what_ = std::move(what);
    fatal_ = fatal;
    return false;
  }

 private:
  bool prefix(std::string next) {
    if (!path_.empty() && path_.front() != '[') next += '.';
    path_.insert(0, next);
    return false;
  }

  std::string path_;
  std::string what_;
  bool fatal_ = false;
};

}  // namespace saguard::codec::detail
