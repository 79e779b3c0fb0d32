// The evidence store (evidence/store.h) against the real API server: ConfigMaps
// saguard-token-use-N in a namespace of the test's own, shared by "replicas" (a Ledger and
// a Store each, over the same namespace). Records recorded anywhere reach every replica and
// converge in any order; a replica that loses a race (Conflict) loses nothing and writes on
// its next sync; nothing changed means nothing written (not a replayed use, not a replica
// that only reads); the observation period on shard 0 (observing-since merged across
// replicas, observed-until refreshed once per heartbeat, a gap longer than the tolerance
// resetting observing-since, a store without observed-until taken as running); a restarted
// replica gets everything back in one sync; a full shard drops the accounts with the oldest
// use (never keeping a record older than one it dropped, even a smaller one); a hand-edited
// garbage entry does not hide the others; readStore(); and the ConfigMaps' shape
// (data keys "ns.name", the entry JSON of store.h's comment).
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "codec/rfc3339.h"
#include "evidence/ingest.h"
#include "evidence/ledger.h"
#include "evidence/store.h"
#include "integration/support/admin_client.h"
#include "integration/support/controlplane_env.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "support/token_use.h"

namespace saguard::evidence {
namespace {

namespace cp = saguard::testing;
using cp::adminClient;
using nlohmann::json;
using policy::AccountUse;
using test_support::useBy;

constexpr const char* kPrefix = "saguard-token-use";
constexpr const char* kObservingSince = "saguard.io/observing-since";
constexpr const char* kObservedUntil = "saguard.io/observed-until";
constexpr std::int64_t kAt = 1796597408;  // 2026-12-06T22:50:08Z

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One replica of saguard: its ledger and its store, over the shared namespace.
struct Replica {
  Replica(kube::Client& client, const StoreOptions& options)
      : ledger(std::make_unique<Ledger>()), store(client, *ledger, options) {}

  void sync() {
    Status status = store.sync();
    ASSERT_TRUE(status.ok()) << status.error().describe();
  }

  std::unique_ptr<Ledger> ledger;  // first: the store keeps a reference
  Store store;
};

StoreOptions optionsFor(const std::string& ns, int shards = 8) {
  return {.namespace_ = ns, .prefix = kPrefix, .shards = shards};
}

std::string shardName(int index) {
  return std::string(kPrefix) + "-" + std::to_string(index);
}

json getJson(kube::Client& client, const std::string& ns, const std::string& name) {
  auto got = client.get(kube::resources::kConfigMaps, ns, name);
  if (!got) throw std::runtime_error(got.error().describe());
  return json::parse(*got);
}

// name -> resourceVersion of every ConfigMap of the store in `ns`.
std::map<std::string, std::string> resourceVersions(kube::Client& client, const std::string& ns) {
  auto listed = client.list(kube::resources::kConfigMaps, ns,
                            {.labelSelector = "app.kubernetes.io/managed-by=saguard"});
  if (!listed) throw std::runtime_error(listed.error().describe());
  std::map<std::string, std::string> out;
  const json list = json::parse(*listed);
  for (const auto& item : list["items"]) {
    out[item["metadata"]["name"].get<std::string>()] =
        item["metadata"]["resourceVersion"].get<std::string>();
  }
  return out;
}

// Every data entry of every shard: data key -> its JSON text.
std::map<std::string, std::string> dataEntries(kube::Client& client, const std::string& ns,
                                               int shards) {
  std::map<std::string, std::string> out;
  for (int i = 0; i < shards; ++i) {
    const json cm = getJson(client, ns, shardName(i));
    const json data = cm.value("data", json::object());
    for (const auto& [key, value] : data.items()) {
      out[key] = value.get<std::string>();
    }
  }
  return out;
}

// Captures what saguard logs while it lives (the store reports through spdlog).
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("evidence-store-test", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A client that forwards to the real one and runs `beforeUpdate` (once) just before the
// first PUT: another replica's write lands between this one's GET and its PUT.
class RacingClient final : public kube::Client {
 public:
  explicit RacingClient(kube::Client& inner) : inner_(inner) {}
  std::function<void()> beforeUpdate;

  Result<std::string> get(const kube::Resource& r, std::string_view ns, std::string_view name,
                          const kube::GetOptions& o) override {
    return inner_.get(r, ns, name, o);
  }
  Result<std::string> list(const kube::Resource& r, std::string_view ns, const kube::ListOptions& o,
                           const kube::CallOptions& c) override {
    return inner_.list(r, ns, o, c);
  }
  Status watch(const kube::Resource& r, std::string_view ns, const kube::WatchOptions& o,
               const kube::ChunkSink& sink, std::stop_token stop) override {
    return inner_.watch(r, ns, o, sink, stop);
  }
  Result<std::string> create(const kube::Resource& r, std::string_view ns, std::string_view body,
                             const kube::WriteOptions& o) override {
    return inner_.create(r, ns, body, o);
  }
  Result<std::string> createSubresource(const kube::Resource& r, std::string_view ns,
                                        std::string_view name, std::string_view sub,
                                        std::string_view body,
                                        const kube::WriteOptions& o) override {
    return inner_.createSubresource(r, ns, name, sub, body, o);
  }
  Result<std::string> update(const kube::Resource& r, std::string_view ns, std::string_view name,
                             std::string_view body, const kube::WriteOptions& o) override {
    if (auto race = std::exchange(beforeUpdate, nullptr)) race();
    return inner_.update(r, ns, name, body, o);
  }
  Result<std::string> updateStatus(const kube::Resource& r, std::string_view ns,
                                   std::string_view name, std::string_view body,
                                   const kube::WriteOptions& o) override {
    return inner_.updateStatus(r, ns, name, body, o);
  }
  Result<std::string> patch(const kube::Resource& r, std::string_view ns, std::string_view name,
                            kube::PatchType type, std::string_view body,
                            const kube::WriteOptions& o) override {
    return inner_.patch(r, ns, name, type, body, o);
  }
  Result<std::string> remove(const kube::Resource& r, std::string_view ns, std::string_view name,
                             const kube::DeleteOptions& o) override {
    return inner_.remove(r, ns, name, o);
  }
  Result<std::string> discover(std::string_view group, std::string_view version) override {
    return inner_.discover(group, version);
  }

 private:
  kube::Client& inner_;
};

class EvidenceStore : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ns_ = cp::freshNamespace("evidence-store");
  }

