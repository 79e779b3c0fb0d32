// The REST client against the real local control plane: CRUD, paging (and its
// fallback when a continue token expires after an etcd compaction), watches (event
// order, Gone from a compacted resourceVersion, stopping, server-side timeout), every
// patch type, typed errors (Conflict, AlreadyExists, Unauthorized, Forbidden, TLS), and
// credentials: an admin client certificate, a minted ServiceAccount token, an
// in-cluster configuration read from files, and a token file rotated under a running
// client.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/config.h"
#include "kube/discovery.h"
#include "kube/rest_client.h"
#include "unit/support/test_pki.h"

namespace saguard::kube {
namespace {

using nlohmann::json;
using saguard::testing::controlPlane;
using saguard::testing::eventually;
using saguard::testing::freshNamespace;
using saguard::testing::kubectl;
using saguard::testing::readFile;

const Resource kSelfSubjectReviews{"authentication.k8s.io", "v1", "selfsubjectreviews", false};

RestConfig adminConfig() {
  auto config = loadKubeconfig(controlPlane().kubeconfig);
  if (!config) throw std::runtime_error(config.error().describe());
  return *config;
}

std::unique_ptr<Client> clientFor(const RestConfig& config, ClientOptions options = {}) {
  auto client = makeRestClient(config, std::move(options));
  if (!client) throw std::runtime_error(client.error().describe());
  return std::move(*client);
}

json parse(const Result<std::string>& body) {
  if (!body) throw std::runtime_error(body.error().describe());
  return json::parse(*body);
}

// A bearer-token identity: the control plane's server and CA, and `token`.
RestConfig tokenConfig(const std::string& token) {
  RestConfig config;
  config.server = controlPlane().apiServerUrl;
  config.caPem = readFile(controlPlane().caFile);
  config.token = token;
  config.source = "test token";
  return config;
}

std::string mintToken(Client& admin, const std::string& ns, const std::string& sa) {
  json request = {{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenRequest"},
                  {"spec", {{"expirationSeconds", 3600}}}};
  json answer =
      parse(admin.createSubresource(resources::kServiceAccounts, ns, sa, "token", request.dump()));
  return answer["status"]["token"].get<std::string>();
}

std::string whoAmI(Client& client) {
  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  json answer = parse(client.create(kSelfSubjectReviews, "", review.dump()));
  return answer["status"]["userInfo"]["username"].get<std::string>();
}

// Compacts etcd up to its current revision: older resourceVersions and continue tokens expire.
void compactEtcd() {
  controlPlane().compactEtcd(controlPlane().etcdRevision());
}

json configMap(const std::string& name, const std::map<std::string, std::string>& data,
               const std::map<std::string, std::string>& labels = {}) {
  json cm = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  return cm;
}

// Frames watch chunks into lines the simple way (the real framer lives in codec/) and
// keeps the decoded events. An ERROR event ends the watch with its Status as an Error.
class EventCollector {
 public:
  Status feed(std::string_view chunk) {
    pending_.append(chunk);
    std::size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      json event = json::parse(pending_.substr(0, newline));
      pending_.erase(0, newline + 1);
      if (event["type"] == "ERROR") return errorFromStatus(event["object"].dump());
      std::lock_guard lock(mu_);
      events_.push_back(std::move(event));
    }
    return {};
  }
  std::vector<json> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::string pending_;
  mutable std::mutex mu_;
  std::vector<json> events_;
};

const Resource kEvents{"", "v1", "events", true};

class KubeClient : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = clientFor(adminConfig());
    ns_ = freshNamespace("kube");
  }
  json createEvent(const std::string& name) {
    json e = {{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", name}}},
              {"involvedObject", {{"kind", "Namespace"}, {"name", ns_}, {"namespace", ns_}}},
              {"reason", "Test"},
              {"message", "m"},
              {"type", "Normal"}};
    return parse(admin_->create(kEvents, ns_, e.dump()));
  }
  std::unique_ptr<Client> admin_;
  std::string ns_;
};

// Discovery answers for a whole group version with one GET; a group the API server does
// not serve is an empty set, not an error.
TEST_F(KubeClient, DiscoveryNamesServedResources) {
  auto core = servedResources(*admin_, "", "v1");
  ASSERT_TRUE(core.ok()) << core.error().describe();
  EXPECT_TRUE(core->contains("pods"));
  EXPECT_TRUE(core->contains("serviceaccounts"));
  EXPECT_FALSE(core->contains("pods/status"));
  auto rbac = servedResources(*admin_, "rbac.authorization.k8s.io", "v1");
  ASSERT_TRUE(rbac.ok()) << rbac.error().describe();
  EXPECT_TRUE(rbac->contains("clusterrolebindings"));
  auto none = servedResources(*admin_, "nothing.saguard.io", "v1");
  ASSERT_TRUE(none.ok()) << none.error().describe();
  EXPECT_TRUE(none->empty());
}

TEST_F(KubeClient, ServiceAccountCreateGetUpdateDelete) {
  json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "robot"}}}};
  json created = parse(admin_->create(resources::kServiceAccounts, ns_, sa.dump()));
  EXPECT_EQ(created["metadata"]["namespace"], ns_);

  auto again = admin_->create(resources::kServiceAccounts, ns_, sa.dump());
  ASSERT_TRUE(again.is(ErrorKind::AlreadyExists)) << (again ? *again : again.error().describe());

  json got = parse(admin_->get(resources::kServiceAccounts, ns_, "robot"));
  EXPECT_EQ(got["metadata"]["uid"], created["metadata"]["uid"]);
  got["metadata"]["labels"] = {{"team", "blue"}};
  json updated = parse(admin_->update(resources::kServiceAccounts, ns_, "robot", got.dump()));
  EXPECT_EQ(updated["metadata"]["labels"]["team"], "blue");
  EXPECT_NE(updated["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"]);

  ASSERT_TRUE(admin_->remove(resources::kServiceAccounts, ns_, "robot").ok());
  auto gone = admin_->get(resources::kServiceAccounts, ns_, "robot");
  ASSERT_TRUE(gone.is(ErrorKind::NotFound));
  EXPECT_EQ(gone.error().httpCode, 404);
  EXPECT_NE(gone.error().message.find("robot"), std::string::npos);
  EXPECT_TRUE(admin_->remove(resources::kServiceAccounts, ns_, "robot").is(ErrorKind::NotFound));
}

