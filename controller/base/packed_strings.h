// A fixed number of strings in one heap block. objects::Meta holds every cached
// record's name, uid and resourceVersion this way: three std::strings would cost 96
// bytes inline plus up to three heap blocks (pod names and 36-character uids are too
// long for the small-string buffer); one PackedStrings<3> costs one pointer and one
// block of 12 + name + uid + resourceVersion bytes.
//
// The block is [N lengths as uint32][the bytes of each string, back to back], with no
// terminators: get() hands out string_views, not C strings. When every string is empty
// there is no block at all, so a default-constructed or moved-from value allocates
// nothing and reads as N empty strings.
//
// Records are built once and then only read, so set() simply rebuilds the block; build
// with the constructor when all N strings are known. Copies are deep (records are
// copied in tests and when a cache hands out a modified copy); moves only move the
// pointer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace saguard {

template <std::size_t N>
class PackedStrings {
 public:
  static_assert(N > 0, "PackedStrings<0> holds nothing");

  using Length = std::uint32_t;
  // The longest string one slot holds. 32-bit, not 16: the decoder accepts fields of
  // up to 64 KiB (codec::kMaxFieldBytes), which is one more than a uint16 can count.
  static constexpr std::size_t kMaxLength = std::numeric_limits<Length>::max();

  PackedStrings() = default;

  // Throws std::length_error if a string is longer than kMaxLength (as std::string
  // throws past its max_size): a length is never truncated.
  explicit PackedStrings(const std::array<std::string_view, N>& parts) : block_(build(parts)) {}

  PackedStrings(const PackedStrings& other) : block_(copyOf(other)) {}
  PackedStrings& operator=(const PackedStrings& other) {
    if (this != &other) block_ = copyOf(other);
    return *this;
  }
  PackedStrings(PackedStrings&&) noexcept = default;
  PackedStrings& operator=(PackedStrings&&) noexcept = default;
  ~PackedStrings() = default;

  // The i-th string; valid until this value is next assigned, set or destroyed.
  std::string_view get(std::size_t i) const {
    if (!block_) return {};
    std::size_t offset = kHeaderBytes;
    for (std::size_t k = 0; k < i; ++k) offset += lengthAt(k);
    return {block_.get() + offset, lengthAt(i)};
  }

  // Replaces the i-th string, keeping the others. `text` may view into this value's own
  // block: the new block is built before the old one is freed.
  void set(std::size_t i, std::string_view text) {
    std::array<std::string_view, N> parts = views();
    parts[i] = text;
    block_ = build(parts);
  }

  std::array<std::string_view, N> views() const {
    std::array<std::string_view, N> parts{};
    for (std::size_t i = 0; i < N; ++i) parts[i] = get(i);
    return parts;
  }

  // Bytes of the heap block (0 when there is none), for memory accounting and tests.
  std::size_t heapBytes() const { return block_ ? blockSize() : 0; }

  friend bool operator==(const PackedStrings& a, const PackedStrings& b) {
    for (std::size_t i = 0; i < N; ++i) {
      if (a.get(i) != b.get(i)) return false;
    }
    return true;
  }

 private:
  static constexpr std::size_t kHeaderBytes = N * sizeof(Length);

  // memcpy, not a cast: the block is a char array, and this keeps the read free of
  // alignment and aliasing assumptions (it compiles to a plain load).
  Length lengthAt(std::size_t i) const {
    Length length = 0;
    std::memcpy(&length, block_.get() + i * sizeof(Length), sizeof(Length));
    return length;
  }

  std::size_t blockSize() const {
    std::size_t size = kHeaderBytes;
    for (std::size_t i = 0; i < N; ++i) size += lengthAt(i);
    return size;
  }

  static std::unique_ptr<char[]> build(const std::array<std::string_view, N>& parts) {
    std::size_t size = kHeaderBytes;
    bool allEmpty = true;
    for (std::string_view part : parts) {
      if (part.size() > kMaxLength)
        throw std::length_error("PackedStrings: string longer than 4 GiB");
      size += part.size();
      allEmpty = allEmpty && part.empty();
    }
    if (allEmpty) return nullptr;
    auto block = std::make_unique_for_overwrite<char[]>(size);
    std::size_t offset = kHeaderBytes;
    for (std::size_t i = 0; i < N; ++i) {
      const auto length = static_cast<Length>(parts[i].size());
      std::memcpy(block.get() + i * sizeof(Length), &length, sizeof(Length));
      if (length != 0) std::memcpy(block.get() + offset, parts[i].data(), length);
      offset += length;
    }
    return block;
  }

  static std::unique_ptr<char[]> copyOf(const PackedStrings& other) {
    if (!other.block_) return nullptr;
    const std::size_t size = other.blockSize();
    auto block = std::make_unique_for_overwrite<char[]>(size);
    std::memcpy(block.get(), other.block_.get(), size);
    return block;
  }

  std::unique_ptr<char[]> block_;  // null when all N strings are empty
};

}  // namespace saguard
