// PackedStrings: N strings in one heap block (base/packed_strings.h), as objects::Meta
// holds a record's name, uid and resourceVersion.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <utility>

#include "base/packed_strings.h"

namespace saguard {
namespace {

using Three = PackedStrings<3>;

// One pointer: the whole point of the type.
static_assert(sizeof(Three) == sizeof(void*));
static_assert(std::is_nothrow_move_constructible_v<Three>);
static_assert(std::is_nothrow_move_assignable_v<Three>);

TEST(PackedStrings, RoundTripsEachString) {
  const Three t({"web-7d9f8c6b5-x2x4z", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "123456"});
  EXPECT_EQ(t.get(0), "web-7d9f8c6b5-x2x4z");
  EXPECT_EQ(t.get(1), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  EXPECT_EQ(t.get(2), "123456");
  // The header (3 x uint32) and the bytes, nothing else.
  EXPECT_EQ(t.heapBytes(), 12u + 19u + 36u + 6u);
}

TEST(PackedStrings, DefaultIsEmptyAndAllocatesNothing) {
  const Three t;
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(t.get(i).empty()) << i;
  EXPECT_EQ(t.heapBytes(), 0u);
  // Three empty strings are the same as none.
  const Three empties({"", "", ""});
  EXPECT_EQ(empties.heapBytes(), 0u);
  EXPECT_EQ(empties, t);
}

TEST(PackedStrings, EmptyStringsInAnyPosition) {
  const Three first({"", "b", "c"});
  EXPECT_EQ(first.get(0), "");
  EXPECT_EQ(first.get(1), "b");
  EXPECT_EQ(first.get(2), "c");
  const Three middle({"a", "", "c"});
  EXPECT_EQ(middle.get(0), "a");
  EXPECT_EQ(middle.get(1), "");
  EXPECT_EQ(middle.get(2), "c");
  const Three last({"a", "b", ""});
  EXPECT_EQ(last.get(0), "a");
  EXPECT_EQ(last.get(1), "b");
  EXPECT_EQ(last.get(2), "");
}

TEST(PackedStrings, KeepsStringsBeyondSixteenBitLengths) {
  // The decoder keeps fields of up to 64 KiB = 65536 bytes, one more than a uint16 counts.
  const std::string name(std::size_t{64} * 1024, 'n');
  const std::string uid(std::size_t{64} * 1024 + 1, 'u');
  const std::string big(std::size_t{1} << 20, 'r');
  const Three t({name, uid, big});
  EXPECT_EQ(t.get(0), name);
  EXPECT_EQ(t.get(1), uid);
  EXPECT_EQ(t.get(2), big);
}

TEST(PackedStrings, HoldsAnyBytes) {
  const std::string withNul("a\0b", 3);
  const Three t({withNul, "ü☕", "\xff"});
  EXPECT_EQ(t.get(0), withNul);
  EXPECT_EQ(t.get(1), "ü☕");
  EXPECT_EQ(t.get(2), "\xff");
}

TEST(PackedStrings, CopyIsDeep) {
  Three original({"name", "uid", "1"});
  Three copy(original);
  EXPECT_EQ(copy, original);
  EXPECT_NE(copy.get(0).data(), original.get(0).data());  // its own block
  copy.set(0, "renamed");
  EXPECT_EQ(original.get(0), "name");
  EXPECT_EQ(copy.get(0), "renamed");

  Three assigned({"x", "y", "z"});
  assigned = original;
  EXPECT_EQ(assigned, original);
  EXPECT_NE(assigned.get(1).data(), original.get(1).data());

  // Copying an empty value stays empty, also over a non-empty one.
  assigned = Three();
  EXPECT_EQ(assigned.heapBytes(), 0u);
  EXPECT_EQ(assigned.get(0), "");
}

TEST(PackedStrings, SelfCopyAssignmentKeepsTheStrings) {
  Three t({"name", "uid", "1"});
  const Three& alias = t;
  t = alias;
  EXPECT_EQ(t.get(0), "name");
  EXPECT_EQ(t.get(1), "uid");
  EXPECT_EQ(t.get(2), "1");
}

TEST(PackedStrings, MoveTakesTheBlockAndLeavesEmpty) {
  Three source({"name", "uid", "1"});
  const char* block = source.get(0).data();
  const std::string_view view = source.get(1);
  Three moved(std::move(source));
  // The bytes did not move, so views taken before the move stay valid.
  EXPECT_EQ(moved.get(0).data(), block);
  EXPECT_EQ(view, "uid");
  EXPECT_EQ(source.heapBytes(),
            0u);                 // NOLINT(bugprone-use-after-move): moved-from is specified empty
  EXPECT_EQ(source.get(0), "");  // NOLINT(bugprone-use-after-move)

  Three target({"old", "old", "old"});
  target = std::move(moved);
  EXPECT_EQ(target.get(0), "name");
  EXPECT_EQ(target.get(0).data(), block);
  EXPECT_EQ(moved.get(2), "");  // NOLINT(bugprone-use-after-move)
}

TEST(PackedStrings, SetReplacesOneAndKeepsTheOthers) {
  Three t;
  t.set(1, "uid");
  EXPECT_EQ(t.get(0), "");
  EXPECT_EQ(t.get(1), "uid");
  EXPECT_EQ(t.get(2), "");
  t.set(0, "name");
  t.set(2, "42");
  EXPECT_EQ(t.get(0), "name");
  EXPECT_EQ(t.get(1), "uid");
  EXPECT_EQ(t.get(2), "42");
  t.set(1, "");
  EXPECT_EQ(t.get(0), "name");
  EXPECT_EQ(t.get(1), "");
  EXPECT_EQ(t.get(2), "42");
  t.set(0, "");
  t.set(2, "");
  EXPECT_EQ(t.heapBytes(), 0u);  // back to no block
}

TEST(PackedStrings, SetFromAViewIntoItself) {
  // The new block is built before the old one is freed.
  Three t({"name", "uid", "1"});
  t.set(2, t.get(0));
  EXPECT_EQ(t.get(2), "name");
  t.set(0, t.get(1).substr(1));
  EXPECT_EQ(t.get(0), "id");
  EXPECT_EQ(t.get(1), "uid");
}

TEST(PackedStrings, EqualityComparesEveryString) {
  const Three a({"n", "u", "1"});
  EXPECT_EQ(a, Three({"n", "u", "1"}));
  EXPECT_NE(a, Three({"n", "u", "2"}));
  EXPECT_NE(a, Three({"n", "", "1"}));
  EXPECT_NE(a, Three());
  // The same bytes split differently are different strings.
  EXPECT_NE(Three({"ab", "c", ""}), Three({"a", "bc", ""}));
}

TEST(PackedStrings, OneString) {
  PackedStrings<1> one({"only"});
  EXPECT_EQ(one.get(0), "only");
  EXPECT_EQ(one.heapBytes(), 4u + 4u);
}

}  // namespace
}  // namespace saguard