TEST_F(KubeClient, ConfigMapCreateGetUpdateDelete) {
  ASSERT_TRUE(
      admin_->create(resources::kConfigMaps, ns_, configMap("settings", {{"a", "1"}}).dump()).ok());
  json got = parse(admin_->get(resources::kConfigMaps, ns_, "settings"));
  EXPECT_EQ(got["data"]["a"], "1");
  got["data"]["b"] = "2";
  ASSERT_TRUE(admin_->update(resources::kConfigMaps, ns_, "settings", got.dump()).ok());
  json again = parse(admin_->get(resources::kConfigMaps, ns_, "settings"));
  EXPECT_EQ(again["data"], json({{"a", "1"}, {"b", "2"}}));
  // A precondition on a stale resourceVersion refuses the delete.
  auto stale = admin_->remove(resources::kConfigMaps, ns_, "settings",
                              {.preconditionResourceVersion = got["metadata"]["resourceVersion"]});
  EXPECT_TRUE(stale.is(ErrorKind::Conflict)) << (stale ? *stale : stale.error().describe());
  ASSERT_TRUE(admin_
                  ->remove(resources::kConfigMaps, ns_, "settings",
                           {.preconditionResourceVersion = again["metadata"]["resourceVersion"]})
                  .ok());
  EXPECT_TRUE(admin_->get(resources::kConfigMaps, ns_, "settings").is(ErrorKind::NotFound));
}

TEST_F(KubeClient, StaleUpdateIsConflict) {
  ASSERT_TRUE(
      admin_->create(resources::kConfigMaps, ns_, configMap("c", {{"v", "0"}}).dump()).ok());
  json original = parse(admin_->get(resources::kConfigMaps, ns_, "c"));
  json first = original;
  first["data"]["v"] = "1";
  ASSERT_TRUE(admin_->update(resources::kConfigMaps, ns_, "c", first.dump()).ok());
  json second = original;  // still carries the old resourceVersion
  second["data"]["v"] = "2";
  auto conflict = admin_->update(resources::kConfigMaps, ns_, "c", second.dump());
  ASSERT_TRUE(conflict.is(ErrorKind::Conflict))
      << (conflict ? *conflict : conflict.error().describe());
  EXPECT_EQ(conflict.error().httpCode, 409);
  EXPECT_NE(conflict.error().message.find("modified"), std::string::npos)
      << conflict.error().message;
}