  std::unique_ptr<kube::Client> client_;
  std::string ns_;
};

TEST_F(EvidenceStore, UsesRecordedInOneReplicaReachTheOther) {
  Replica a(*client_, optionsFor(ns_));
  Replica b(*client_, optionsFor(ns_));
  a.ledger->record(useBy("team-a", "web", kAt, "list", "configmaps", 200, "u-1"));
  a.ledger->record(useBy("team-a", "web", kAt + 1, "get", "secrets", 403, "u-1"));
  a.ledger->record(useBy("team-b", "batch", kAt + 2, "create", "jobs.batch"));

  a.sync();
  EXPECT_EQ(a.store.writes(), 8U);  // every shard created, empty or not
  EXPECT_EQ(b.ledger->accounts(), 0U);
  b.sync();
  EXPECT_EQ(b.ledger->all(), a.ledger->all());
  EXPECT_EQ(b.ledger->lookup("team-a", "web")->lastRefused, kAt + 1);
  EXPECT_EQ(b.ledger->evidenceOf("team-b", "batch").lastUsed, kAt + 2);
  // What B merged is already in the store: B has nothing to write, now or later.
  EXPECT_TRUE(b.ledger->takeChanged().empty());
  EXPECT_EQ(b.store.writes(), 0U);
  b.sync();
  EXPECT_EQ(b.store.writes(), 0U);
}

TEST_F(EvidenceStore, ReplicasConvergeWhateverTheOrderOfTheirSyncs) {
  // The same evidence, seen in two different splits by two replicas, synced in two orders
  // (each in its own namespace): every replica ends with the same records.
  auto feed = [](Replica& a, Replica& b) {
    a.ledger->record(useBy("team-a", "web", kAt, "list", "configmaps", 200, "u-1"));
    a.ledger->record(useBy("team-a", "shared", kAt + 10, "get", "pods", 200, "p-1"));
    b.ledger->record(useBy("team-a", "shared", kAt + 20, "watch", "pods", 200, "p-2"));
    b.ledger->record(useBy("team-a", "shared", kAt + 5, "delete", "pods", 403, "p-3"));
    b.ledger->record(useBy("team-c", "api", kAt + 30, "patch", "deployments.apps"));
    for (int i = 0; i < 12; ++i) {  // enough accounts to touch most shards
      (i % 2 == 0 ? a : b).ledger->record(useBy("team-d", "sa-" + std::to_string(i), kAt + i));
    }
  };

  Replica a1(*client_, optionsFor(ns_));
  Replica b1(*client_, optionsFor(ns_));
  feed(a1, b1);
  a1.sync();
  b1.sync();
  a1.sync();

  const std::string other = cp::freshNamespace("evidence-store");
  Replica a2(*client_, optionsFor(other));
  Replica b2(*client_, optionsFor(other));
  feed(a2, b2);
  b2.sync();
  a2.sync();
  b2.sync();

  EXPECT_EQ(a1.ledger->all(), b1.ledger->all());
  EXPECT_EQ(a2.ledger->all(), b2.ledger->all());
  EXPECT_EQ(a1.ledger->all(), a2.ledger->all());
  EXPECT_EQ(a1.ledger->accounts(), 15U);

  // The account both saw holds both replicas' pods and accesses (max-merge).
  const AccountUse shared = *a1.ledger->lookup("team-a", "shared");
  EXPECT_EQ(shared.lastUsed, kAt + 20);
  EXPECT_EQ(shared.lastRefused, kAt + 5);
  EXPECT_EQ(shared.pods.size(), 3U);
  EXPECT_EQ(shared.accesses.size(), 3U);

  // And what is stored is what the replicas hold.
  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->accounts, a1.ledger->all());
  auto storedOther = readStore(*client_, other);
  ASSERT_TRUE(storedOther.ok()) << storedOther.error().describe();
  EXPECT_EQ(storedOther->accounts, stored->accounts);
}

