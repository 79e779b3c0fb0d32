// A stable 64-bit hash of text (FNV-1a): the same on every machine, build and run, unlike
// std::hash. For what is persisted or compared across processes: which evidence shard an
// account lives in, the rendered-hash annotation of the admission objects.
#pragma once

#include <cstdint>
#include <string_view>

namespace saguard {

inline constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ULL;

// `basis` other than FNV's own only to keep a hash that was persisted with another one.
constexpr std::uint64_t fnv1a64(std::string_view text, std::uint64_t basis = kFnvOffsetBasis) {
  std::uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace saguard