TEST_F(KubeClient, InvalidObjectCarriesCauses) {
  auto r = admin_->create(resources::kConfigMaps, ns_, configMap("Not_A_Name", {}).dump());
  ASSERT_TRUE(r.is(ErrorKind::Invalid)) << (r ? *r : r.error().describe());
  ASSERT_FALSE(r.error().causes.empty());
  EXPECT_EQ(r.error().causes[0].field, "metadata.name");
}

TEST_F(KubeClient, ListPagesWithLimitTwoOverFiveObjects) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(admin_
                    ->create(resources::kConfigMaps, ns_,
                             configMap("page-" + std::to_string(i), {}, {{"set", "paging"}}).dump())
                    .ok());
  }
  std::vector<std::string> names;
  std::vector<int> sizes;
  Status st = listPages(*admin_, resources::kConfigMaps, ns_,
                        {.labelSelector = "set=paging", .limit = 2}, [&](const Page& page) {
                          json list = json::parse(page.body);
                          sizes.push_back(static_cast<int>(list["items"].size()));
                          for (const auto& item : list["items"])
                            names.push_back(item["metadata"]["name"]);
                          EXPECT_EQ(page.meta.continueToken.empty(), page.index == 2);
                          return Status();
                        });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(sizes, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(names, (std::vector<std::string>{"page-0", "page-1", "page-2", "page-3", "page-4"}));
}

TEST_F(KubeClient, ExpiredContinueTokenFallsBackToFullList) {
  // Events skip the API server's watch cache, so continue tokens are served by etcd and
  // expire with a compaction (cached kinds serve them from cache snapshots).
  for (int i = 0; i < 5; ++i) createEvent("e" + std::to_string(i));
  std::vector<std::string> kept;
  std::vector<int> indexes;
  Status st = listPages(*admin_, kEvents, ns_, {.limit = 2}, [&](const Page& page) {
    indexes.push_back(page.index);
    if (page.index == 0) kept.clear();
    json list = json::parse(page.body);
    for (const auto& item : list["items"]) kept.push_back(item["metadata"]["name"]);
    if (indexes.size() == 1) {
      // Move etcd past the page's revision and compact: the token expires.
      createEvent("bump");
      compactEtcd();
    }
    return Status();
  });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(indexes, (std::vector<int>{0, 0}));  // the full list restarted the listing
  EXPECT_EQ(kept, (std::vector<std::string>{"bump", "e0", "e1", "e2", "e3", "e4"}));
}

TEST_F(KubeClient, WatchSeesAddedModifiedDeletedInOrder) {
  json list = parse(admin_->list(resources::kConfigMaps, ns_));
  std::string rv = list["metadata"]["resourceVersion"];
  EventCollector collector;
  std::stop_source stop;
  auto watching = std::async(std::launch::async, [&] {
    return admin_->watch(
        resources::kConfigMaps, ns_, {.fieldSelector = "metadata.name=w", .resourceVersion = rv},
        [&](std::string_view chunk) { return collector.feed(chunk); }, stop.get_token());
  });
  ASSERT_TRUE(
      admin_->create(resources::kConfigMaps, ns_, configMap("w", {{"x", "1"}}).dump()).ok());
  ASSERT_TRUE(
      admin_->patch(resources::kConfigMaps, ns_, "w", PatchType::Merge, R"({"data":{"x":"2"}})")
          .ok());
  ASSERT_TRUE(admin_->remove(resources::kConfigMaps, ns_, "w").ok());
  ASSERT_TRUE(eventually(20000, [&] { return collector.events().size() >= 3; }));

  stop.request_stop();
  ASSERT_EQ(watching.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "stop did not end the watch";
  Status st = watching.get();
  EXPECT_TRUE(st.ok()) << st.error().describe();
  auto events = collector.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[1]["type"], "MODIFIED");
  EXPECT_EQ(events[1]["object"]["data"]["x"], "2");
  EXPECT_EQ(events[2]["type"], "DELETED");
}

TEST_F(KubeClient, WatchEndsWhenTheServerTimesOut) {
  EventCollector collector;
  Status st = admin_->watch(resources::kConfigMaps, ns_, {.timeoutSeconds = 1},
                            [&](std::string_view chunk) { return collector.feed(chunk); });
  EXPECT_TRUE(st.ok()) << st.error().describe();
}