TEST_F(EvidenceStore, TheReplicaThatLosesARaceWritesOnItsNextSyncAndNothingIsLost) {
  auto options = optionsFor(ns_, 1);  // one shard: both replicas write the same ConfigMap
  RacingClient racing(*client_);
  Replica a(racing, options);
  Replica b(*client_, options);
  b.sync();  // the shard exists
  a.ledger->record(useBy("team-a", "web", kAt));
  b.ledger->record(useBy("team-b", "api", kAt + 1));

  // B writes between A's GET and A's PUT: A's copy is stale.
  bool raced = false;
  racing.beforeUpdate = [&] {
    raced = true;
    b.sync();
  };
  const auto before = resourceVersions(*client_, ns_);
  Status status = a.store.sync();
  ASSERT_TRUE(raced);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.is(ErrorKind::Conflict)) << status.error().describe();
  EXPECT_EQ(a.store.writes(), 0U);
  EXPECT_EQ(b.store.writes(), 2U);  // the create, then the PUT that won
  // B's write stands: A's stale PUT did not overwrite it.
  auto stored = readStore(*client_, ns_, kPrefix, 1);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_TRUE(stored->accounts.contains("team-b/api"));
  EXPECT_FALSE(stored->accounts.contains("team-a/web"));
  EXPECT_NE(resourceVersions(*client_, ns_), before);

  // A's record stayed pending: the next sync merges again and writes it.
  a.sync();
  EXPECT_EQ(a.store.writes(), 1U);
  b.sync();
  stored = readStore(*client_, ns_, kPrefix, 1);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->accounts.size(), 2U);
  EXPECT_EQ(a.ledger->all(), b.ledger->all());
  EXPECT_EQ(a.ledger->all(), stored->accounts);
}

TEST_F(EvidenceStore, APutWithAStaleResourceVersionIsRefused) {
  // What the store counts on: its PUT carries the resourceVersion it read.
  auto options = optionsFor(ns_, 1);
  Replica a(*client_, options);
  a.sync();
  const json stale = getJson(*client_, ns_, shardName(0));
  a.ledger->record(useBy("team-a", "web", kAt));
  a.sync();
  json mine = stale;
  mine["data"]["team-x.intruder"] = R"({"lastUsed":1})";
  auto put = client_->update(kube::resources::kConfigMaps, ns_, shardName(0), mine.dump());
  EXPECT_TRUE(put.is(ErrorKind::Conflict)) << (put.ok() ? "written" : put.error().describe());
  // A's record is still there.
  Replica b(*client_, options);
  b.sync();
  EXPECT_EQ(b.ledger->all(), a.ledger->all());
}

TEST_F(EvidenceStore, NothingNewWritesNothing) {
  Replica a(*client_, optionsFor(ns_));
  a.ledger->observedSince(kAt - 60);
  a.ledger->record(useBy("team-a", "web", kAt, "list", "configmaps", 200, "u-1"));
  a.ledger->record(useBy("team-b", "api", kAt + 1));
  a.sync();
  const std::uint64_t writes = a.store.writes();
  const auto versions = resourceVersions(*client_, ns_);
  ASSERT_EQ(versions.size(), 8U);

  // A sync with nothing new.
  a.sync();
  EXPECT_EQ(a.store.writes(), writes);
  EXPECT_EQ(resourceVersions(*client_, ns_), versions);

  // A replayed use (the webhook's retried batch, a log read again): no record changes.
  EXPECT_FALSE(a.ledger->record(useBy("team-a", "web", kAt, "list", "configmaps", 200, "u-1")));
  EXPECT_FALSE(
      a.ledger->record(useBy("team-a", "web", kAt - 30, "list", "configmaps", 200, "u-1")));
  a.sync();
  EXPECT_EQ(a.store.writes(), writes);
  EXPECT_EQ(resourceVersions(*client_, ns_), versions);

  // A replica that only reads (nothing recorded, observation starting later) writes nothing.
  Replica reader(*client_, optionsFor(ns_));
  reader.ledger->observedSince(kAt);
  reader.sync();
  reader.sync();
  EXPECT_EQ(reader.store.writes(), 0U);
  EXPECT_EQ(resourceVersions(*client_, ns_), versions);

  // One new use: one shard written, the others untouched.
  a.ledger->record(useBy("team-a", "web", kAt + 100, "list", "configmaps", 200, "u-1"));
  a.sync();
  EXPECT_EQ(a.store.writes(), writes + 1);
  const auto after = resourceVersions(*client_, ns_);
  int moved = 0;
  for (const auto& [name, version] : after) moved += version != versions.at(name) ? 1 : 0;
  EXPECT_EQ(moved, 1);
}

