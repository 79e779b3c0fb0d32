#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cache/informer.h"
#include "cache/informer_set.h"
#include "cache/kinds.h"
#include "support/api_json.h"
#include "support/scripted_client.h"

namespace saguard::cache {
namespace {

using namespace std::chrono_literals;
using objects::ServiceAccount;
using testing::accountJson;
using testing::bookmarkLine;
using testing::eventLine;
using testing::goneLine;
using testing::listJson;
using testing::RecordingSleeper;
using testing::ScriptedClient;

// Waits (really) until `predicate` holds; the tests assert on what happened, not on how long it
// took.
bool waitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Handler calls as strings, thread-safe.
class Calls {
 public:
  Handlers<ServiceAccount> handlers(const std::string& prefix = "") {
    return {
        .onAdd =
            [this, prefix](const ServiceAccount& a) {
              push(prefix + "add " + keyOf(a) + "@" + std::string(a.meta.resourceVersion()));
            },
        .onUpdate =
            [this, prefix](const ServiceAccount& o, const ServiceAccount& n) {
              push(prefix + "update " + keyOf(n) + "@" + std::string(o.meta.resourceVersion()) +
                   "->" + std::string(n.meta.resourceVersion()));
            },
        .onDelete =
            [this, prefix](const ServiceAccount& o) {
              push(prefix + "delete " + keyOf(o) + "@" + std::string(o.meta.resourceVersion()));
            },
    };
  }
  void push(std::string call) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(call));
  }
  std::vector<std::string> get() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool waitFor(std::size_t n) {
    return waitUntil([&] { return get().size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

class InformerTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServiceAccountInformer> make() {
    ReflectorOptions o;
    o.clock = &clock;
    o.sleeper = &sleeper;
    o.random = [] { return 0.0; };
    auto informer = makeServiceAccountInformer(client, o);
    EXPECT_TRUE(informer.ok());
    return std::move(*informer);
  }

  FakeClock clock;
  ScriptedClient client{&clock};
  RecordingSleeper sleeper{clock};
  Calls calls;
};

TEST_F(InformerTest, RelistAfterGoneTellsHandlersExactlyWhatChanged) {
  client.pushList(listJson(
      "ServiceAccountList", "10",
      {accountJson("ns", "a", "1"), accountJson("ns", "b", "2"), accountJson("ns", "c", "3")}));
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "d", "11")), goneLine()}});
  // During the gap: b changed, c was deleted, e was created; a and d did not change.
  client.pushList(listJson("ServiceAccountList", "20",
                           {accountJson("ns", "a", "1"), accountJson("ns", "b", "5"),
                            accountJson("ns", "d", "11"), accountJson("ns", "e", "19")}));
  auto informer = make();
  informer->addHandlers(calls.handlers());
  informer->start();
  ASSERT_TRUE(calls.waitFor(7));
  ASSERT_TRUE(waitUntil([&] { return client.watchCalls().size() == 2; }));
  informer->stop();

  EXPECT_EQ(calls.get(),
            (std::vector<std::string>{"add ns/a@1", "add ns/b@2", "add ns/c@3", "add ns/d@11",
                                      "update ns/b@2->5", "add ns/e@19", "delete ns/c@3"}));
  EXPECT_TRUE(informer->hasSynced());
  EXPECT_EQ(informer->store().size(), 4u);
  EXPECT_EQ(informer->store().get("ns", "c"), nullptr);
  EXPECT_EQ(informer->store().get("ns", "b")->meta.resourceVersion(), "5");
  EXPECT_EQ(client.watchCalls()[1].resourceVersion, "20");
  EXPECT_EQ(informer->stats().relists, 1u);
  auto inNs = informer->store().byIndex(kAccountsByNamespace, "ns");
  ASSERT_TRUE(inNs.ok());
  EXPECT_EQ(inNs->size(), 4u);
}