TEST_F(KubeClient, WatchFromCompactedResourceVersionIsGone) {
  // Events skip the API server's watch cache, so a watch from an old resourceVersion
  // reaches etcd and meets the compaction (cached kinds answer from their cache window).
  std::string oldRv = createEvent("first")["metadata"]["resourceVersion"];
  createEvent("second");
  createEvent("third");  // the compaction revision is now past oldRv + 1, where the watch starts
  compactEtcd();
  EventCollector collector;
  Status st = admin_->watch(kEvents, ns_, {.resourceVersion = oldRv, .timeoutSeconds = 30},
                            [&](std::string_view chunk) { return collector.feed(chunk); });
  ASSERT_TRUE(st.is(ErrorKind::Gone)) << (st ? "ok" : st.error().describe());
  EXPECT_EQ(st.error().httpCode, 410);
  EXPECT_TRUE(collector.events().empty());
}

TEST_F(KubeClient, MergePatchTouchesOnlyThePatchedField) {
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata",
              {{"name", "patched"},
               {"labels", {{"a", "1"}, {"b", "2"}}},
               {"annotations", {{"note", "keep me"}}}}},
             {"imagePullSecrets", {{{"name", "registry"}}}},
             {"secrets", {{{"name", "s1"}}}}};
  ASSERT_TRUE(admin_->create(resources::kServiceAccounts, ns_, sa.dump()).ok());
  json before = parse(admin_->get(resources::kServiceAccounts, ns_, "patched"));
  json after = parse(admin_->patch(resources::kServiceAccounts, ns_, "patched", PatchType::Merge,
                                   R"({"automountServiceAccountToken":false})"));
  EXPECT_EQ(after["automountServiceAccountToken"], false);
  EXPECT_FALSE(before.contains("automountServiceAccountToken"));
  // Everything else is byte-identical, but for what the server itself bumps.
  for (json* doc : {&before, &after}) {
    doc->erase("automountServiceAccountToken");
    (*doc)["metadata"].erase("resourceVersion");
    (*doc)["metadata"].erase("managedFields");
  }
  EXPECT_EQ(before.dump(), after.dump());
  json fresh = parse(admin_->get(resources::kServiceAccounts, ns_, "patched"));
  bool managedBySaguard = false;
  for (const auto& entry : fresh["metadata"]["managedFields"]) {
    if (entry["manager"] == "saguard") managedBySaguard = true;
  }
  EXPECT_TRUE(managedBySaguard);
}

TEST_F(KubeClient, StrategicMergeMergesListsByKey) {
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata", {{"name", "smp"}}},
             {"secrets", {{{"name", "a"}}}}};
  ASSERT_TRUE(admin_->create(resources::kServiceAccounts, ns_, sa.dump()).ok());
  json merged = parse(admin_->patch(resources::kServiceAccounts, ns_, "smp",
                                    PatchType::StrategicMerge, R"({"secrets":[{"name":"b"}]})"));
  std::set<std::string> names;
  for (const auto& secret : merged["secrets"]) names.insert(secret["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"a", "b"}));
  // A JSON merge patch replaces the list instead: the difference is the point.
  json replaced = parse(admin_->patch(resources::kServiceAccounts, ns_, "smp", PatchType::Merge,
                                      R"({"secrets":[{"name":"c"}]})"));
  EXPECT_EQ(replaced["secrets"], json::parse(R"([{"name":"c"}])"));
}

TEST_F(KubeClient, ServerSideApplyWithFieldManagerAndForce) {
  json desired = configMap("applied", {{"owned", "by-saguard"}});
  json created = parse(
      admin_->patch(resources::kConfigMaps, ns_, "applied", PatchType::Apply, desired.dump()));
  EXPECT_EQ(created["data"]["owned"], "by-saguard");
  bool applyEntry = false;
  for (const auto& entry : created["metadata"]["managedFields"]) {
    if (entry["manager"] == "saguard" && entry["operation"] == "Apply") applyEntry = true;
  }
  EXPECT_TRUE(applyEntry);

  // Another manager takes the field; applying again conflicts unless forced.
  ASSERT_TRUE(admin_
                  ->patch(resources::kConfigMaps, ns_, "applied", PatchType::Merge,
                          R"({"data":{"owned":"by-someone"}})", {.fieldManager = "someone-else"})
                  .ok());
  auto conflict =
      admin_->patch(resources::kConfigMaps, ns_, "applied", PatchType::Apply, desired.dump());
  ASSERT_TRUE(conflict.is(ErrorKind::Conflict))
      << (conflict ? *conflict : conflict.error().describe());
  EXPECT_NE(conflict.error().message.find("someone-else"), std::string::npos)
      << conflict.error().message;
  json forced = parse(admin_->patch(resources::kConfigMaps, ns_, "applied", PatchType::Apply,
                                    desired.dump(), {.force = true}));
  EXPECT_EQ(forced["data"]["owned"], "by-saguard");
}

TEST_F(KubeClient, UpdateStatusWritesOnlyStatus) {
  const std::string crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.kubetest.saguard.io}
spec:
  group: kubetest.saguard.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {phase: {type: string}}}
)";
  ASSERT_EQ(kubectl("apply -f -", crd).exitCode, 0);
  ASSERT_EQ(
      kubectl("wait --for=condition=Established --timeout=60s crd/widgets.kubetest.saguard.io")
          .exitCode,
      0);
  const Resource widgets{"kubetest.saguard.io", "v1", "widgets", true};
  json w = {{"apiVersion", "kubetest.saguard.io/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w1"}}},
            {"spec", {{"size", 1}}}};
  // A fresh CRD takes a moment to be served.
  Result<std::string> created = makeError(ErrorKind::Internal, "not tried");
  ASSERT_TRUE(eventually(20000, [&] {
    created = admin_->create(widgets, ns_, w.dump());
    return created.ok();
  })) << created.error().describe();
  json current = json::parse(*created);
  current["spec"]["size"] = 99;  // ignored by the status subresource
  current["status"] = {{"phase", "Ready"}};
  json written = parse(admin_->updateStatus(widgets, ns_, "w1", current.dump()));
  EXPECT_EQ(written["status"]["phase"], "Ready");
  EXPECT_EQ(written["spec"]["size"], 1);
}