TEST_F(EvidenceStore, ReplayedBatchThroughTheIngestWritesNothing) {
  Replica a(*client_, optionsFor(ns_));
  Ingest ingest(*a.ledger, "webhook");
  const std::string batch =
      R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)"
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1",)"
      R"("stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-a/configmaps",)"
      R"("verb":"list","user":{"username":"system:serviceaccount:team-a:web",)"
      R"("groups":["system:serviceaccounts"],"extra":{)"
      R"("authentication.kubernetes.io/pod-name":["web-1"],)"
      R"("authentication.kubernetes.io/pod-uid":["u-1"],)"
      R"("authentication.kubernetes.io/credential-id":["JTI=x"]}},)"
      R"("objectRef":{"resource":"configmaps","namespace":"team-a","apiVersion":"v1"},)"
      R"("responseStatus":{"metadata":{},"code":200},)"
      R"("requestReceivedTimestamp":"2026-12-06T22:50:08.123456Z",)"
      R"("stageTimestamp":"2026-12-06T22:50:08.125001Z"}]})";
  std::string body = batch;
  ASSERT_EQ(ingest.batch(body).status, 200);
  a.sync();
  const std::uint64_t writes = a.store.writes();
  const auto versions = resourceVersions(*client_, ns_);

  body = batch;
  ASSERT_EQ(ingest.batch(body).status, 200);
  EXPECT_EQ(ingest.counts().accepted, 2U);
  a.sync();
  EXPECT_EQ(a.store.writes(), writes);
  EXPECT_EQ(resourceVersions(*client_, ns_), versions);

  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  ASSERT_TRUE(stored->accounts.contains("team-a/web"));
  const AccountUse& web = stored->accounts.at("team-a/web");
  EXPECT_EQ(web.lastUsed, kAt);
  EXPECT_EQ(web.pods, (std::vector<AccountUse::Pod>{{"u-1", "web-1", kAt}}));
  EXPECT_EQ(web.accesses, (std::vector<AccountUse::Access>{{"list", "configmaps", false, kAt}}));
}

TEST_F(EvidenceStore, ObservingSinceIsMinMergedIntoShardZero) {
  Replica a(*client_, optionsFor(ns_));
  Replica b(*client_, optionsFor(ns_));
  a.ledger->observedSince(kAt);
  b.ledger->observedSince(kAt - 3600);

  a.sync();
  EXPECT_EQ(getJson(*client_, ns_, shardName(0))["metadata"]["annotations"][kObservingSince],
            "2026-12-06T22:50:08Z");
  for (int i = 1; i < 8; ++i) {  // the period lives on shard 0 alone
    EXPECT_FALSE(getJson(*client_, ns_, shardName(i))["metadata"].contains("annotations"));
  }
  b.sync();  // earlier, and running alongside: the union, one write
  EXPECT_EQ(b.store.writes(), 1U);
  EXPECT_EQ(getJson(*client_, ns_, shardName(0))["metadata"]["annotations"][kObservingSince],
            "2026-12-06T21:50:08Z");
  a.sync();  // A learns the earlier start, and writes nothing
  EXPECT_EQ(a.ledger->observingSince(), kAt - 3600);
  EXPECT_EQ(a.ledger->evidenceOf("team-a", "web").observingSince, kAt - 3600);
  EXPECT_EQ(a.store.writes(), 8U);

  // A later start never moves it forward while observation runs.
  Replica c(*client_, optionsFor(ns_));
  c.ledger->observedSince(kAt + 3600);
  c.sync();
  EXPECT_EQ(c.store.writes(), 0U);
  EXPECT_EQ(c.ledger->observingSince(), kAt - 3600);
  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->observingSince, kAt - 3600);
}

TEST_F(EvidenceStore, NoObservationStartWritesNoAnnotation) {
  // A replica whose sources have not started yet creates the shards, but claims nothing
  // about when observation started (not 1970-01-01, which would read as "since forever").
  Replica a(*client_, optionsFor(ns_, 2));
  a.sync();
  for (int i = 0; i < 2; ++i) {
    const json cm = getJson(*client_, ns_, shardName(i));
    EXPECT_FALSE(cm["metadata"].value("annotations", json::object()).contains(kObservingSince))
        << cm.dump();
  }
  auto stored = readStore(*client_, ns_, kPrefix, 2);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->observingSince, 0);
}

// A wall clock the test moves (StoreOptions::wallClock).
struct TestWallClock {
  std::int64_t now = 0;
  StoreOptions with(StoreOptions options) {
    options.wallClock = [this] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(now));
    };
    return options;
  }
};

ObservationPeriod shardZeroPeriod(kube::Client& client, const std::string& ns) {
  return decodeShard(getJson(client, ns, shardName(0)).dump()).period();
}

TEST_F(EvidenceStore, AnObservedUntilFarInThePastResetsObservingSince) {
  // saguard observed for 33 days, then every replica was down for a week.
  const std::int64_t now = nowSeconds();
  constexpr std::int64_t kDay = 86400;
  TestWallClock then{.now = now - 7 * kDay};
  Replica old(*client_, then.with(optionsFor(ns_)));
  old.ledger->observedSince(now - 40 * kDay);
  old.ledger->record(useBy("team-a", "web", now - 8 * kDay));
  old.sync();
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{now - 40 * kDay, now - 7 * kDay}));

  // A replica starts now: the week nobody observed breaks the period.
  TestWallClock clock{.now = now};
  Replica fresh(*client_, clock.with(optionsFor(ns_)));
  fresh.ledger->observedSince(now);
  int earlier = 0;
  fresh.ledger->onObservingSinceEarlier = [&] { ++earlier; };
  fresh.sync();
  EXPECT_EQ(fresh.ledger->observingSince(), now);
  EXPECT_EQ(fresh.ledger->evidenceOf("team-b", "idle").observingSince, now);
  EXPECT_EQ(earlier, 0);
  EXPECT_EQ(fresh.store.writes(), 1U);  // shard 0's period, nothing else
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{now, now}));
  // What was recorded before the gap is kept: a use is a use.
  EXPECT_EQ(fresh.ledger->evidenceOf("team-a", "web").lastUsed, now - 8 * kDay);
  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->observingSince, now);
  EXPECT_EQ(stored->observedUntil, now);
  EXPECT_EQ(observingSinceAt(stored->period(), now, kGapToleranceSeconds), now);
  // The old period, read at its own time, was running; read now it is not.
  EXPECT_EQ(observingSinceAt({now - 40 * kDay, now - 7 * kDay}, now, kGapToleranceSeconds), 0);
}

