#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cache/decoding.h"
#include "cache/kinds.h"
#include "codec/line_framer.h"
#include "support/api_json.h"
#include "support/scripted_client.h"

namespace saguard::cache {
namespace {

using namespace std::chrono_literals;
using testing::eventLine;
using testing::listJson;
using testing::podJson;
using testing::ScriptedClient;

objects::Subject subject(const char* kind, const char* name, const char* ns = "") {
  return {Symbol(kind), Symbol(name), Symbol(ns)};
}

objects::Binding binding(const char* ns, std::vector<objects::Subject> subjects) {
  objects::Binding b;
  b.meta.namespace_ = Symbol(ns);
  b.meta.setName("b");
  b.clusterScoped = *ns == '\0';
  b.roleRef = {Symbol("ClusterRole"), Symbol("view")};
  b.subjects = std::move(subjects);
  return b;
}

TEST(CacheKinds, PodsAreFiledByTheirAccount) {
  objects::Pod pod;
  pod.meta.namespace_ = Symbol("shop");
  pod.serviceAccountName = Symbol("builder");
  EXPECT_EQ(podAccountKeys(pod), (std::vector<std::string>{"shop/builder"}));
}

TEST(CacheKinds, AccountsAreFiledByNamespace) {
  objects::ServiceAccount account;
  account.meta.namespace_ = Symbol("shop");
  account.meta.setName("default");
  EXPECT_EQ(accountNamespaceKeys(account), (std::vector<std::string>{"shop"}));
}

TEST(CacheKinds, BindingsAreFiledByEveryAccountTheyName) {
  auto roleBinding =
      binding("shop", {subject("ServiceAccount", "default"),      // the binding's namespace
                       subject("ServiceAccount", "ci", "tools"),  // another namespace
                       subject("User", "system:serviceaccount:ops:bot"), subject("User", "alice"),
                       subject("User", "system:serviceaccount:broken"),  // not an account name
                       subject("Group", "system:serviceaccounts:shop"),
                       subject("ServiceAccount", "ci", "tools")});  // repeated
  EXPECT_EQ(bindingAccountKeys(roleBinding),
            (std::vector<std::string>{"ops/bot", "shop/default", "tools/ci"}));
  EXPECT_EQ(bindingGroupKeys(roleBinding),
            (std::vector<std::string>{"system:serviceaccounts:shop"}));

  auto clusterBinding = binding(
      "", {subject("ServiceAccount", "no-namespace"),  // invalid in a ClusterRoleBinding
           subject("ServiceAccount", "x", "kube-system"),
           subject("Group", "system:serviceaccounts"), subject("Group", "system:authenticated")});
  EXPECT_EQ(bindingAccountKeys(clusterBinding), (std::vector<std::string>{"kube-system/x"}));
  EXPECT_EQ(bindingGroupKeys(clusterBinding),
            (std::vector<std::string>{"system:authenticated", "system:serviceaccounts"}));
}

TEST(CacheKinds, CodecDecodingDecodesListPagesAndWatchLines) {
  auto decoding = codecDecoding<codec::Kind::Pod>();
  std::vector<objects::Pod> pods;
  std::vector<codec::SkippedItem> skipped;
  codec::ListSink<objects::Pod> sink{
      .onItem = [&](objects::Pod&& p) { pods.push_back(std::move(p)); },
      .onSkipped = [&](codec::SkippedItem&& s) { skipped.push_back(std::move(s)); }};
  const std::string page = listJson("PodList", "10",
                                    {podJson("ns", "web-0", "5", "web"),
                                     R"({"metadata":{"name":"bad","namespace":"ns","uid":5}})"});
  ASSERT_TRUE(decoding.list(page, sink).ok());
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].meta.name(), "web-0");
  EXPECT_EQ(pods[0].serviceAccountName.view(), "web");
  EXPECT_EQ(pods[0].token, objects::TokenVolume::Projected);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].name, "bad");

  EXPECT_FALSE(decoding.list(R"({"kind":"ServiceAccountList","items":[]})", sink).ok())
      << "wrong kind";

  codec::LineFramer framer;
  std::vector<std::string> seen;
  ASSERT_TRUE(
      framer
          .feed(eventLine("MODIFIED", podJson("ns", "web-0", "6", "web")) +
                    eventLine("ADDED", R"({"metadata":{"namespace":"ns","name":"x","uid":7}})"),
                [&](codec::PaddedView line) {
                  auto event = decoding.event(line);
                  if (event.ok()) {
                    seen.push_back(std::string(codec::toString(event->type)) + " " +
                                   keyOf(event->object));
                  } else {
                    seen.push_back(std::string(toString(event.kind())) + " " +
                                   decoding.describe(line));
                  }
                })
          .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"MODIFIED ns/web-0", "Invalid ns/x"}));
}

TEST(CacheKinds, PeekObjectKeyIsBestEffort) {
  auto peek = [](const std::string& text) {
    std::string padded = text;
    padded.reserve(text.size() + codec::kPadding);
    return peekObjectKey(codec::PaddedView(padded.data(), text.size(), padded.capacity()));
  };
  EXPECT_EQ(peek(R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"ns"}}})"),
            "ns/a");
  EXPECT_EQ(
      peek(
          R"({"type":"ADDED","object":{"metadata":{"namespace":"ns","labels":{"x":1},"name":"a"}}})"),
      "ns/a");
  EXPECT_EQ(peek(R"({"type":"ADDED","object":{"metadata":{"name":"cluster-wide"}}})"),
            "cluster-wide");
  EXPECT_EQ(peek(R"({"type":"ADDED","object":{"metadata":{"name":5}}})"), "");
  EXPECT_EQ(peek("{not json"), "");
  EXPECT_EQ(peek(""), "");
  std::string unpadded = R"({"object":{"metadata":{"name":"a"}}})";
  EXPECT_EQ(peekObjectKey(codec::PaddedView(unpadded.data(), unpadded.size(), unpadded.size())),
            "");
}

TEST(CacheKinds, PodInformerFillsItsIndex) {
  FakeClock clock;
  ScriptedClient client(&clock);
  client.pushList(
      listJson("PodList", "10",
               {podJson("ns", "web-0", "5", "web"), podJson("ns", "web-1", "6", "web"),
                podJson("ns", "job", "7", "default"), podJson("other", "x", "8", "web")}));
  client.pushWatch({.chunks = {eventLine("DELETED", podJson("ns", "web-1", "9", "web"))},
                    .holdUntilStop = true});
  ReflectorOptions options;
  options.clock = &clock;
  auto informer = makePodInformer(client, options);
  ASSERT_TRUE(informer.ok());
  (*informer)->start();
  ASSERT_TRUE((*informer)->waitForSync(std::chrono::steady_clock::now() + 20s, {}));
  for (int i = 0; i < 20000 && (*informer)->lastResourceVersion() != "9"; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  (*informer)->stop();
  EXPECT_EQ((*informer)->name(), "pods");
  auto web = (*informer)->store().byIndex(kPodsByAccount, accountKey("ns", "web"));
  ASSERT_TRUE(web.ok());
  ASSERT_EQ(web->size(), 1u);
  EXPECT_EQ((*web)[0]->meta.name(), "web-0");
  EXPECT_EQ((*informer)->store().byIndex(kPodsByAccount, "ns/default")->size(), 1u);
  EXPECT_EQ((*informer)->store().byIndex(kPodsByAccount, "other/web")->size(), 1u);
}

}  // namespace
}  // namespace saguard::cache
