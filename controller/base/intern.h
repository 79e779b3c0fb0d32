// Interned strings. Namespaces, ServiceAccount names, label keys and values repeat
// across tens of thousands of cached objects; a Symbol is one pointer to a single
// shared copy, so a cached Pod pays 8 bytes for its namespace instead of a string.
//
// Interned strings live for the whole process (the pool never shrinks): the set of
// distinct namespaces, account names and labels in a cluster is small and stable.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace saguard {

class Symbol {
 public:
  Symbol();  // the empty string
  explicit Symbol(std::string_view text);

  const std::string& str() const { return *p_; }
  std::string_view view() const { return *p_; }
  bool empty() const { return p_->empty(); }

  // Equal text means the same pointer, so equality is a pointer compare.
  friend bool operator==(Symbol a, Symbol b) { return a.p_ == b.p_; }
  friend bool operator<(Symbol a, Symbol b) { return *a.p_ < *b.p_; }
  std::size_t hash() const { return std::hash<const void*>()(p_); }

 private:
  const std::string* p_;
};

// Number of distinct strings interned so far (for tests and memory accounting).
std::size_t internedCount();

}  // namespace saguard

template <>
struct std::hash<saguard::Symbol> {
  std::size_t operator()(saguard::Symbol s) const noexcept { return s.hash(); }
};