TEST_F(EvidenceStore, ARecentObservedUntilKeepsObservingSince) {
  // The last heartbeat 10 minutes ago (a restart, a rolling update): no gap.
  const std::int64_t now = nowSeconds();
  constexpr std::int64_t kDay = 86400;
  TestWallClock then{.now = now - 600};
  Replica old(*client_, then.with(optionsFor(ns_)));
  old.ledger->observedSince(now - 40 * kDay);
  old.sync();

  TestWallClock clock{.now = now};
  Replica fresh(*client_, clock.with(optionsFor(ns_)));
  fresh.ledger->observedSince(now);
  int earlier = 0;
  fresh.ledger->onObservingSinceEarlier = [&] { ++earlier; };
  fresh.sync();
  EXPECT_EQ(fresh.ledger->observingSince(), now - 40 * kDay);
  EXPECT_EQ(earlier, 1);  // decisions may come sooner than this replica scheduled them
  EXPECT_EQ(fresh.store.writes(), 1U);  // the until moved by more than a heartbeat
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{now - 40 * kDay, now}));

  // 14 and 16 minutes either side of the tolerance, in another namespace each.
  for (const std::int64_t ago : {14 * 60, 16 * 60}) {
    SCOPED_TRACE(ago);
    const std::string ns = cp::freshNamespace("evidence-store");
    TestWallClock before{.now = now - ago};
    Replica a(*client_, before.with(optionsFor(ns, 1)));
    a.ledger->observedSince(now - 40 * kDay);
    a.sync();
    Replica b(*client_, clock.with(optionsFor(ns, 1)));
    b.ledger->observedSince(now);
    b.sync();
    EXPECT_EQ(b.ledger->observingSince(), ago <= kGapToleranceSeconds ? now - 40 * kDay : now);
  }
}

TEST_F(EvidenceStore, TheHeartbeatWritesShardZeroOncePerIntervalAcrossReplicas) {
  const std::int64_t start = nowSeconds();
  TestWallClock clock{.now = start};
  Replica a(*client_, clock.with(optionsFor(ns_)));
  Replica b(*client_, clock.with(optionsFor(ns_)));
  a.ledger->observedSince(start - 3600);
  b.ledger->observedSince(start);
  a.sync();
  b.sync();
  ASSERT_EQ(a.store.writes(), 8U);
  ASSERT_EQ(b.store.writes(), 0U);
  const auto versions = resourceVersions(*client_, ns_);

  // Syncs every 10 s for 299 s, both replicas: no write.
  for (int i = 1; i < 30; ++i) {
    clock.now = start + 10 * i;
    a.sync();
    b.sync();
  }
  clock.now = start + 299;
  a.sync();
  b.sync();
  EXPECT_EQ(resourceVersions(*client_, ns_), versions);
  EXPECT_EQ(a.store.writes() + b.store.writes(), 8U);

  // A heartbeat old: the first replica to sync writes shard 0, the other nothing.
  clock.now = start + 300;
  b.sync();
  a.sync();
  EXPECT_EQ(b.store.writes(), 1U);
  EXPECT_EQ(a.store.writes(), 8U);
  const auto after = resourceVersions(*client_, ns_);
  for (const auto& [name, version] : after) {
    EXPECT_EQ(version != versions.at(name), name == shardName(0)) << name;
  }
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{start - 3600, start + 300}));
  EXPECT_EQ(a.ledger->observingSince(), start - 3600);
  EXPECT_EQ(b.ledger->observingSince(), start - 3600);
}

