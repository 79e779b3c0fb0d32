// Both wire formats of the real API server give the same records: the same objects are
// listed in JSON (codec/decoder.h) and in protobuf (codec/protobuf.h), and streamed by a
// protobuf streaming list (length-prefixed frames, codec/length_framer.h); every field a
// record keeps is compared. The objects carry what the decoders read: labels, the
// last-applied and token-last-used annotations, field managers owning automount (a
// server-side apply), projected and legacy token volumes, a controller ownerReference,
// subjects and roleRefs, and a namespace phase.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/length_framer.h"
#include "codec/protobuf.h"
#include "integration/support/admin_client.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"
#include "kube/resource.h"

namespace saguard::testing {
namespace {

using codec::Kind;

std::string tristate(objects::Tristate t) {
  return objects::toString(t);
}

std::string labelsOf(const objects::Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += k.str() + "=" + v.str() + ",";
  return out;
}

// Every field of a record, as one line: two records are equal when their lines are.
std::string describe(const objects::Pod& p) {
  return std::string(p.meta.namespace_.view()) + "/" + std::string(p.meta.name()) +
         " uid=" + std::string(p.meta.uid()) + " rv=" + std::string(p.meta.resourceVersion()) +
         " sa=" + p.serviceAccountName.str() + " automount=" + tristate(p.automount) +
         " token=" + objects::toString(p.token) +
         " controller=" + objects::toString(p.controllerKind) + ":" +
         std::string(p.controllerName()) + " created=" + std::to_string(p.creationTimestamp);
}
std::string describe(const objects::ServiceAccount& a) {
  std::string owners;
  for (const auto& o : a.automountOwners)
    owners += o.manager.str() + ":" + objects::toString(o.operation) + ",";
  return std::string(a.meta.namespace_.view()) + "/" + std::string(a.meta.name()) +
         " uid=" + std::string(a.meta.uid()) + " rv=" + std::string(a.meta.resourceVersion()) +
         " labels=" + labelsOf(a.labels) + " automount=" + tristate(a.automount) +
         " lastApplied=" + tristate(a.lastAppliedAutomount) + " lastUsed=" + a.tokenLastUsed.str() +
         " created=" + std::to_string(a.creationTimestamp) + " owners=" + owners;
}
std::string describe(const objects::Binding& b) {
  std::string subjects;
  for (const auto& s : b.subjects)
    subjects += s.kind.str() + ":" + s.namespace_.str() + "/" + s.name.str() + ",";
  return std::string(b.meta.namespace_.view()) + "/" + std::string(b.meta.name()) +
         " cluster=" + std::to_string(b.clusterScoped) +
         " rv=" + std::string(b.meta.resourceVersion()) + " ref=" + b.roleRef.kind.str() + "/" +
         b.roleRef.name.str() + " subjects=" + subjects;
}
std::string describe(const objects::Namespace& n) {
  return std::string(n.meta.name()) + " uid=" + std::string(n.meta.uid()) +
         " labels=" + labelsOf(n.labels) + " phase=" + n.phase.str();
}

class ProtobufCodec : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ns_ = freshNamespace("proto", {{"team", "proto"}});
  }

  void apply(const std::string& yaml, const std::string& flags = "") {
    auto r = kubectl("apply " + flags + " -f -", yaml);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }

  // The records of one list, JSON and protobuf, by describe() line.
  // Returns the records' lines (empty after a failure).
  template <Kind K>
  std::vector<std::string> expectSameRecords(const kube::Resource& resource, const std::string& ns,
                                             const std::string& fieldSelector,
                                             std::size_t atLeast) {
    std::vector<std::string> lines;
    compare<K>(resource, ns, fieldSelector, atLeast, lines);
    return lines;
  }
  template <Kind K>
  void compare(const kube::Resource& resource, const std::string& ns,
               const std::string& fieldSelector, std::size_t atLeast,
               std::vector<std::string>& lines) {
    kube::ListOptions options;
    options.fieldSelector = fieldSelector;
    auto json = client_->list(resource, ns, options);
    ASSERT_TRUE(json.ok()) << json.error().describe();
    auto proto =
        client_->list(resource, ns, options, {.accept = std::string(codec::kProtobufContentType)});
    ASSERT_TRUE(proto.ok()) << proto.error().describe();
    ASSERT_TRUE(proto->starts_with(std::string_view("k8s\0", 4))) << "not protobuf";

    std::vector<std::string> fromJson, fromProto;
    codec::Decoder decoder;
    auto page = decoder.list<K>(*json);
    ASSERT_TRUE(page.ok()) << page.error().describe();
    for (const auto& r : page->items) fromJson.push_back(describe(r));
    codec::ProtobufDecoder protobuf;
    auto meta = protobuf.list<K>(
        *proto, {.onItem = [&](codec::RecordOf<K>&& r) { fromProto.push_back(describe(r)); },
                 .onSkipped = nullptr});
    ASSERT_TRUE(meta.ok()) << meta.error().describe();
    EXPECT_EQ(meta->skippedCount, 0u);
    EXPECT_FALSE(meta->resourceVersion.empty());
    EXPECT_GE(fromJson.size(), atLeast);
    EXPECT_EQ(fromProto, fromJson);
    lines = fromProto;
  }

  std::unique_ptr<kube::Client> client_;
  std::string ns_;
};