TEST_F(InformerTest, WatchEventsBecomeAddUpdateDelete) {
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")}));
  client.pushWatch(
      {.chunks = {
           eventLine("ADDED", accountJson("ns", "b", "11")),
           eventLine("MODIFIED", accountJson("ns", "a", "12")),
           eventLine("ADDED", accountJson("ns", "a", "13")),  // ADDED for a known object: an update
           eventLine("DELETED", accountJson("ns", "b", "14")),
           eventLine("DELETED", accountJson("ns", "never-seen", "15")),  // nothing to tell
           eventLine("MODIFIED", accountJson("ns", "c", "16"))}});       // unknown: an add
  auto informer = make();
  informer->addHandlers(calls.handlers());
  informer->start();
  ASSERT_TRUE(calls.waitFor(6));
  ASSERT_TRUE(waitUntil([&] { return informer->lastResourceVersion() == "16"; }));
  informer->stop();
  EXPECT_EQ(calls.get(),
            (std::vector<std::string>{"add ns/a@1", "add ns/b@11", "update ns/a@1->12",
                                      "update ns/a@12->13", "delete ns/b@14", "add ns/c@16"}));
}

TEST_F(InformerTest, ASlowHandlerDoesNotHoldUpTheWatch) {
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "first", "1")}));
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i)
    lines.push_back(
        eventLine("ADDED", accountJson("ns", "sa-" + std::to_string(i), std::to_string(100 + i))));
  client.pushWatch({.chunks = lines, .holdUntilStop = true});
  auto informer = make();
  Handlers<ServiceAccount> slow = calls.handlers();
  slow.onAdd = [&, inner = slow.onAdd](const ServiceAccount& a) {
    open.wait();  // blocked until the test opens the gate
    inner(a);
  };
  informer->addHandlers(slow);
  informer->start();

  // The whole stream reaches the store while the handler is still stuck on its first call.
  ASSERT_TRUE(waitUntil([&] { return informer->store().size() == 201; }));
  EXPECT_TRUE(calls.get().empty());
  EXPECT_TRUE(informer->storeSynced());
  EXPECT_FALSE(informer->hasSynced()) << "the initial list's notifications are not delivered yet";
  EXPECT_GE(informer->pendingNotifications(), 200u);

  gate.set_value();
  ASSERT_TRUE(calls.waitFor(201));
  EXPECT_TRUE(informer->hasSynced());
  auto got = calls.get();
  EXPECT_EQ(got.front(), "add ns/first@1");
  EXPECT_EQ(got.back(), "add ns/sa-199@299") << "delivered in order";
  informer->stop();
}

TEST_F(InformerTest, HandlersAddedLaterSeeExistingObjectsOnceThenChanges) {
  client.pushList(listJson("ServiceAccountList", "10",
                           {accountJson("ns", "a", "1"), accountJson("ns", "b", "2")}));
  auto informer = make();
  informer->addHandlers(calls.handlers("1:"));
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::steady_clock::now() + 20s, {}));
  informer->addHandlers(calls.handlers("2:"));
  client.pushWatch(
      {.chunks = {eventLine("MODIFIED", accountJson("ns", "a", "11"))}, .holdUntilStop = true});
  ASSERT_TRUE(calls.waitFor(6));
  informer->stop();

  std::vector<std::string> first;
  std::vector<std::string> second;
  for (const auto& c : calls.get()) (c.starts_with("1:") ? first : second).push_back(c.substr(2));
  EXPECT_EQ(first, (std::vector<std::string>{"add ns/a@1", "add ns/b@2", "update ns/a@1->11"}));
  ASSERT_EQ(second.size(), 3u);
  std::sort(second.begin(), second.begin() + 2);  // the replay is in store order
  EXPECT_EQ(second, (std::vector<std::string>{"add ns/a@1", "add ns/b@2", "update ns/a@1->11"}));
}

TEST_F(InformerTest, RemovedHandlersAreNotCalled) {
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")}));
  auto informer = make();
  auto id = informer->addHandlers(calls.handlers("gone:"));
  EXPECT_TRUE(informer->removeHandlers(id));
  EXPECT_FALSE(informer->removeHandlers(id));
  informer->addHandlers(calls.handlers("kept:"));
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::steady_clock::now() + 20s, {}));
  informer->stop();
  EXPECT_EQ(calls.get(), (std::vector<std::string>{"kept:add ns/a@1"}));
}

