// List decoding of every kind: the page metadata, the records, the streaming sink,
// and malformed items that are skipped and reported without losing the others.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/decoder.h"

namespace saguard::codec {
namespace {

using objects::Tristate;

std::string pod(const std::string& ns, const std::string& name, const std::string& extraMeta = "") {
  return R"({"metadata":{"name":")" + name + R"(","namespace":")" + ns + R"(","uid":"uid-)" + name +
         R"(","resourceVersion":"11","creationTimestamp":"2024-05-01T10:00:00Z")" + extraMeta +
         R"(,"managedFields":[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:spec":{}}}]},)"
         R"("spec":{"volumes":[{"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}],)"
         R"("containers":[{"name":"c","image":"busybox"}],"serviceAccountName":"app"},)"
         R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})";
}

std::string podList(const std::vector<std::string>& items, const std::string& meta) {
  std::string out = R"({"kind":"PodList","apiVersion":"v1","metadata":)" + meta + R"(,"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

TEST(ListDecoding, PodListPageMetadataAndItems) {
  std::string json = podList(
      {pod("a", "p1"), pod("a", "p2"), pod("b", "p3")},
      R"({"resourceVersion":"48213","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ","remainingItemCount":7})");
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  EXPECT_EQ(page->meta.resourceVersion, "48213");
  EXPECT_EQ(page->meta.continueToken, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
  EXPECT_EQ(page->meta.remainingItemCount, 7);
  EXPECT_EQ(page->meta.itemCount, 3u);
  EXPECT_EQ(page->meta.skippedCount, 0u);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].meta.name(), "p1");
  EXPECT_EQ(page->items[2].meta.namespace_.str(), "b");
  EXPECT_EQ(page->items[1].meta.uid(), "uid-p2");
  EXPECT_EQ(page->items[1].serviceAccountName.str(), "app");
  EXPECT_EQ(page->items[1].token, objects::TokenVolume::Projected);
  EXPECT_TRUE(page->skipped.empty());
}

TEST(ListDecoding, LastPageAndEmptyLists) {
  Decoder decoder;
  auto last = decoder.list<Kind::Pod>(podList({pod("a", "p1")}, R"({"resourceVersion":"5"})"));
  ASSERT_TRUE(last.ok()) << last.error().describe();
  EXPECT_EQ(last->meta.continueToken, "");
  EXPECT_FALSE(last->meta.remainingItemCount.has_value());

  auto empty = decoder.list<Kind::Pod>(
      std::string_view(R"({"kind":"PodList","metadata":{"resourceVersion":"6"},"items":[]})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_EQ(empty->meta.resourceVersion, "6");

  // Go's encoder writes a nil slice as null.
  auto nullItems = decoder.list<Kind::Pod>(
      std::string_view(R"({"metadata":{"resourceVersion":"7"},"items":null})"));
  ASSERT_TRUE(nullItems.ok());
  EXPECT_TRUE(nullItems->items.empty());
}

TEST(ListDecoding, FieldOrderDoesNotMatter) {
  // kubectl sorts keys: items before kind and metadata.
  std::string json = R"({"apiVersion":"v1","items":[)" + pod("a", "p1") +
                     R"(],"kind":"List","metadata":{"resourceVersion":"","continue":""}})";
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].meta.name(), "p1");
}

TEST(ListDecoding, WrongListKindIsRejected) {
  Decoder decoder;
  auto page = decoder.list<Kind::ServiceAccount>(podList({pod("a", "p1")}, "{}"));
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(page.is(ErrorKind::Invalid));
  EXPECT_EQ(page.error().message,
            R"(decoding ServiceAccountList: kind: expected "ServiceAccountList", got "PodList")");
}