TEST_F(EvidenceStore, AReplicaOutOfTouchLongerThanTheToleranceRestartsItsOwnPeriod) {
  const std::int64_t start = nowSeconds();
  TestWallClock clock{.now = start};
  Replica a(*client_, clock.with(optionsFor(ns_, 1)));
  a.ledger->observedSince(start - 3600);
  a.sync();
  // A cannot reach the store for 20 minutes (no round reads shard 0), nobody else writes.
  clock.now = start + 20 * 60;
  a.sync();
  EXPECT_EQ(a.ledger->observingSince(), start + 20 * 60);
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{start + 20 * 60, start + 20 * 60}));

  // The same, with another replica whose heartbeats bridged the time: no gap.
  const std::string ns = cp::freshNamespace("evidence-store");
  clock.now = start;
  Replica c(*client_, clock.with(optionsFor(ns, 1)));
  Replica d(*client_, clock.with(optionsFor(ns, 1)));
  c.ledger->observedSince(start - 3600);
  d.ledger->observedSince(start);
  c.sync();
  for (int minute = 1; minute <= 20; ++minute) {
    clock.now = start + 60 * minute;
    d.sync();
  }
  c.sync();
  EXPECT_EQ(c.ledger->observingSince(), start - 3600);
  EXPECT_EQ(shardZeroPeriod(*client_, ns), (ObservationPeriod{start - 3600, start + 20 * 60}));

  // A sync interval of 10 minutes raises the tolerance to a heartbeat and two syncs (25
  // minutes): syncs 20 minutes apart are no gap, 26 minutes are one.
  for (const std::int64_t apart : {20 * 60, 26 * 60}) {
    SCOPED_TRACE(apart);
    const std::string slow = cp::freshNamespace("evidence-store");
    clock.now = start;
    StoreOptions options = clock.with(optionsFor(slow, 1));
    options.interval = std::chrono::minutes(10);
    Replica e(*client_, options);
    e.ledger->observedSince(start - 3600);
    e.sync();
    clock.now = start + apart;
    e.sync();
    EXPECT_EQ(e.ledger->observingSince(), apart <= 25 * 60 ? start - 3600 : start + apart);
  }
}

TEST_F(EvidenceStore, AStoreWithoutObservedUntilIsTakenAsRunning) {
  // Written before observed-until existed: observing-since on every shard, no until.
  const std::int64_t now = nowSeconds();
  for (int i = 0; i < 2; ++i) {
    const json cm = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata",
                      {{"name", shardName(i)},
                       {"namespace", ns_},
                       {"labels", {{"app.kubernetes.io/managed-by", "saguard"}}},
                       {"annotations", {{kObservingSince, codec::formatRfc3339(kAt - 86400)}}}}},
                     {"data", {{"team-a.web", R"({"lastUsed":1796597408})"}}}};
    auto created = client_->create(kube::resources::kConfigMaps, ns_, cm.dump());
    ASSERT_TRUE(created.ok()) << created.error().describe();
  }
  auto legacy = readStore(*client_, ns_, kPrefix, 2);
  ASSERT_TRUE(legacy.ok()) << legacy.error().describe();
  EXPECT_EQ(legacy->period(), (ObservationPeriod{kAt - 86400, 0}));

  TestWallClock clock{.now = now};
  Replica a(*client_, clock.with(optionsFor(ns_, 2)));
  a.ledger->observedSince(now);
  a.sync();
  EXPECT_EQ(a.ledger->observingSince(), kAt - 86400);
  EXPECT_EQ(a.store.writes(), 1U);  // shard 0 gains its until
  EXPECT_EQ(shardZeroPeriod(*client_, ns_), (ObservationPeriod{kAt - 86400, now}));
  // Shard 1 keeps its old copy until it is next written, then loses it.
  EXPECT_EQ(getJson(*client_, ns_, shardName(1))["metadata"]["annotations"][kObservingSince],
            codec::formatRfc3339(kAt - 86400));
  for (int i = 0; i < 64; ++i) a.ledger->record(useBy("team-z", "sa-" + std::to_string(i), now));
  a.sync();
  EXPECT_FALSE(getJson(*client_, ns_, shardName(1))["metadata"].contains("annotations"));
  auto stored = readStore(*client_, ns_, kPrefix, 2);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->period(), (ObservationPeriod{kAt - 86400, now}));
}

TEST_F(EvidenceStore, ARestartedReplicaGetsEverythingBackInOneSync) {
  Replica a(*client_, optionsFor(ns_));
  a.ledger->observedSince(kAt - 86400);
  for (int i = 0; i < 20; ++i) {
    a.ledger->record(useBy("team-" + std::to_string(i % 3), "sa-" + std::to_string(i), kAt + i,
                           i % 4 == 0 ? "watch" : "get", "configmaps", i % 5 == 0 ? 403 : 200,
                           "u-" + std::to_string(i)));
  }
  a.sync();

  // The process restarts: a new ledger, a new store, the same namespace; its start is
  // observedSince(now), as `saguard run` sets it.
  Replica restarted(*client_, optionsFor(ns_));
  restarted.ledger->observedSince(nowSeconds());
  int newDays = 0;
  restarted.ledger->onNewUseDay = [&](const std::string&) { ++newDays; };
  restarted.sync();
  EXPECT_EQ(restarted.ledger->all(), a.ledger->all());
  EXPECT_EQ(restarted.ledger->accounts(), 20U);
  EXPECT_EQ(restarted.ledger->observingSince(), kAt - 86400);
  EXPECT_EQ(restarted.store.writes(), 0U);
  EXPECT_EQ(newDays, 20);  // each account's annotation may be behind: the reconciler looks
}