TEST_F(ProtobufCodec, ListsDecodeToTheSameRecordsAsJson) {
  // Accounts: a server-side apply owning automount, a client-side apply (last-applied
  // annotation), labels and the token-last-used annotation.
  apply("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: gitops\n  namespace: " + ns_ +
            "\n  labels: {team: b, app: x}\n  annotations: {saguard.io/token-last-used: "
            "'2026-12-06'}\nautomountServiceAccountToken: false\n",
        "--server-side --field-manager=argocd-controller");
  apply("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: classic\n  namespace: " + ns_ +
        "\nautomountServiceAccountToken: true\n");
  // A ReplicaSet to own a pod (no controller runs it: the object only has to exist).
  apply("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-7d9f\n  namespace: " + ns_ +
        "\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: x}]}\n");
  const std::string rsUid =
      trimmed(kubectl("get rs web-7d9f -n " + ns_ + " -o jsonpath={.metadata.uid}").out);
  ASSERT_FALSE(rsUid.empty());
  // Pods: one given a projected token by the ServiceAccount admission plugin, owned by the
  // ReplicaSet; one with a legacy token Secret volume and automount off.
  apply("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9f-x2\n  namespace: " + ns_ +
        "\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, uid: " +
        rsUid +
        ", controller: true}]\nspec:\n  serviceAccountName: classic\n"
        "  containers: [{name: c, image: x}]\n");
  apply("apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy\n  namespace: " + ns_ +
        "\nspec:\n  automountServiceAccountToken: false\n  volumes: [{name: t, secret: "
        "{secretName: default-token-ab12c}}]\n  containers: [{name: c, image: x}]\n");
  // Bindings, one of each scope.
  apply(
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: view\n"
      "  namespace: " +
      ns_ +
      "\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: "
      "ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: gitops, namespace: " +
      ns_ + "}\n- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: devs}\n");
  apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " +
        ns_ +
        "\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
        "subjects:\n- {kind: ServiceAccount, name: classic, namespace: " +
        ns_ + "}\n");

  expectSameRecords<Kind::ServiceAccount>(kube::resources::kServiceAccounts, ns_, "", 2);
  const auto pods = expectSameRecords<Kind::Pod>(kube::resources::kPods, ns_, "", 2);
  expectSameRecords<Kind::RoleBinding>(kube::resources::kRoleBindings, ns_, "", 1);
  expectSameRecords<Kind::ClusterRoleBinding>(kube::resources::kClusterRoleBindings, "",
                                              "metadata.name=" + ns_, 1);
  expectSameRecords<Kind::Namespace>(kube::resources::kNamespaces, "", "metadata.name=" + ns_, 1);
  // All the accounts and pods of the cluster too: whatever other tests made.
  expectSameRecords<Kind::ServiceAccount>(kube::resources::kServiceAccounts, "kube-system", "", 1);

  // The records do hold what was set up (a comparison of two empty fields proves nothing).
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_NE(pods[0].find("automount=false token=legacy-secret"), std::string::npos) << pods[0];
  EXPECT_NE(
      pods[1].find("sa=classic automount=unset token=projected controller=ReplicaSet:web-7d9f"),
      std::string::npos)
      << pods[1];
  codec::ProtobufDecoder protobuf;
  auto body = client_->get(kube::resources::kServiceAccounts, ns_, "gitops");
  ASSERT_TRUE(body.ok());
  codec::Decoder decoder;
  auto gitops = decoder.object<Kind::ServiceAccount>(*body);
  ASSERT_TRUE(gitops.ok());
  EXPECT_EQ(describe(*gitops).find("owners=argocd-controller:Apply,") != std::string::npos, true)
      << describe(*gitops);
  EXPECT_NE(describe(*gitops).find("lastUsed=2026-12-06"), std::string::npos);
}

TEST_F(ProtobufCodec, AStreamingListInProtobufFramesGivesTheListedPods) {
  for (int i = 0; i < 30; ++i) {
    apply("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p" + std::to_string(i) +
          "\n  namespace: " + ns_ + "\nspec:\n  containers: [{name: c, image: x}]\n");
  }
  kube::WatchOptions watch;
  watch.sendInitialEvents = true;
  watch.resourceVersionMatch = "NotOlderThan";
  watch.allowWatchBookmarks = true;
  watch.timeoutSeconds = 30;
  watch.accept = std::string(codec::kProtobufWatchContentType);
  codec::LengthFramer framer;
  codec::ProtobufDecoder protobuf;
  std::vector<std::string> streamed;
  bool ended = false;
  std::string failure;
  Status st =
      client_->watch(kube::resources::kPods, ns_, watch, [&](std::string_view chunk) -> Status {
        Status framed = framer.feed(chunk, [&](std::string_view frame) {
          auto event = protobuf.watchEvent<Kind::Pod>(frame);
          if (!event.ok()) {
            failure = event.error().describe();
            return;
          }
          if (event->type == codec::EventType::Added) streamed.push_back(describe(event->object));
          if (event->type == codec::EventType::Bookmark && event->initialEventsEnd) ended = true;
        });
        if (!framed) return framed;
        if (ended || !failure.empty()) return makeError(ErrorKind::Timeout, "stopped: enough seen");
        return {};
      });
  ASSERT_TRUE(ended) << (st ? "the stream ended" : st.error().describe()) << " " << failure;
  EXPECT_TRUE(failure.empty()) << failure;

  auto json = client_->list(kube::resources::kPods, ns_);
  ASSERT_TRUE(json.ok());
  codec::Decoder decoder;
  auto page = decoder.list<Kind::Pod>(*json);
  ASSERT_TRUE(page.ok());
  std::vector<std::string> listed;
  for (const auto& p : page->items) listed.push_back(describe(p));
  std::sort(listed.begin(), listed.end());
  std::sort(streamed.begin(), streamed.end());
  EXPECT_EQ(listed.size(), 30u);
  EXPECT_EQ(streamed, listed);
}

}  // namespace
}  // namespace saguard::testing