TEST(ListDecoding, MalformedItemsAreSkippedAndReported) {
  std::string badName = R"({"metadata":{"namespace":"a","name":42}})";
  std::string badTimestamp = pod("a", "p4");
  badTimestamp.replace(badTimestamp.find("2024-05-01T10:00:00Z"), 20, "yesterday");
  std::string badVolume = pod("b", "p6");
  const std::string source = R"({"serviceAccountToken":{"path":"token"}})";
  badVolume.replace(badVolume.find(source), source.size(), R"(["serviceAccountToken"])");
  std::string json = podList({pod("a", "p0"), badName, pod("a", "p2"), "null", badTimestamp,
                              R"({"metadata":{"name":"p5"}})", badVolume, pod("b", "p7")},
                             R"({"resourceVersion":"99"})");
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].meta.name(), "p0");
  EXPECT_EQ(page->items[1].meta.name(), "p2");
  EXPECT_EQ(page->items[2].meta.name(), "p7");
  EXPECT_EQ(page->meta.resourceVersion, "99");
  EXPECT_EQ(page->meta.itemCount, 3u);
  EXPECT_EQ(page->meta.skippedCount, 5u);

  ASSERT_EQ(page->skipped.size(), 5u);
  EXPECT_EQ(page->skipped[0].index, 1u);
  EXPECT_EQ(page->skipped[0].error.message, "items[1].metadata.name: expected string");
  EXPECT_EQ(page->skipped[0].namespace_, "a");
  EXPECT_EQ(page->skipped[1].index, 3u);
  EXPECT_EQ(page->skipped[1].error.message, "items[3]: expected object");
  EXPECT_EQ(page->skipped[2].index, 4u);
  EXPECT_EQ(page->skipped[2].error.message,
            R"(items[4].metadata.creationTimestamp: not an RFC 3339 time: "yesterday")");
  EXPECT_EQ(page->skipped[2].name, "p4");
  EXPECT_EQ(page->skipped[3].error.message, "items[5].metadata.namespace: missing");
  EXPECT_EQ(page->skipped[4].error.message,
            "items[6].spec.volumes[0].projected.sources[0]: expected object");
  for (const auto& s : page->skipped) EXPECT_EQ(s.error.kind, ErrorKind::Invalid);
}

TEST(ListDecoding, StreamingSinkSeesEachItemOnce) {
  std::string json = podList({pod("a", "p0"), R"({"metadata":{"name":true}})", pod("a", "p2")},
                             R"({"resourceVersion":"3"})");
  Decoder decoder;
  std::vector<std::string> names;
  std::vector<std::size_t> skipped;
  ListSink<objects::Pod> sink{
      .onItem = [&](objects::Pod&& p) { names.emplace_back(p.meta.name()); },
      .onSkipped = [&](SkippedItem&& s) { skipped.push_back(s.index); },
  };
  auto meta = decoder.list<Kind::Pod>(json, sink);
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(names, (std::vector<std::string>{"p0", "p2"}));
  EXPECT_EQ(skipped, std::vector<std::size_t>{1});
  EXPECT_EQ(meta->resourceVersion, "3");
  EXPECT_EQ(meta->itemCount, 2u);
  EXPECT_EQ(meta->skippedCount, 1u);

  // Without onSkipped the count still tells.
  names.clear();
  auto counted =
      decoder.list<Kind::Pod>(json, ListSink<objects::Pod>{.onItem = [&](objects::Pod&& p) {
                                names.emplace_back(p.meta.name());
                              }});
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->skippedCount, 1u);
  EXPECT_EQ(names.size(), 2u);
}

TEST(ListDecoding, BrokenJsonFailsTheWholeList) {
  std::string json = podList({pod("a", "p0"), pod("a", "p1")}, "{}");
  json.replace(json.find(R"("name":"p1")"), 11, R"("name" "p1")");
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(json);
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(page.is(ErrorKind::Invalid));
  EXPECT_NE(page.error().message.find("decoding PodList: items[1].metadata"), std::string::npos)
      << page.error().message;
}

// Found by the codec_list fuzzer: a second "items" array restarted the item indexes
// and would hand a reflector a second run of items. An API server never repeats a key.
TEST(ListDecoding, RepeatedItemsOrMetadataKeyFailsTheWholeList) {
  Decoder decoder;
  std::string items = podList({pod("a", "p0")}, "{}");
  items.insert(items.size() - 1, R"(,"items":[)" + pod("a", "p1") + "]");
  auto page = decoder.list<Kind::Pod>(items);
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(page.is(ErrorKind::Invalid));
  EXPECT_NE(page.error().message.find(R"(repeated key "items")"), std::string::npos)
      << page.error().message;

  std::string meta = podList({pod("a", "p0")}, R"({"resourceVersion":"1"})");
  meta.insert(meta.size() - 1, R"(,"metadata":{"resourceVersion":"2"})");
  auto second = decoder.list<Kind::Pod>(meta);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(R"(repeated key "metadata")"), std::string::npos)
      << second.error().message;
}