TEST_F(EvidenceStore, AFullShardDropsTheAccountsWithTheOldestUse) {
  StoreOptions options = optionsFor(ns_, 1);
  options.maxShardBytes = 2000;
  Replica a(*client_, options);
  constexpr int kAccounts = 30;
  for (int i = 0; i < kAccounts; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "sa-%02d", i);
    a.ledger->record(useBy("team-a", name, kAt + 60 * i));  // sa-29 is the newest
  }
  LogCapture logs;
  a.sync();

  const auto entries = dataEntries(*client_, ns_, 1);
  const int kept = static_cast<int>(entries.size());
  ASSERT_GT(kept, 0);
  ASSERT_LT(kept, kAccounts);
  std::size_t bytes = 0;
  for (const auto& [key, value] : entries) bytes += key.size() + value.size();
  EXPECT_LE(bytes, options.maxShardBytes);
  // Exactly the newest `kept` accounts.
  for (int i = 0; i < kAccounts; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "team-a.sa-%02d", i);
    EXPECT_EQ(entries.contains(key), i >= kAccounts - kept) << key;
  }
  const std::string log = logs.text();
  EXPECT_NE(log.find("is full"), std::string::npos) << log;
  EXPECT_NE(log.find("records of " + std::to_string(kAccounts - kept) + " accounts"),
            std::string::npos)
      << log;
  // This replica still knows them all; a restarted one knows what was kept.
  EXPECT_EQ(a.ledger->accounts(), static_cast<std::size_t>(kAccounts));
  Replica restarted(*client_, options);
  restarted.sync();
  EXPECT_EQ(restarted.ledger->accounts(), static_cast<std::size_t>(kept));
  EXPECT_EQ(restarted.store.writes(), 0U);
}

TEST_F(EvidenceStore, AFullShardKeepsNoRecordOlderThanOneItDropped) {
  // A big record (5 pods with long names, 10 accesses) between two small ones: it does not
  // fit after the newest, the oldest would. The oldest is dropped too: what a shard keeps is
  // the newest records, never an older one in the room a newer one left.
  StoreOptions options = optionsFor(ns_, 1);
  options.maxShardBytes = 600;
  Replica a(*client_, options);
  a.ledger->record(useBy("team-a", "sa-new", kAt + 100));
  for (int i = 0; i < 10; ++i) {
    const std::string uid = "uid-" + std::string(32, static_cast<char>('a' + i % 5));
    a.ledger->record(
        useBy("team-a", "sa-big", kAt + 50 - i, "get", "resource-" + std::to_string(i), 200, uid));
  }
  a.ledger->record(useBy("team-a", "sa-old", kAt));
  LogCapture logs;
  a.sync();

  const auto entries = dataEntries(*client_, ns_, 1);
  ASSERT_TRUE(entries.contains("team-a.sa-new"));
  EXPECT_FALSE(entries.contains("team-a.sa-big"));
  EXPECT_FALSE(entries.contains("team-a.sa-old"));
  EXPECT_EQ(entries.size(), 1U);
  // The premise: the old record is no bigger than the new one, and both fit together.
  const std::size_t small = entries.at("team-a.sa-new").size() + std::strlen("team-a.sa-new");
  ASSERT_LT(2 * (small + 8), options.maxShardBytes);
  EXPECT_NE(logs.text().find("records of 2 accounts"), std::string::npos) << logs.text();

  // Ties in last use are cut by name, so every replica keeps the same records.
  const std::string ns = cp::freshNamespace("evidence-store");
  StoreOptions tied = optionsFor(ns, 1);
  tied.maxShardBytes = 400;
  Replica b(*client_, tied);
  for (const char* name : {"sa-d", "sa-b", "sa-a", "sa-c", "sa-e"}) {
    b.ledger->record(useBy("team-a", name, kAt));
  }
  b.sync();
  const auto kept = dataEntries(*client_, ns, 1);
  ASSERT_GT(kept.size(), 0U);
  ASSERT_LT(kept.size(), 5U);
  std::size_t index = 0;
  for (const char* key : {"team-a.sa-a", "team-a.sa-b", "team-a.sa-c", "team-a.sa-d"}) {
    EXPECT_EQ(kept.contains(key), index++ < kept.size()) << key;
  }
}

TEST_F(EvidenceStore, AGarbageEntryIsSkippedAndTheOthersLoad) {
  auto options = optionsFor(ns_, 1);
  Replica a(*client_, options);
  a.ledger->record(useBy("team-a", "web", kAt));
  a.ledger->record(useBy("team-a", "api", kAt + 1));
  a.ledger->record(useBy("team-b", "batch", kAt + 2));
  a.sync();

  // Someone edits the ConfigMap by hand.
  const json edit = {{"data",
                      {{"team-a.web", "{not json"},
                       {"team-a.api", R"({"lastUsed":"yesterday"})"},
                       {"nodot", R"({"lastUsed":1})"}}}};
  auto patched = client_->patch(kube::resources::kConfigMaps, ns_, shardName(0),
                                kube::PatchType::Merge, edit.dump());
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  std::size_t skipped = 0;
  const Shard shard = decodeShard(*patched, &skipped);
  EXPECT_EQ(skipped, 3U);
  EXPECT_EQ(shard.accounts.size(), 1U);
  EXPECT_TRUE(shard.accounts.contains("team-b/batch"));

  LogCapture logs;
  Replica restarted(*client_, options);
  restarted.sync();
  EXPECT_EQ(restarted.ledger->accounts(), 1U);
  EXPECT_EQ(restarted.ledger->lookup("team-b", "batch"), a.ledger->lookup("team-b", "batch"));
  EXPECT_NE(logs.text().find("3 unreadable entries"), std::string::npos) << logs.text();
  auto stored = readStore(*client_, ns_, kPrefix, 1);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->accounts.size(), 1U);

  // The next use of the account rewrites its entry from the ledger.
  a.ledger->record(useBy("team-a", "web", kAt + 60));
  a.sync();
  std::size_t skippedAfter = 0;
  const Shard repaired = decodeShard(getJson(*client_, ns_, shardName(0)).dump(), &skippedAfter);
  EXPECT_EQ(skippedAfter, 0U);
  ASSERT_TRUE(repaired.accounts.contains("team-a/web"));
  EXPECT_EQ(repaired.accounts.at("team-a/web"), *a.ledger->lookup("team-a", "web"));
}

