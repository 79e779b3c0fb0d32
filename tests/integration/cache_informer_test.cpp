// Informers against the real local control plane: they see what kubectl does, they
// survive a kube-apiserver restart (and catch up with changes made in etcd while it was
// down), and after etcd compacts the resourceVersion they would resume from they relist
// and report a delete made in the gap.
//
// The restart tests stop and start the shared kube-apiserver with
// tests/controlplane/apiserver.sh (same command line, same port; down.sh still stops it).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cache/informer_set.h"
#include "cache/kinds.h"
#include "integration/support/admin_client.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace saguard::cache {
namespace {

namespace cp = saguard::testing;
using cp::adminClient;
using namespace std::chrono_literals;

// Options for informers under test: a short backoff cap so that recovery after an
// outage does not wait for 30 s of backoff; watches in protobuf, as the controller's are
// (the JSON watch is what the policy informer and a server refusing protobuf get).
ReflectorOptions testOptions(const std::string& ns) {
  ReflectorOptions options;
  options.namespace_ = ns;
  options.backoff.max = 2s;
  options.protobuf = true;
  return options;
}

// Stops the control plane's kube-apiserver (SIGTERM, then SIGKILL) with
// tests/controlplane/apiserver.sh, which remembers its command line.
void stopApiServer() {
  auto stopped = cp::controlPlane().stopApiServer();
  EXPECT_EQ(stopped.exitCode, 0) << stopped.err;
}

// Starts the kube-apiserver again exactly as it was (same flags, same port); down.sh
// still stops it. Returns once it is ready.
void startApiServer() {
  auto started = cp::controlPlane().startApiServer();
  ASSERT_EQ(started.exitCode, 0) << "kube-apiserver not ready after restart; see "
                                 << cp::controlPlane().dir << "/apiserver.log\n"
                                 << started.err;
}

// ---- etcd through its JSON gateway (keys and values are base64) ----

std::string base64(const std::string& in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string etcd(const std::string& path, const std::string& body) {
  auto r = cp::run("curl -sf -X POST " + cp::controlPlane().etcdUrl + path + " -d " +
                   cp::shellQuote(body));
  EXPECT_EQ(r.exitCode, 0) << path << ": " << r.err;
  return r.out;
}

// The API server reads JSON as well as protobuf from etcd, so objects can be written
// and deleted there while it is down.
void etcdPutServiceAccount(const std::string& ns, const std::string& name, const std::string& uid,
                           const std::string& labelsJson = "{}") {
  const std::string object = R"({"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":")" +
                             name + R"(","namespace":")" + ns + R"(","uid":")" + uid +
                             R"(","creationTimestamp":"2025-01-01T00:00:00Z","labels":)" +
                             labelsJson + "}}";
  etcd("/v3/kv/put", R"({"key":")" + base64("/registry/serviceaccounts/" + ns + "/" + name) +
                         R"(","value":")" + base64(object) + R"("})");
}

void etcdDeleteServiceAccount(const std::string& ns, const std::string& name) {
  etcd("/v3/kv/deleterange",
       R"({"key":")" + base64("/registry/serviceaccounts/" + ns + "/" + name) + R"("})");
}

// ---- handler calls ----

class Calls {
 public:
  template <typename R>
  Handlers<R> handlers() {
    return {
        .onAdd = [this](const R& r) { push("add " + keyOf(r)); },
        .onUpdate = [this](const R&, const R& r) { push("update " + keyOf(r)); },
        .onDelete = [this](const R& r) { push("delete " + keyOf(r)); },
    };
  }
  bool saw(const std::string& call) const {
    std::lock_guard lock(mu_);
    return std::find(calls_.begin(), calls_.end(), call) != calls_.end();
  }
  std::size_t count(const std::string& call) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count(calls_.begin(), calls_.end(), call));
  }
  std::string all() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& c : calls_) out += c + "; ";
    return out;
  }

 private:
  void push(std::string call) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(call));
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