// ---- identities and TLS --------------------------------------------------------------

TEST_F(KubeClient, WrongTokenIsUnauthorizedNamingTheServer) {
  auto client = clientFor(tokenConfig("not-a-real-token"));
  auto r = client->list(resources::kNamespaces, "");
  ASSERT_TRUE(r.is(ErrorKind::Unauthorized)) << (r ? "ok" : r.error().describe());
  EXPECT_EQ(r.error().httpCode, 401);
  EXPECT_NE(r.error().message.find(controlPlane().apiServerUrl), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("not-a-real-token"), std::string::npos);
}

TEST_F(KubeClient, WrongCaFailsTlsWithAClearMessage) {
  RestConfig config = adminConfig();
  config.caPem = test_pki::k_other_ca_crt;  // the control plane's certificate does not chain to it
  auto client = clientFor(config);
  auto r = client->get(resources::kNamespaces, "", "default");
  ASSERT_TRUE(r.is(ErrorKind::Transport)) << (r ? "ok" : r.error().describe());
  const std::string expected =
      "TLS handshake with " + controlPlane().apiServerUrl + " failed: certificate verify failed";
  EXPECT_EQ(r.error().message.rfind(expected, 0), 0u) << r.error().message;
}

TEST_F(KubeClient, NoCaMeansSystemTrustWhichDoesNotKnowTheTestCa) {
  RestConfig config = adminConfig();
  config.caPem.clear();
  auto r = clientFor(config)->get(resources::kNamespaces, "", "default");
  ASSERT_TRUE(r.is(ErrorKind::Transport)) << (r ? "ok" : r.error().describe());
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
}

TEST_F(KubeClient, InsecureSkipTlsVerifySkipsIt) {
  RestConfig config = adminConfig();
  config.caPem.clear();
  config.insecureSkipTlsVerify = true;
  EXPECT_TRUE(clientFor(config)->get(resources::kNamespaces, "", "default").ok());
}

TEST_F(KubeClient, HostNameAndIpAddressAreBothVerified) {
  // The serving certificate names IP 127.0.0.1 and DNS localhost: both verify.
  RestConfig byIp = adminConfig();
  ASSERT_NE(byIp.server.find("127.0.0.1"), std::string::npos);
  EXPECT_TRUE(clientFor(byIp)->get(resources::kNamespaces, "", "default").ok());
  RestConfig byName = byIp;
  byName.server.replace(byName.server.find("127.0.0.1"), 9, "localhost");
  auto r = clientFor(byName)->get(resources::kNamespaces, "", "default");
  EXPECT_TRUE(r.ok()) << r.error().describe();
}

