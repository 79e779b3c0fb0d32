// Interning through a small direct-mapped cache: consecutive list items repeat the same
// namespace, account name and labels, and a hit skips the pool's lock and allocation.
#pragma once

#include <array>
#include <functional>
#include <string_view>

#include "base/intern.h"

namespace saguard::codec::detail {

class SymbolMemo {
 public:
  Symbol get(std::string_view text) {
    Symbol& slot = slots_[std::hash<std::string_view>{}(text) % slots_.size()];
    if (slot.view() != text) slot = Symbol(text);
    return slot;
  }

 private:
  std::array<Symbol, 1024> slots_{};
};

}  // namespace saguard::codec::detail