TEST_F(InformerTest, AThrowingHandlerDoesNotStopTheOthers) {
  client.pushList(listJson("ServiceAccountList", "10",
                           {accountJson("ns", "a", "1"), accountJson("ns", "b", "2")}));
  auto informer = make();
  informer->addHandlers(
      {.onAdd = [](const ServiceAccount&) { throw std::runtime_error("handler bug"); }});
  informer->addHandlers(calls.handlers());
  informer->start();
  ASSERT_TRUE(calls.waitFor(2));
  ASSERT_TRUE(informer->waitForSync(std::chrono::steady_clock::now() + 20s, {}));
  informer->stop();
  EXPECT_EQ(calls.get(), (std::vector<std::string>{"add ns/a@1", "add ns/b@2"}));
}

TEST_F(InformerTest, StopIsPromptAndStartResumesTheWatch) {
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")}));
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "b", "11"))}, .holdUntilStop = true});
  auto informer = make();
  informer->addHandlers(calls.handlers());
  informer->start();
  ASSERT_TRUE(calls.waitFor(2));
  informer->stop();  // the watch is open and idle: stop must close it and join
  EXPECT_EQ(informer->lastResourceVersion(), "11");

  client.pushWatch(
      {.chunks = {eventLine("DELETED", accountJson("ns", "a", "12"))}, .holdUntilStop = true});
  informer->start();
  ASSERT_TRUE(calls.waitFor(3));
  informer->stop();
  EXPECT_EQ(client.listCalls().size(), 1u) << "a restart resumes; it does not list again";
  auto watches = client.watchCalls();
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[1].resourceVersion, "11");
  EXPECT_EQ(calls.get(), (std::vector<std::string>{"add ns/a@1", "add ns/b@11", "delete ns/a@12"}));
}

TEST_F(InformerTest, CreateRejectsBadOptions) {
  InformerOptions<ServiceAccount> options;
  options.reflector.resource = kube::resources::kServiceAccounts;
  options.reflector.pageSize = -1;
  auto bad = Informer<ServiceAccount>::create(client, codecDecoding<codec::Kind::ServiceAccount>(),
                                              options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.kind(), ErrorKind::Invalid);
  EXPECT_NE(bad.error().message.find("reflector.pageSize"), std::string::npos);

  options.reflector.pageSize = 500;
  options.indexers = {{"x", accountNamespaceKeys}, {"x", accountNamespaceKeys}};
  EXPECT_FALSE(Informer<ServiceAccount>::create(
                   client, codecDecoding<codec::Kind::ServiceAccount>(), options)
                   .ok());

  options.indexers.clear();
  EXPECT_FALSE(Informer<ServiceAccount>::create(client, Decoding<ServiceAccount>{}, options).ok());
}

// A kind decoded by hand rather than by codec/: the reflector, store and informer take
// any record with an objects::Meta and any pair of decoding functions (the way the
// ServiceAccountPolicy kind plugs in its nlohmann parser).
struct Tagged {
  objects::Meta meta;
  std::string tag;
};

// Items and objects are strings "name:resourceVersion:tag".
Tagged parseTagged(std::string_view text) {
  Tagged t;
  const auto first = text.find(':');
  const auto second = text.find(':', first + 1);
  t.meta.setName(text.substr(0, first));
  t.meta.setResourceVersion(text.substr(first + 1, second - first - 1));
  t.tag = std::string(text.substr(second + 1));
  return t;
}

std::string quoted(std::string_view text, std::string_view key) {
  const std::string marker = "\"" + std::string(key) + "\":\"";
  const auto at = text.find(marker);
  if (at == std::string_view::npos) return {};
  const auto begin = at + marker.size();
  return std::string(text.substr(begin, text.find('"', begin) - begin));
}

Decoding<Tagged> taggedDecoding() {
  Decoding<Tagged> d;
  d.list = [](std::string_view page, const codec::ListSink<Tagged>& sink) -> Status {
    const auto items = page.find("\"items\":[");
    if (items == std::string_view::npos) return makeError(ErrorKind::Invalid, "no items");
    std::size_t at = items + 9;
    while ((at = page.find('"', at)) != std::string_view::npos) {
      const auto end = page.find('"', at + 1);
      sink.onItem(parseTagged(page.substr(at + 1, end - at - 1)));
      at = end + 1;
    }
    return {};
  };
  d.event = [](codec::PaddedView line) -> Result<codec::WatchEvent<Tagged>> {
    codec::WatchEvent<Tagged> event;
    const std::string type = quoted(line.view(), "type");
    if (type == "ADDED") {
      event.type = codec::EventType::Added;
    } else if (type == "DELETED") {
      event.type = codec::EventType::Deleted;
    } else {
      return makeError(ErrorKind::Invalid, "unknown type " + type);
    }
    event.object = parseTagged(quoted(line.view(), "object"));
    event.resourceVersion = event.object.meta.resourceVersion();
    return event;
  };
  return d;
}

