#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cache/kinds.h"
#include "cache/store.h"
#include "objects/objects.h"

namespace saguard::cache {

// A record type without objects::Meta: the store works through RecordTraits.
struct Plain {
  std::string name;
  std::string version;
  std::vector<std::string> tags;
};
template <>
struct RecordTraits<Plain> {
  static std::string_view namespaceOf(const Plain&) { return {}; }
  static std::string_view nameOf(const Plain& p) { return p.name; }
  static std::string_view resourceVersionOf(const Plain& p) { return p.version; }
};

namespace {

using objects::Pod;
using Change = Store<Pod>::Change;
using ChangeType = Store<Pod>::ChangeType;

Pod pod(const std::string& ns, const std::string& name, const std::string& rv,
        const std::string& account) {
  Pod p;
  p.meta.namespace_ = Symbol(ns);
  p.meta.setName(name);
  p.meta.setResourceVersion(rv);
  p.serviceAccountName = Symbol(account);
  return p;
}

std::vector<std::string> names(const std::vector<Store<Pod>::Ptr>& records) {
  std::vector<std::string> out;
  for (const auto& r : records)
    out.push_back(keyOf(*r) + "@" + std::string(r->meta.resourceVersion()));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> byAccount(const Store<Pod>& store, const std::string& key) {
  auto found = store.byIndex(kPodsByAccount, key);
  EXPECT_TRUE(found.ok());
  return found.ok() ? names(*found) : std::vector<std::string>{};
}

std::vector<std::string> sortedKeys(Result<std::vector<std::string>> keys) {
  EXPECT_TRUE(keys.ok());
  std::vector<std::string> out = keys.ok() ? *keys : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const Change& c) {
  switch (c.type) {
    case ChangeType::Added:
      return "add " + keyOf(*c.now) + "@" + std::string(c.now->meta.resourceVersion());
    case ChangeType::Updated:
      return "update " + keyOf(*c.now) + "@" + std::string(c.old->meta.resourceVersion()) + "->" +
             std::string(c.now->meta.resourceVersion());
    case ChangeType::Deleted:
      return "delete " + keyOf(*c.old) + "@" + std::string(c.old->meta.resourceVersion());
  }
  return "?";
}

Store<Pod> podStore() {
  return Store<Pod>({{kPodsByAccount, podAccountKeys}});
}

TEST(CacheStore, KeysSplitAndJoin) {
  EXPECT_EQ(objectKey("ns", "a"), "ns/a");
  EXPECT_EQ(objectKey("", "cluster-wide"), "cluster-wide");
  EXPECT_EQ(splitObjectKey("ns/a"), (ObjectName{"ns", "a"}));
  EXPECT_EQ(splitObjectKey("cluster-wide"), (ObjectName{"", "cluster-wide"}));
}

TEST(CacheStore, UpsertGetAndRemove) {
  Store<Pod> store = podStore();
  EXPECT_EQ(store.upsert(pod("ns", "a", "1", "default")), nullptr);
  EXPECT_EQ(store.upsert(pod("other", "a", "2", "default")),
            nullptr);  // same name, other namespace
  EXPECT_EQ(store.size(), 2u);

  auto a = store.get("ns", "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->meta.resourceVersion(), "1");
  EXPECT_EQ(store.getByKey("other/a")->meta.resourceVersion(), "2");
  EXPECT_EQ(store.get("ns", "missing"), nullptr);

  auto old = store.upsert(pod("ns", "a", "3", "default"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->meta.resourceVersion(), "1");
  EXPECT_EQ(a->meta.resourceVersion(), "1") << "a reader's record is never changed in place";
  EXPECT_EQ(store.get("ns", "a")->meta.resourceVersion(), "3");

  auto removed = store.remove("ns", "a");
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->meta.resourceVersion(), "3");
  EXPECT_EQ(store.remove("ns", "a"), nullptr);
  EXPECT_EQ(store.get("ns", "a"), nullptr);
  EXPECT_EQ(names(store.list()), (std::vector<std::string>{"other/a@2"}));
}

TEST(CacheStore, IndexFollowsAddUpdateDelete) {
  Store<Pod> store = podStore();
  store.upsert(pod("ns", "a", "1", "default"));
  store.upsert(pod("ns", "b", "1", "default"));
  store.upsert(pod("ns", "c", "1", "builder"));
  store.upsert(pod("other", "d", "1", "default"));
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/a@1", "ns/b@1"}));
  EXPECT_EQ(byAccount(store, "ns/builder"), (std::vector<std::string>{"ns/c@1"}));
  EXPECT_EQ(byAccount(store, "other/default"), (std::vector<std::string>{"other/d@1"}));
  EXPECT_EQ(sortedKeys(store.indexKeys(kPodsByAccount)),
            (std::vector<std::string>{"ns/builder", "ns/default", "other/default"}));

  // An update that moves a pod to another index key unfiles it from the old one.
  store.upsert(pod("ns", "b", "2", "builder"));
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/a@1"}));
  EXPECT_EQ(byAccount(store, "ns/builder"), (std::vector<std::string>{"ns/b@2", "ns/c@1"}));

  // An update that keeps the key replaces the record filed there.
  store.upsert(pod("ns", "a", "5", "default"));
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/a@5"}));

  // Deleting the last object of a key removes the key.
  store.remove("ns", "a");
  store.remove("other", "d");
  EXPECT_EQ(byAccount(store, "ns/default"), std::vector<std::string>{});
  EXPECT_EQ(sortedKeys(store.indexKeys(kPodsByAccount)), (std::vector<std::string>{"ns/builder"}));
}

TEST(CacheStore, ReplaceDiffsByResourceVersionAndRebuildsIndexes) {
  Store<Pod> store = podStore();
  store.upsert(pod("ns", "same", "1", "default"));
  store.upsert(pod("ns", "changed", "2", "default"));
  store.upsert(pod("ns", "gone", "3", "default"));
  store.upsert(pod("ns", "gone2", "3", "builder"));
  auto sameBefore = store.get("ns", "same");

  std::vector<Store<Pod>::Ptr> next = {
      std::make_shared<const Pod>(pod("ns", "changed", "7", "builder")),
      std::make_shared<const Pod>(pod("ns", "same", "1", "default")),
      std::make_shared<const Pod>(pod("ns", "new", "8", "default")),
  };
  auto changes = store.replace(next);
  std::vector<std::string> described;
  for (const auto& c : changes) described.push_back(describe(c));
  EXPECT_EQ(described, (std::vector<std::string>{"update ns/changed@2->7", "add ns/new@8",
                                                 "delete ns/gone@3", "delete ns/gone2@3"}));

  EXPECT_EQ(store.get("ns", "same"), sameBefore) << "an unchanged object keeps its record";
  EXPECT_EQ(store.get("ns", "gone"), nullptr);
  EXPECT_EQ(names(store.list()),
            (std::vector<std::string>{"ns/changed@7", "ns/new@8", "ns/same@1"}));
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/new@8", "ns/same@1"}));
  EXPECT_EQ(byAccount(store, "ns/builder"), (std::vector<std::string>{"ns/changed@7"}));

  // Replacing with the same contents changes nothing.
  EXPECT_TRUE(store.replace(store.list()).empty());
  // Replacing with nothing deletes everything and empties the index.
  EXPECT_EQ(store.replace({}).size(), 3u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(sortedKeys(store.indexKeys(kPodsByAccount)).empty());
}

TEST(CacheStore, ReplaceWithDuplicateKeysKeepsTheLast) {
  Store<Pod> store = podStore();
  auto changes = store.replace({std::make_shared<const Pod>(pod("ns", "a", "1", "x")),
                                std::make_shared<const Pod>(pod("ns", "a", "2", "y"))});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(describe(changes[0]), "add ns/a@2");
  EXPECT_EQ(byAccount(store, "ns/x"), std::vector<std::string>{});
  EXPECT_EQ(byAccount(store, "ns/y"), (std::vector<std::string>{"ns/a@2"}));
}

// Adds and updates come in the order of the records, each key at the place of its last
// record; deletes follow in key order, whatever order the store held them in.
TEST(CacheStore, ReplaceOrdersChangesByTheLastRecordOfEachKeyThenDeletesByKey) {
  Store<Pod> store = podStore();
  for (const char* name : {"z", "b", "y", "m"}) store.upsert(pod("ns", name, "0", "x"));
  auto changes = store.replace({std::make_shared<const Pod>(pod("ns", "c", "1", "x")),
                                std::make_shared<const Pod>(pod("ns", "a", "1", "x")),
                                std::make_shared<const Pod>(pod("ns", "b", "1", "x")),
                                std::make_shared<const Pod>(pod("ns", "a", "2", "x")),
                                std::make_shared<const Pod>(pod("ns", "m", "0", "x"))});
  std::vector<std::string> described;
  for (const auto& c : changes) described.push_back(describe(c));
  EXPECT_EQ(described, (std::vector<std::string>{"add ns/c@1", "update ns/b@0->1", "add ns/a@2",
                                                 "delete ns/y@0", "delete ns/z@0"}));
  EXPECT_EQ(names(store.list()),
            (std::vector<std::string>{"ns/a@2", "ns/b@1", "ns/c@1", "ns/m@0"}));
}

TEST(CacheStore, UnknownIndexIsAnError) {
  Store<Pod> store = podStore();
  auto found = store.byIndex("nope", "x");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.kind(), ErrorKind::Invalid);
  EXPECT_NE(found.error().message.find("nope"), std::string::npos);
  EXPECT_FALSE(store.indexKeys("nope").ok());
}

TEST(CacheStore, ValidateNamesTheBadIndexer) {
  using S = Store<Pod>;
  EXPECT_TRUE(S::validate({{"a", podAccountKeys}, {"b", podAccountKeys}}).ok());
  auto duplicate = S::validate({{"a", podAccountKeys}, {"a", podAccountKeys}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message.find("indexers[1].name"), std::string::npos);
  auto empty = S::validate({{"", podAccountKeys}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("indexers[0].name"), std::string::npos);
  auto null = S::validate({{"a", nullptr}});
  ASSERT_FALSE(null.ok());
  EXPECT_NE(null.error().message.find("indexers[0].keys"), std::string::npos);
}

TEST(CacheStore, AddIndexLaterIndexesExistingRecords) {
  Store<Pod> store;
  store.upsert(pod("ns", "a", "1", "default"));
  ASSERT_TRUE(store.addIndex(kPodsByAccount, podAccountKeys).ok());
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/a@1"}));
  EXPECT_FALSE(store.addIndex(kPodsByAccount, podAccountKeys).ok()) << "names are unique";
  store.upsert(pod("ns", "b", "1", "default"));
  EXPECT_EQ(byAccount(store, "ns/default"), (std::vector<std::string>{"ns/a@1", "ns/b@1"}));
}

TEST(CacheStore, RecordWithSeveralIndexKeysAndCustomTraits) {
  Store<Plain> store({{"tag", [](const Plain& p) { return p.tags; }}});
  store.upsert(Plain{"x", "1", {"red", "blue"}});
  store.upsert(Plain{"y", "1", {"blue"}});
  auto blue = store.byIndex("tag", "blue");
  ASSERT_TRUE(blue.ok());
  EXPECT_EQ(blue->size(), 2u);
  store.upsert(Plain{"x", "2", {"green"}});
  EXPECT_EQ(store.byIndex("tag", "red")->size(), 0u);
  EXPECT_EQ(store.byIndex("tag", "blue")->size(), 1u);
  EXPECT_EQ(store.byIndex("tag", "green")->size(), 1u);
  EXPECT_EQ(store.getByKey("x")->version, "2");
  auto changes = store.replace({std::make_shared<const Plain>(Plain{"x", "2", {"green"}})});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].type, Store<Plain>::ChangeType::Deleted);
  EXPECT_EQ(changes[0].old->name, "y");
}

TEST(CacheStore, ReadersRunConcurrentlyWithAWriter) {
  Store<Pod> store = podStore();
  std::atomic<bool> done{false};
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        // Every pod of account "a" is filed under ns/a and nowhere else.
        auto found = store.byIndex(kPodsByAccount, "ns/a");
        if (!found.ok()) ++inconsistent;
        for (const auto& p : *found) {
          if (p->serviceAccountName.view() != "a") ++inconsistent;
        }
        for (const auto& p : store.list()) {
          if (store.get("ns", p->meta.name()) == nullptr && p->meta.name() == "stable")
            ++inconsistent;
        }
      }
    });
  }
  store.upsert(pod("ns", "stable", "1", "a"));
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "p" + std::to_string(i % 50);
    store.upsert(pod("ns", name, std::to_string(i), i % 2 == 0 ? "a" : "b"));
    if (i % 7 == 0) store.remove("ns", name);
    if (i % 500 == 0) {
      store.replace({std::make_shared<const Pod>(pod("ns", "stable", "1", "a"))});
    }
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_NE(store.get("ns", "stable"), nullptr);
}

}  // namespace
}  // namespace saguard::cache