TEST_F(EvidenceStore, ReadStoreMergesTheShardsAndIsNotFoundWithoutThem) {
  auto none = readStore(*client_, ns_);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.is(ErrorKind::NotFound)) << none.error().describe();
  EXPECT_NE(none.error().message.find(ns_), std::string::npos) << none.error().message;

  Replica a(*client_, optionsFor(ns_));
  a.ledger->observedSince(kAt - 600);
  for (int i = 0; i < 16; ++i) {
    a.ledger->record(useBy("team-e", "sa-" + std::to_string(i), kAt + i, "get", "pods"));
  }
  a.sync();
  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->accounts, a.ledger->all());
  EXPECT_EQ(stored->observingSince, kAt - 600);
  // The accounts are spread over the shards.
  std::set<int> used;
  for (int i = 0; i < 8; ++i) {
    const json cm = getJson(*client_, ns_, shardName(i));
    if (!cm.value("data", json::object()).empty()) used.insert(i);
  }
  EXPECT_GT(used.size(), 1U);
}

TEST_F(EvidenceStore, ConfigMapsHaveTheDocumentedShape) {
  Replica a(*client_, optionsFor(ns_));
  a.ledger->observedSince(kAt - 8);
  a.ledger->record(useBy("team-a", "web", kAt, "list", "configmaps", 200, "u-1"));
  a.ledger->record(useBy("team-a", "web", kAt + 1, "get", "secrets", 403, "u-2"));
  a.ledger->record(useBy("team-a", "web.v2", kAt + 2));  // a dotted account name
  a.sync();

  int found = 0;
  for (int i = 0; i < 8; ++i) {
    const json cm = getJson(*client_, ns_, shardName(i));
    EXPECT_EQ(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "saguard");
    if (i == 0) {
      EXPECT_EQ(cm["metadata"]["annotations"][kObservingSince], "2026-12-06T22:50:00Z");
      const auto until = codec::parseRfc3339(
          cm["metadata"]["annotations"].value(kObservedUntil, std::string("missing")));
      ASSERT_TRUE(until.has_value()) << cm.dump();
      EXPECT_LE(std::abs(*until - nowSeconds()), 60);
    } else {
      EXPECT_FALSE(cm["metadata"].contains("annotations")) << cm.dump();
    }
    const json data = cm.value("data", json::object());
    for (const auto& [key, value] : data.items()) {
      SCOPED_TRACE(key);
      ASSERT_TRUE(value.is_string());
      EXPECT_TRUE(key == "team-a.web" || key == "team-a.web.v2");
      ++found;
      if (key != "team-a.web") continue;
      const json entry = json::parse(value.get<std::string>());
      std::set<std::string> fields;
      for (const auto& [field, v] : entry.items()) fields.insert(field);
      EXPECT_EQ(fields, (std::set<std::string>{"lastUsed", "lastRefused", "pods", "accesses"}));
      EXPECT_EQ(entry["lastUsed"], kAt + 1);
      EXPECT_EQ(entry["lastRefused"], kAt + 1);
      EXPECT_EQ(entry["pods"], json::parse(R"([["u-2","pod-u-2",1796597409],)"
                                           R"(["u-1","pod-u-1",1796597408]])"));
      EXPECT_EQ(entry["accesses"], json::parse(R"([["get","secrets",true,1796597409],)"
                                               R"(["list","configmaps",false,1796597408]])"));
    }
  }
  EXPECT_EQ(found, 2);
  auto stored = readStore(*client_, ns_);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_TRUE(stored->accounts.contains("team-a/web.v2"));  // split at the first dot
}

TEST_F(EvidenceStore, RunSyncsEveryIntervalAndOnceMoreWhenStopped) {
  StoreOptions options = optionsFor(ns_, 2);
  options.interval = std::chrono::milliseconds(100);
  Ledger ledger;
  Store store(*client_, ledger, options);
  ledger.record(useBy("team-a", "web", kAt));
  std::jthread runner([&](std::stop_token stop) { store.run(stop); });
  EXPECT_TRUE(cp::eventually(10'000, [&] {
    auto stored = readStore(*client_, ns_, kPrefix, 2);
    return stored.ok() && stored->accounts.contains("team-a/web");
  }));
  ledger.record(useBy("team-a", "last", kAt + 1));
  runner.request_stop();
  runner.join();
  auto stored = readStore(*client_, ns_, kPrefix, 2);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_TRUE(stored->accounts.contains("team-a/last"));
}

}  // namespace
}  // namespace saguard::evidence
