// The bounded containers under the recorder: the LRU of the correlator's caches and
// the drop-oldest queue between emit() and the writer.
#include <gtest/gtest.h>

#include <string>

#include "events/detail/drop_oldest_queue.h"
#include "events/detail/lru_map.h"

namespace saguard::events::detail {
namespace {

TEST(EventsLruMap, EvictsTheLeastRecentlyUsed) {
  LruMap<std::string, int> lru(2);
  lru.put("a", 1);
  lru.put("b", 2);
  ASSERT_NE(lru.get("a"), nullptr);  // a is now the most recent
  lru.put("c", 3);                   // evicts b
  EXPECT_TRUE(lru.contains("a"));
  EXPECT_FALSE(lru.contains("b"));
  EXPECT_TRUE(lru.contains("c"));
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_EQ(lru.evictions(), 1u);
  EXPECT_EQ(*lru.get("a"), 1);
  EXPECT_EQ(*lru.get("c"), 3);
}

TEST(EventsLruMap, ReplacingTouchesWithoutEvicting) {
  LruMap<std::string, int> lru(2);
  lru.put("a", 1);
  lru.put("b", 2);
  lru.put("a", 10);  // replace: a becomes the most recent, nothing evicted
  EXPECT_EQ(lru.evictions(), 0u);
  lru.put("c", 3);  // evicts b, the least recent
  EXPECT_FALSE(lru.contains("b"));
  EXPECT_EQ(*lru.get("a"), 10);
}

TEST(EventsLruMap, ContainsDoesNotTouch) {
  LruMap<std::string, int> lru(2);
  lru.put("a", 1);
  lru.put("b", 2);
  EXPECT_TRUE(lru.contains("a"));
  lru.put("c", 3);  // a was not touched: it goes
  EXPECT_FALSE(lru.contains("a"));
}

TEST(EventsLruMap, EraseFreesRoom) {
  LruMap<std::string, int> lru(2);
  lru.put("a", 1);
  lru.put("b", 2);
  EXPECT_TRUE(lru.erase("a"));
  EXPECT_FALSE(lru.erase("a"));
  lru.put("c", 3);
  EXPECT_EQ(lru.evictions(), 0u);
  EXPECT_TRUE(lru.contains("b"));
  EXPECT_EQ(lru.get("a"), nullptr);
}

TEST(EventsLruMap, StaysBoundedUnderManyKeys) {
  LruMap<std::string, int> lru(4096);
  for (int i = 0; i < 10000; ++i) lru.put("key-" + std::to_string(i), i);
  EXPECT_EQ(lru.size(), 4096u);
  EXPECT_EQ(lru.evictions(), 10000u - 4096u);
  EXPECT_FALSE(lru.contains("key-5903"));
  EXPECT_TRUE(lru.contains("key-5904"));
  EXPECT_TRUE(lru.contains("key-9999"));
}

TEST(EventsDropOldestQueue, DropsTheOldestWhenFull) {
  DropOldestQueue<int> queue(3);
  EXPECT_FALSE(queue.push(1).has_value());
  EXPECT_FALSE(queue.push(2).has_value());
  EXPECT_FALSE(queue.push(3).has_value());
  auto dropped = queue.push(4);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pop(), 2);
  EXPECT_EQ(queue.pop(), 3);
  EXPECT_EQ(queue.pop(), 4);
  EXPECT_FALSE(queue.pop().has_value());
  EXPECT_TRUE(queue.empty());
}

TEST(EventsDropOldestQueue, TheFirstLaneGoesFirstAndIsDroppedLast) {
  using Lane = DropOldestQueue<int>::Lane;
  DropOldestQueue<int> queue(3);
  queue.push(1);
  queue.push(2, Lane::First);
  queue.push(3);
  EXPECT_EQ(queue.push(4, Lane::First), 1);  // full: the oldest routine one goes
  EXPECT_EQ(queue.push(5, Lane::First), 3);
  EXPECT_EQ(queue.push(6), 2);  // no routine one left: the oldest first one goes
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pop(), 4);  // first lane, in order
  EXPECT_EQ(queue.pop(), 5);
  EXPECT_EQ(queue.pop(), 6);
  EXPECT_FALSE(queue.pop().has_value());
}

}  // namespace
}  // namespace saguard::events::detail