TEST(ListDecoding, ServiceAccountList) {
  std::string json =
      R"({"apiVersion":"v1","kind":"ServiceAccountList","metadata":{"resourceVersion":"812"},"items":[)"
      R"({"metadata":{"name":"default","namespace":"shop","uid":"u1","resourceVersion":"10",)"
      R"("creationTimestamp":"2024-01-01T00:00:00Z"}},)"
      R"({"automountServiceAccountToken":false,"metadata":{"name":"web","namespace":"shop","uid":"u2",)"
      R"("resourceVersion":"11","labels":{"team":"payments","app.kubernetes.io/name":"web","tier":"front"},)"
      R"("annotations":{"x":"y"}},"secrets":[{"name":"web-token-abcde"}],"imagePullSecrets":[]},)"
      R"({"automountServiceAccountToken":true,"metadata":{"name":"ci","namespace":"build","labels":null}}]})";
  Decoder decoder;
  auto page = decoder.list<Kind::ServiceAccount>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 3u);
  const auto& def = page->items[0];
  EXPECT_EQ(def.meta.name(), "default");
  EXPECT_EQ(def.meta.namespace_.str(), "shop");
  EXPECT_EQ(def.meta.uid(), "u1");
  EXPECT_EQ(def.meta.resourceVersion(), "10");
  EXPECT_EQ(def.automount, Tristate::Unset);
  EXPECT_TRUE(def.labels.empty());

  const auto& web = page->items[1];
  EXPECT_EQ(web.automount, Tristate::False);
  ASSERT_EQ(web.labels.size(), 3u);
  EXPECT_EQ(web.labels[0].first.str(), "app.kubernetes.io/name");
  EXPECT_EQ(web.labels[1].first.str(), "team");
  EXPECT_EQ(web.labels[2].first.str(), "tier");
  EXPECT_EQ(web.labels[1].second, Symbol("payments"));  // interned: same pointer
  EXPECT_EQ(page->items[2].automount, Tristate::True);
  EXPECT_TRUE(page->items[2].labels.empty());
}

TEST(ListDecoding, BadLabelNamesTheLabel) {
  Decoder decoder;
  auto page = decoder.list<Kind::ServiceAccount>(std::string_view(
      R"({"items":[{"metadata":{"name":"a","namespace":"n","labels":{"app.kubernetes.io/name":5}}},)"
      R"({"metadata":{"name":"b","namespace":"n","labels":["x"]}},{"metadata":{"name":"c","namespace":"n"}}]})"));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_EQ(page->skipped.size(), 2u);
  EXPECT_EQ(page->skipped[0].error.message,
            R"(items[0].metadata.labels["app.kubernetes.io/name"]: expected string)");
  EXPECT_EQ(page->skipped[1].error.message, "items[1].metadata.labels: expected object");
}

TEST(ListDecoding, RepeatedLabelKeepsItsLastValue) {
  Decoder decoder;
  auto sa = decoder.object<Kind::ServiceAccount>(std::string_view(
      R"({"metadata":{"name":"a","namespace":"n","labels":{"k":"first","b":"x","k":"second","e":null}}})"));
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  ASSERT_EQ(sa->labels.size(), 3u);
  EXPECT_EQ(sa->labels[0].first.str(), "b");
  EXPECT_EQ(sa->labels[1].first.str(), "e");
  EXPECT_EQ(sa->labels[1].second.str(), "");
  EXPECT_EQ(sa->labels[2].first.str(), "k");
  EXPECT_EQ(sa->labels[2].second.str(), "second");
}