TEST_F(KubeClient, RestrictedIdentityIsForbidden) {
  ASSERT_EQ(kubectl("create serviceaccount nobody -n " + ns_).exitCode, 0);
  auto token = kubectl("create token nobody -n " + ns_);
  ASSERT_EQ(token.exitCode, 0) << token.err;
  auto client = clientFor(tokenConfig(token.out));
  auto r = client->list(resources::kPods, ns_);
  ASSERT_TRUE(r.is(ErrorKind::Forbidden)) << (r ? "ok" : r.error().describe());
  EXPECT_EQ(r.error().httpCode, 403);
  EXPECT_NE(r.error().message.find("system:serviceaccount:" + ns_ + ":nobody"), std::string::npos)
      << r.error().message;
  // A watch the API refuses returns that error.
  Status watch =
      client->watch(resources::kPods, ns_, {}, [](std::string_view) { return Status(); });
  EXPECT_TRUE(watch.is(ErrorKind::Forbidden)) << (watch ? "ok" : watch.error().describe());
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/saguard-kube-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    auto file = path / name;
    // Write then rename, as the kubelet swaps its projected files atomically.
    std::ofstream(file.string() + ".tmp") << content;
    std::filesystem::rename(file.string() + ".tmp", file);
    return file.string();
  }
};

Environment serviceEnvironment() {
  std::string url = controlPlane().apiServerUrl;  // https://127.0.0.1:PORT
  std::string host = url.substr(8, url.rfind(':') - 8);
  std::string port = url.substr(url.rfind(':') + 1);
  return [host, port](std::string_view name) -> std::optional<std::string> {
    if (name == "KUBERNETES_SERVICE_HOST") return host;
    if (name == "KUBERNETES_SERVICE_PORT") return port;
    return std::nullopt;
  };
}

TEST_F(KubeClient, InClusterConfigurationWithAMintedToken) {
  ASSERT_EQ(kubectl("create serviceaccount in-pod -n " + ns_).exitCode, 0);
  TempDir dir;
  InClusterOptions files{dir.write("token", mintToken(*admin_, ns_, "in-pod")),
                         dir.write("ca.crt", readFile(controlPlane().caFile)),
                         dir.write("namespace", ns_)};
  auto config = inClusterConfig(files, serviceEnvironment());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, controlPlane().apiServerUrl);
  EXPECT_EQ(config->namespace_, ns_);
  auto client = clientFor(*config);
  EXPECT_EQ(whoAmI(*client), "system:serviceaccount:" + ns_ + ":in-pod");
}

TEST_F(KubeClient, RotatedTokenFileIsPickedUpAfterA401) {
  ASSERT_EQ(kubectl("create serviceaccount rotating -n " + ns_).exitCode, 0);
  TempDir dir;
  std::string firstToken = mintToken(*admin_, ns_, "rotating");
  InClusterOptions files{dir.write("token", firstToken),
                         dir.write("ca.crt", readFile(controlPlane().caFile)),
                         dir.write("namespace", ns_)};
  auto config = inClusterConfig(files, serviceEnvironment());
  ASSERT_TRUE(config.ok()) << config.error().describe();

  class Codes final : public RequestObserver {
   public:
    std::vector<int> codes;
    void onRequest(const RequestRecord& r) override { codes.push_back(r.httpCode); }
  } observer;
  ClientOptions options;
  options.observer = &observer;
  auto client = clientFor(*config, options);
  ASSERT_EQ(whoAmI(*client), "system:serviceaccount:" + ns_ + ":rotating");

  // Recreating the account invalidates tokens bound to the old one.
  ASSERT_EQ(kubectl("delete serviceaccount rotating -n " + ns_).exitCode, 0);
  ASSERT_EQ(kubectl("create serviceaccount rotating -n " + ns_).exitCode, 0);
  auto oldTokenClient = clientFor(tokenConfig(firstToken));
  ASSERT_TRUE(eventually(20000, [&] {
    return oldTokenClient->list(resources::kNamespaces, "").is(ErrorKind::Unauthorized);
  }));

  dir.write("token", mintToken(*admin_, ns_, "rotating"));
  observer.codes.clear();
  // Within the minute the client still holds the old token: it gets a 401, re-reads the
  // file, and the retry with the new token succeeds.
  EXPECT_EQ(whoAmI(*client), "system:serviceaccount:" + ns_ + ":rotating");
  EXPECT_EQ(observer.codes, (std::vector<int>{401, 201}));
}

}  // namespace
}  // namespace saguard::kube