bool hasLabel(const objects::ServiceAccount& account, std::string_view key,
              std::string_view value) {
  for (const auto& [k, v] : account.labels) {
    if (k.view() == key && v.view() == value) return true;
  }
  return false;
}

TEST(CacheInformerIntegration, SeesAccountsCreatedUpdatedAndDeleted) {
  const std::string ns = cp::freshNamespace("cache-crud");
  auto client = adminClient();
  ASSERT_NE(client, nullptr);
  auto informer = makeServiceAccountInformer(*client, testOptions(ns));
  ASSERT_TRUE(informer.ok()) << informer.error().describe();
  auto& accounts = **informer;
  Calls calls;
  accounts.addHandlers(calls.handlers<objects::ServiceAccount>());
  accounts.start();
  ASSERT_TRUE(accounts.waitForSync(std::chrono::steady_clock::now() + 60s, {}));

  EXPECT_TRUE(cp::eventually(30'000, [&] { return calls.saw("add " + ns + "/default"); }))
      << calls.all();
  ASSERT_EQ(cp::kubectl("create serviceaccount alpha -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] { return calls.saw("add " + ns + "/alpha"); }))
      << calls.all();

  ASSERT_EQ(cp::kubectl("label serviceaccount alpha team=payments -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] {
    auto alpha = accounts.store().get(ns, "alpha");
    return alpha && hasLabel(*alpha, "team", "payments");
  }));
  // The store has it before the handler runs: wait for the handler too (TSan is slow).
  EXPECT_TRUE(cp::eventually(5'000, [&] { return calls.saw("update " + ns + "/alpha"); }))
      << calls.all();
  ASSERT_EQ(cp::kubectl("patch serviceaccount alpha -n " + ns +
                        R"( --type=merge -p '{"automountServiceAccountToken":false}')")
                .exitCode,
            0);
  EXPECT_TRUE(cp::eventually(30'000, [&] {
    auto alpha = accounts.store().get(ns, "alpha");
    return alpha && alpha->automount == objects::Tristate::False;
  }));

  ASSERT_EQ(cp::kubectl("delete serviceaccount alpha -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] { return calls.saw("delete " + ns + "/alpha"); }))
      << calls.all();
  EXPECT_EQ(accounts.store().get(ns, "alpha"), nullptr);
  auto inNs = accounts.store().byIndex(kAccountsByNamespace, ns);
  ASSERT_TRUE(inNs.ok());
  EXPECT_EQ(inNs->size(), 1u) << "only default is left";
  EXPECT_EQ(accounts.stats().failures, 0u);
  accounts.stop();
}

// Streaming list (KEP-3157, served by 1.34 by default): the informer syncs from a watch
// with sendInitialEvents=true, and the API server answers no LIST at all.
TEST(CacheInformerIntegration, SyncsByStreamingListWithoutAList) {
  const std::string ns = cp::freshNamespace("cache-stream");
  std::string manifest;
  for (int i = 0; i < 30; ++i) {
    manifest += "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-" +
                std::to_string(i) + "\n  namespace: " + ns + "\n";
  }
  ASSERT_EQ(cp::kubectl("create -f -", manifest).exitCode, 0);
  ASSERT_TRUE(cp::eventually(
      30'000, [&] { return cp::kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  auto client = adminClient();
  ASSERT_NE(client, nullptr);
  ReflectorOptions options = testOptions(ns);
  options.streamingList = true;
  auto informer = makeServiceAccountInformer(*client, options);
  ASSERT_TRUE(informer.ok()) << informer.error().describe();
  auto& accounts = **informer;
  const long listsBefore = cp::apiRequestTotal("LIST", "serviceaccounts");
  accounts.start();
  ASSERT_TRUE(accounts.waitForSync(std::chrono::steady_clock::now() + 60s, {}));
  auto inNs = accounts.store().byIndex(kAccountsByNamespace, ns);
  ASSERT_TRUE(inNs.ok());
  EXPECT_EQ(inNs->size(), 31u);  // sa-0..29 and default
  // The reflector counts the listing just after handing it to the store.
  EXPECT_TRUE(cp::eventually(5'000, [&] { return accounts.stats().lists == 1u; }));
  EXPECT_EQ(accounts.stats().failures, 0u);
  // (A watch is counted in apiserver_request_total only when it ends, so only the LISTs
  // are compared: the 31 accounts came without one.)
  EXPECT_EQ(cp::apiRequestTotal("LIST", "serviceaccounts") - listsBefore, 0);
  // The same stream goes on as the watch.
  ASSERT_EQ(cp::kubectl("create serviceaccount late -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] { return accounts.store().get(ns, "late") != nullptr; }));
  EXPECT_EQ(accounts.stats().watches, 1u);
  accounts.stop();
}

// The controller's way: a streaming list and its watch in protobuf frames, no JSON line
// decoded at all; a Decoding that counts what it decodes shows which path ran.
TEST(CacheInformerIntegration, StreamsAndWatchesInProtobuf) {
  const std::string ns = cp::freshNamespace("cache-proto");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(cp::kubectl("create serviceaccount sa-" + std::to_string(i) + " -n " + ns).exitCode,
              0);
  }
  auto client = adminClient();
  auto decoding = codecDecoding<codec::Kind::ServiceAccount>();
  auto frames = std::make_shared<std::atomic<int>>(0);
  auto lines = std::make_shared<std::atomic<int>>(0);
  decoding.protobufEvent = [frames, inner = decoding.protobufEvent](std::string_view frame) {
    ++*frames;
    return inner(frame);
  };
  decoding.event = [lines, inner = decoding.event](codec::PaddedView line) {
    ++*lines;
    return inner(line);
  };
  ReflectorOptions options = testOptions(ns);
  options.resource = kube::resources::kServiceAccounts;
  options.streamingList = true;
  auto informer = Informer<objects::ServiceAccount>::create(*client, std::move(decoding),
                                                            {.reflector = options, .indexers = {}});
  ASSERT_TRUE(informer.ok()) << informer.error().describe();
  auto& accounts = **informer;
  accounts.start();
  ASSERT_TRUE(accounts.waitForSync(std::chrono::steady_clock::now() + 60s, {}));
  EXPECT_GE(accounts.store().list().size(), 20u);
  ASSERT_EQ(cp::kubectl("label serviceaccount sa-3 -n " + ns + " tier=web").exitCode, 0);
  ASSERT_EQ(cp::kubectl("delete serviceaccount sa-4 -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] {
    auto sa3 = accounts.store().get(ns, "sa-3");
    return sa3 != nullptr && !sa3->labels.empty() && accounts.store().get(ns, "sa-4") == nullptr;
  }));
  EXPECT_GE(frames->load(), 22);  // 20+ ADDED, the end bookmark, the update, the delete
  EXPECT_EQ(lines->load(), 0);
  EXPECT_EQ(accounts.stats().skipped, 0u);
  EXPECT_EQ(accounts.stats().failures, 0u);
  accounts.stop();
}

TEST(CacheInformerIntegration, PodsAndBindingsAreIndexed) {
  const std::string ns = cp::freshNamespace("cache-index");
  auto client = adminClient();
  ASSERT_NE(client, nullptr);
  InformerSet set;
  auto& pods = set.add(makePodInformer(*client, testOptions(ns)).value());
  auto& bindings = set.add(makeRoleBindingInformer(*client, testOptions(ns)).value());
  set.start();
  ASSERT_TRUE(set.waitForCacheSync(60s));

  ASSERT_TRUE(cp::eventually(
      30'000, [&] { return cp::kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  ASSERT_EQ(cp::kubectl("create serviceaccount builder -n " + ns).exitCode, 0);
  auto created = cp::kubectl(
      "create -f -", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: build-1\n  namespace: " + ns +
                         "\nspec:\n  serviceAccountName: builder\n  containers:\n  - name: app\n"
                         "    image: registry.k8s.io/pause:3.10\n");
  ASSERT_EQ(created.exitCode, 0) << created.err;
  ASSERT_EQ(cp::kubectl("create rolebinding builder-view --clusterrole=view --serviceaccount=" +
                        ns + ":builder --group=system:serviceaccounts:" + ns + " -n " + ns)
                .exitCode,
            0);

  EXPECT_TRUE(cp::eventually(30'000, [&] {
    auto found = pods.store().byIndex(kPodsByAccount, accountKey(ns, "builder"));
    return found.ok() && found->size() == 1;
  }));
  auto pod = pods.store().get(ns, "build-1");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->token, objects::TokenVolume::Projected)
      << "the admission plugin added kube-api-access";
  EXPECT_GT(pod->creationTimestamp, 0);

  EXPECT_TRUE(cp::eventually(30'000, [&] {
    auto found = bindings.store().byIndex(kBindingsByAccount, accountKey(ns, "builder"));
    return found.ok() && found->size() == 1;
  }));
  auto byGroup = bindings.store().byIndex(kBindingsByGroup, "system:serviceaccounts:" + ns);
  ASSERT_TRUE(byGroup.ok());
  ASSERT_EQ(byGroup->size(), 1u);
  EXPECT_EQ((*byGroup)[0]->roleRef.name.view(), "view");

  ASSERT_EQ(cp::kubectl("delete pod build-1 --grace-period=0 --force -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(30'000, [&] { return pods.store().get(ns, "build-1") == nullptr; }));
  EXPECT_TRUE(pods.store().byIndex(kPodsByAccount, accountKey(ns, "builder"))->empty());
  set.stop();
}

TEST(CacheInformerIntegration, RecoversFromAnApiServerRestartAndCatchesUp) {
  const std::string ns = cp::freshNamespace("cache-restart");
  auto client = adminClient();
  ASSERT_NE(client, nullptr);
  auto informer = makeServiceAccountInformer(*client, testOptions(ns));
  ASSERT_TRUE(informer.ok());
  auto& accounts = **informer;
  Calls calls;
  accounts.addHandlers(calls.handlers<objects::ServiceAccount>());
  for (const char* name : {"keep", "doomed", "changed"}) {
    ASSERT_EQ(cp::kubectl(std::string("create serviceaccount ") + name + " -n " + ns).exitCode, 0);
  }
  accounts.start();
  ASSERT_TRUE(accounts.waitForSync(std::chrono::steady_clock::now() + 60s, {}));
  ASSERT_TRUE(cp::eventually(30'000, [&] { return accounts.store().size() >= 3; }));
  auto changed = accounts.store().get(ns, "changed");
  ASSERT_NE(changed, nullptr);
  const auto failuresBefore = accounts.stats().failures;

  stopApiServer();
  // The informer notices: its watch breaks and reconnecting fails.
  EXPECT_TRUE(cp::eventually(60'000, [&] { return accounts.stats().failures > failuresBefore; }));

  // Changes while the API server is down, straight in etcd.
  etcdDeleteServiceAccount(ns, "doomed");
  etcdPutServiceAccount(ns, "born", "00000000-0000-4000-8000-00000000b0b0");
  etcdPutServiceAccount(ns, "changed", std::string(changed->meta.uid()), R"({"edited":"offline"})");

  startApiServer();
  EXPECT_TRUE(cp::eventually(90'000, [&] {
    return calls.saw("delete " + ns + "/doomed") && calls.saw("add " + ns + "/born") &&
           calls.saw("update " + ns + "/changed");
  })) << calls.all();
  auto after = accounts.store().get(ns, "changed");
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(hasLabel(*after, "edited", "offline"));
  EXPECT_NE(accounts.store().get(ns, "keep"), nullptr);
  EXPECT_EQ(calls.count("delete " + ns + "/keep"), 0u);

  // And the same informer keeps watching: a change made now is seen too.
  ASSERT_EQ(cp::kubectl("create serviceaccount after-restart -n " + ns).exitCode, 0);
  EXPECT_TRUE(cp::eventually(60'000, [&] { return calls.saw("add " + ns + "/after-restart"); }))
      << calls.all();
  accounts.stop();
}

TEST(CacheInformerIntegration, RelistsAfterCompactionWithoutMissingADelete) {
  const std::string ns = cp::freshNamespace("cache-compact");
  auto client = adminClient();
  ASSERT_NE(client, nullptr);
  auto informer = makeServiceAccountInformer(*client, testOptions(ns));
  ASSERT_TRUE(informer.ok());
  auto& accounts = **informer;
  Calls calls;
  accounts.addHandlers(calls.handlers<objects::ServiceAccount>());
  for (const char* name : {"stays", "removed-in-gap", "edited-in-gap"}) {
    ASSERT_EQ(cp::kubectl(std::string("create serviceaccount ") + name + " -n " + ns).exitCode, 0);
  }
  accounts.start();
  ASSERT_TRUE(accounts.waitForSync(std::chrono::steady_clock::now() + 60s, {}));
  ASSERT_TRUE(
      cp::eventually(30'000, [&] { return accounts.store().get(ns, "edited-in-gap") != nullptr; }));

  // Stop the informer: it keeps its store and the resourceVersion it would resume from.
  accounts.stop();
  const std::string oldVersion = accounts.lastResourceVersion();
  ASSERT_FALSE(oldVersion.empty());

  ASSERT_EQ(cp::kubectl("delete serviceaccount removed-in-gap -n " + ns).exitCode, 0);
  ASSERT_EQ(cp::kubectl("label serviceaccount edited-in-gap phase=gap -n " + ns).exitCode, 0);
  ASSERT_EQ(cp::kubectl("create serviceaccount created-in-gap -n " + ns).exitCode, 0);

  const std::int64_t revision =
      cp::controlPlane().etcdRevision();  // throws if etcd does not answer
  ASSERT_GT(revision, std::stoll(oldVersion));
  cp::controlPlane().compactEtcd(revision);
  // The API server's watch cache would still serve the old version from memory; a
  // restart drops it, so that only etcd's (compacted) history is left, as when a
  // long-disconnected client comes back to a busy cluster.
  stopApiServer();
  startApiServer();

  const auto before = accounts.stats();
  accounts.start();  // resumes the watch from oldVersion: Gone, so it relists and diffs
  EXPECT_TRUE(cp::eventually(90'000, [&] {
    return calls.saw("delete " + ns + "/removed-in-gap") &&
           calls.saw("update " + ns + "/edited-in-gap") &&
           calls.saw("add " + ns + "/created-in-gap");
  })) << calls.all();
  const auto after = accounts.stats();
  EXPECT_GT(after.watches, before.watches);
  EXPECT_EQ(calls.count("delete " + ns + "/stays"), 0u);
  EXPECT_EQ(calls.count("update " + ns + "/stays"), 0u) << "an unchanged object yields nothing";
  EXPECT_EQ(accounts.store().get(ns, "removed-in-gap"), nullptr);
  ASSERT_NE(accounts.store().get(ns, "edited-in-gap"), nullptr);
  EXPECT_TRUE(hasLabel(*accounts.store().get(ns, "edited-in-gap"), "phase", "gap"));
  accounts.stop();
  // Now the relist. Sometimes (under load; in about one CI run of ten) the restarted API
  // server serves the resumed watch from the compacted version without the 410 this test
  // sets up, and the gap's changes come as watch events instead: nothing above was missed,
  // but the relist path was not exercised, and saying "passed" would claim it was.
  if (after.relists == before.relists) {
    GTEST_SKIP() << "the restarted API server resumed the watch from " << oldVersion
                 << " without a 410: every change of the gap was seen, the relist was not tested";
  }
  EXPECT_EQ(after.relists, before.relists + 1) << "exactly one relist, caused by Gone";
}

}  // namespace
}  // namespace saguard::cache