TEST(ListDecoding, RoleBindingList) {
  std::string json =
      R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBindingList","metadata":{"resourceVersion":"77"},"items":[)"
      R"({"metadata":{"name":"read-pods","namespace":"shop","uid":"rb1","resourceVersion":"70",)"
      R"("managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update"}]},)"
      R"("roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},)"
      R"("subjects":[{"kind":"ServiceAccount","name":"default","namespace":"shop"},)"
      R"({"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:serviceaccounts:shop"},)"
      R"({"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane@example.com"}]},)"
      R"({"metadata":{"name":"no-subjects","namespace":"shop"},"roleRef":{"kind":"ClusterRole","name":"view"}},)"
      R"({"metadata":{"name":"no-roleref","namespace":"shop"},"subjects":[]},)"
      R"({"metadata":{"name":"bad-subject","namespace":"shop"},"roleRef":{"kind":"Role","name":"r"},)"
      R"("subjects":[{"kind":"User","name":"u"},{"kind":"ServiceAccount","namespace":"shop"}]}]})";
  Decoder decoder;
  auto page = decoder.list<Kind::RoleBinding>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 2u);
  const auto& rb = page->items[0];
  EXPECT_FALSE(rb.clusterScoped);
  EXPECT_EQ(rb.meta.namespace_.str(), "shop");
  EXPECT_EQ(rb.meta.name(), "read-pods");
  EXPECT_EQ(rb.roleRef.kind.str(), "Role");
  EXPECT_EQ(rb.roleRef.name.str(), "pod-reader");
  ASSERT_EQ(rb.subjects.size(), 3u);
  EXPECT_EQ(rb.subjects[0].kind.str(), "ServiceAccount");
  EXPECT_EQ(rb.subjects[0].name.str(), "default");
  EXPECT_EQ(rb.subjects[0].namespace_.str(), "shop");
  EXPECT_EQ(rb.subjects[1].kind.str(), "Group");
  EXPECT_EQ(rb.subjects[1].name.str(), "system:serviceaccounts:shop");
  EXPECT_TRUE(rb.subjects[1].namespace_.empty());
  EXPECT_EQ(rb.subjects[2].name.str(), "jane@example.com");
  EXPECT_TRUE(page->items[1].subjects.empty());
  EXPECT_EQ(page->items[1].roleRef.kind.str(), "ClusterRole");

  ASSERT_EQ(page->skipped.size(), 2u);
  EXPECT_EQ(page->skipped[0].error.message, "items[2].roleRef.kind: missing");
  EXPECT_EQ(page->skipped[0].name, "no-roleref");
  EXPECT_EQ(page->skipped[1].error.message, "items[3].subjects[1].name: missing");
}

TEST(ListDecoding, ClusterRoleBindingList) {
  std::string json =
      R"({"kind":"ClusterRoleBindingList","metadata":{"resourceVersion":"5"},"items":[)"
      R"({"metadata":{"name":"admins","uid":"c1","resourceVersion":"4"},)"
      R"("roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},)"
      R"("subjects":[{"kind":"Group","name":"system:serviceaccounts"},{"kind":"ServiceAccount","name":"ops","namespace":"tools"}]},)"
      R"({"metadata":{"name":"stray-namespace","namespace":"ignored"},"roleRef":{"kind":"ClusterRole","name":"view"}}]})";
  Decoder decoder;
  auto page = decoder.list<Kind::ClusterRoleBinding>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 2u);
  const auto& crb = page->items[0];
  EXPECT_TRUE(crb.clusterScoped);
  EXPECT_TRUE(crb.meta.namespace_.empty());
  EXPECT_EQ(crb.roleRef.name.str(), "cluster-admin");
  ASSERT_EQ(crb.subjects.size(), 2u);
  EXPECT_EQ(crb.subjects[1].namespace_.str(), "tools");
  // Cluster-scoped records never carry a namespace.
  EXPECT_TRUE(page->items[1].meta.namespace_.empty());

  // A RoleBinding decoder refuses a ClusterRoleBinding list.
  auto wrong = decoder.list<Kind::RoleBinding>(json);
  EXPECT_TRUE(wrong.is(ErrorKind::Invalid));
}