TEST_F(InformerTest, AnyRecordTypeWithPluggableDecoding) {
  client.pushList(std::string(
      R"({"kind":"TaggedList","metadata":{"resourceVersion":"10"},"items":["a:1:red","b:2:blue"]})"));
  client.pushWatch({.chunks = {R"({"type":"ADDED","object":"c:11:red"})"
                               "\n",
                               R"({"type":"DELETED","object":"a:12:red"})"
                               "\n"},
                    .holdUntilStop = true});
  InformerOptions<Tagged> options;
  options.reflector.resource = {
      .group = "example.io", .version = "v1", .plural = "taggeds", .namespaced = false};
  options.reflector.clock = &clock;
  options.reflector.sleeper = &sleeper;
  options.indexers = {{"tag", [](const Tagged& t) { return std::vector<std::string>{t.tag}; }}};
  auto informer = Informer<Tagged>::create(client, taggedDecoding(), options);
  ASSERT_TRUE(informer.ok()) << informer.error().describe();
  std::vector<std::string> seen;
  std::mutex mu;
  (*informer)->addHandlers({.onAdd =
                                [&](const Tagged& t) {
                                  std::lock_guard l(mu);
                                  seen.push_back("add " + std::string(t.meta.name()));
                                },
                            .onDelete =
                                [&](const Tagged& t) {
                                  std::lock_guard l(mu);
                                  seen.push_back("delete " + std::string(t.meta.name()));
                                }});
  (*informer)->start();
  ASSERT_TRUE(waitUntil([&] {
    std::lock_guard l(mu);
    return seen.size() == 4;
  }));
  (*informer)->stop();
  EXPECT_EQ(seen, (std::vector<std::string>{"add a", "add b", "add c", "delete a"}));
  EXPECT_EQ((*informer)->name(), "taggeds");
  auto red = (*informer)->store().byIndex("tag", "red");
  ASSERT_TRUE(red.ok());
  ASSERT_EQ(red->size(), 1u);
  EXPECT_EQ((*red)[0]->meta.name(), "c");
  EXPECT_EQ((*informer)->store().getByKey("b")->tag, "blue");
}

TEST(InformerSetTest, WaitsForEverySyncAndNamesTheMissing) {
  FakeClock clock;
  ScriptedClient healthy(&clock);
  healthy.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")}));
  ScriptedClient healthyNamespaces(&clock);
  healthyNamespaces.pushList(listJson("NamespaceList", "10", {}));
  ScriptedClient broken(&clock);  // every list fails: never syncs
  ReflectorOptions o;
  o.random = [] {
    return 0.0;
  };  // real sleeper and clock: the broken one backs off for real, and stop wakes it

  InformerSet set;
  auto& accounts = set.add(makeServiceAccountInformer(healthy, o).value());
  set.add(makeNamespaceInformer(healthyNamespaces, o).value());
  set.start();
  EXPECT_TRUE(set.waitForCacheSync(20s));
  EXPECT_TRUE(set.hasSynced());
  EXPECT_NE(accounts.store().get("ns", "a"), nullptr);

  auto& pods = set.add(makePodInformer(broken, o).value());  // started at once: the set is running
  EXPECT_FALSE(set.waitForCacheSync(100ms));
  EXPECT_EQ(set.unsynced(), (std::vector<std::string>{"pods"}));
  EXPECT_FALSE(pods.hasSynced());

  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(set.waitForCacheSync(20s, stop.get_token())) << "a stop ends the wait";
  set.stop();  // prompt although the broken informer is in a backoff wait
  EXPECT_EQ(set.size(), 3u);
}

}  // namespace
}  // namespace saguard::cache
