#include "base/intern.h"

#include <mutex>
#include <unordered_set>

namespace saguard {
namespace {

struct Pool {
  std::mutex mu;
  // Node-based: element addresses are stable across rehashing.
  std::unordered_set<std::string> strings;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: Symbols may outlive static destruction order.
  return *p;
}

const std::string* intern(std::string_view text) {
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  auto it = p.strings.find(std::string(text));
  if (it == p.strings.end()) it = p.strings.emplace(text).first;
  return &*it;
}

}  // namespace

Symbol::Symbol() {
  static const std::string* const empty = intern("");
  p_ = empty;
}
Symbol::Symbol(std::string_view text) : p_(intern(text)) {}

std::size_t internedCount() {
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  return p.strings.size();
}

}  // namespace saguard