TEST(ListDecoding, NamespaceList) {
  std::string json =
      R"({"apiVersion":"v1","items":[)"
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"creationTimestamp":"2024-05-01T10:00:00Z",)"
      R"("labels":{"kubernetes.io/metadata.name":"shop","env":"prod"},"name":"shop","resourceVersion":"20","uid":"n1"},)"
      R"("spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}},)"
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"old","deletionTimestamp":"2024-05-02T00:00:00Z"},)"
      R"("spec":{"finalizers":["kubernetes"]},"status":{"conditions":[{"type":"NamespaceDeletionContentFailure","status":"False"}],"phase":"Terminating"}}],)"
      R"("kind":"List","metadata":{"resourceVersion":""}})";
  Decoder decoder;
  auto page = decoder.list<Kind::Namespace>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 2u);
  const auto& shop = page->items[0];
  EXPECT_EQ(shop.meta.name(), "shop");
  EXPECT_TRUE(shop.meta.namespace_.empty());
  EXPECT_EQ(shop.meta.uid(), "n1");
  EXPECT_EQ(shop.phase.str(), "Active");
  ASSERT_EQ(shop.labels.size(), 2u);
  EXPECT_EQ(shop.labels[0].first.str(), "env");
  EXPECT_EQ(shop.labels[1].first.str(), "kubernetes.io/metadata.name");
  EXPECT_EQ(shop.labels[1].second.str(), "shop");
  EXPECT_EQ(page->items[1].phase.str(), "Terminating");
}

TEST(ListDecoding, ItemKindMustMatchWhenPresent) {
  std::string json = R"({"kind":"List","items":[{"kind":"Namespace","metadata":{"name":"x"}},)"
                     R"({"kind":"Pod","metadata":{"name":"y","namespace":"z"}}]})";
  Decoder decoder;
  auto page = decoder.list<Kind::Namespace>(json);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_EQ(page->skipped.size(), 1u);
  EXPECT_EQ(page->skipped[0].error.message, R"(items[1].kind: expected "Namespace", got "Pod")");
}

TEST(ListDecoding, StringInputIsPaddedInPlaceAndRestored) {
  const std::string original = podList({pod("a", "p0")}, R"({"resourceVersion":"1"})");
  std::string json = original;
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(json);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(json, original);
  // Also when the decode fails.
  std::string broken = original.substr(0, original.size() - 3);
  const std::string brokenCopy = broken;
  EXPECT_FALSE(decoder.list<Kind::Pod>(broken).ok());
  EXPECT_EQ(broken, brokenCopy);
}

TEST(ListDecoding, CallerPaddedBufferIsUsedWithoutCopy) {
  const std::string json = podList({pod("a", "p0"), pod("a", "p1")}, R"({"resourceVersion":"1"})");
  std::string buffer = json + std::string(kPadding, '\0');
  Decoder decoder;
  auto page = decoder.list<Kind::Pod>(PaddedView(buffer.data(), json.size(), buffer.size()));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  EXPECT_EQ(page->items.size(), 2u);

  // Without padding it is refused as a caller bug, not read past the end.
  auto unpadded = decoder.list<Kind::Pod>(PaddedView(json.data(), json.size(), json.size()));
  EXPECT_TRUE(unpadded.is(ErrorKind::Internal));
}

TEST(ListDecoding, OneDecoderHandlesGrowingAndShrinkingDocuments) {
  // A small retainBytes makes the decoder release its buffers after the big lists.
  Decoder::Options options;
  options.retainBytes = 64 * 1024;
  Decoder decoder(options);
  for (std::size_t count : {1u, 300u, 2u, 1200u, 5u}) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < count; ++i) items.push_back(pod("ns", "p" + std::to_string(i)));
    std::string json = podList(items, R"({"resourceVersion":")" + std::to_string(count) + R"("})");
    auto page = decoder.list<Kind::Pod>(json);
    ASSERT_TRUE(page.ok()) << page.error().describe();
    ASSERT_EQ(page->items.size(), count);
    EXPECT_EQ(page->items.back().meta.name(), "p" + std::to_string(count - 1));
    EXPECT_EQ(page->meta.resourceVersion, std::to_string(count));
  }
}

}  // namespace
}  // namespace saguard::codec
