// The protobuf decoder (codec/protobuf.h) and the watch frame splitter
// (codec/length_framer.h) on hand-written messages: every field a record takes, the
// decisions shared with the JSON decoder, lists with malformed items, every watch event
// type, and broken wire data of every sort. tests/integration/protobuf_codec_test.cpp
// compares both wire formats on the real API server's answers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/length_framer.h"
#include "codec/protobuf.h"
#include "support/proto_writer.h"

namespace saguard::codec {
namespace {

using saguard::testing::envelope;
using saguard::testing::frame;
using saguard::testing::Proto;
using saguard::testing::watchEvent;

Proto meta(std::string_view name, std::string_view ns = "shop") {
  Proto m;
  m.str(1, name).str(2, "").str(3, ns).str(5, "uid-" + std::string(name)).str(6, "42");
  return m;
}

template <Kind K>
Result<RecordOf<K>> decode(std::string_view kind, const Proto& object) {
  ProtobufDecoder decoder;
  return decoder.object<K>(envelope(kind, object.bytes()));
}

TEST(ProtobufPod, ReadsEveryFieldItKeeps) {
  Proto m = meta("web-7d9f-x2");
  m.msg(8, Proto().varint(1, 1765061400).varint(2, 5));
  m.msg(13, Proto().str(1, "Deployment").str(3, "web").boolean(6, false));
  m.msg(13, Proto()
                .str(1, "ReplicaSet")
                .str(3, "web-7d9f")
                .str(4, "u")
                .str(5, "apps/v1")
                .boolean(6, true));
  Proto spec;
  spec.msg(1, Proto().str(1, "cfg").msg(2, Proto().msg(19, Proto().str(1, "cm"))));
  spec.msg(1, Proto()
                  .str(1, "token")
                  .msg(2, Proto().msg(26, Proto()
                                              .msg(1, Proto().msg(3, Proto()))
                                              .msg(1, Proto().msg(4, Proto().str(3, "token"))))));
  spec.str(8, "web").str(9, "ignored-alias").boolean(21, false);
  auto pod = decode<Kind::Pod>("Pod", Proto().msg(1, m).msg(2, spec).msg(3, Proto().str(1, "x")));
  ASSERT_TRUE(pod.ok()) << pod.error().describe();
  EXPECT_EQ(pod->meta.name(), "web-7d9f-x2");
  EXPECT_EQ(pod->meta.namespace_.view(), "shop");
  EXPECT_EQ(pod->meta.uid(), "uid-web-7d9f-x2");
  EXPECT_EQ(pod->meta.resourceVersion(), "42");
  EXPECT_EQ(pod->creationTimestamp, 1765061400);
  EXPECT_EQ(pod->serviceAccountName.view(), "web");
  EXPECT_EQ(pod->automount, objects::Tristate::False);
  EXPECT_EQ(pod->token, objects::TokenVolume::Projected);
  EXPECT_EQ(pod->controllerKind, objects::ControllerKind::ReplicaSet);
  EXPECT_EQ(pod->controllerName(), "web-7d9f");
}

TEST(ProtobufPod, DefaultsAndTheLegacySecretRule) {
  // No account named: "default"; a secret volume named like its legacy token Secret.
  Proto spec;
  spec.msg(1, Proto().str(1, "t").msg(2, Proto().msg(6, Proto().str(1, "default-token-ab12c"))));
  auto pod = decode<Kind::Pod>("Pod", Proto().msg(1, meta("p")).msg(2, spec));
  ASSERT_TRUE(pod.ok()) << pod.error().describe();
  EXPECT_EQ(pod->serviceAccountName.view(), "default");
  EXPECT_EQ(pod->automount, objects::Tristate::Unset);
  EXPECT_EQ(pod->token, objects::TokenVolume::LegacySecret);
  EXPECT_EQ(pod->controllerKind, objects::ControllerKind::None);
  EXPECT_EQ(pod->creationTimestamp, 0);  // absent

  // The deprecated alias counts when serviceAccountName is absent; a secret of another
  // name is not a token.
  Proto alias;
  alias.str(9, "builder")
      .msg(1, Proto().msg(2, Proto().msg(6, Proto().str(1, "default-token-ab12c"))));
  pod = decode<Kind::Pod>("Pod", Proto().msg(1, meta("p")).msg(2, alias));
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(pod->serviceAccountName.view(), "builder");
  EXPECT_EQ(pod->token, objects::TokenVolume::None);
}

TEST(ProtobufServiceAccount, LabelsAnnotationsAndFieldOwners) {
  Proto m = meta("default");
  m.entry(11, "team", "b").entry(11, "app", "x").entry(11, "team", "a");  // "team" repeated
  m.entry(12, "kubectl.kubernetes.io/last-applied-configuration",
          R"({"apiVersion":"v1","kind":"ServiceAccount","automountServiceAccountToken":false})");
  m.entry(12, "saguard.io/token-last-used", "2026-12-06");
  m.entry(12, "other", "\xff not kept, not checked");
  m.msg(17,
        Proto()
            .str(1, "argocd-controller")
            .str(2, "Apply")
            .str(3, "v1")
            .str(6, "FieldsV1")
            .msg(7, Proto().str(1, R"({"f:automountServiceAccountToken":{},"f:metadata":{}})")));
  m.msg(17, Proto()
                .str(1, "kube-controller-manager")
                .str(2, "Update")
                .msg(7, Proto().str(1, R"({"f:secrets":{}})")));
  m.msg(17, Proto()
                .str(1, "kubectl-edit")
                .str(2, "Update")
                .msg(7, Proto().str(1, R"({"f:automountServiceAccountToken":{}})")));
  auto sa = decode<Kind::ServiceAccount>("ServiceAccount", Proto().msg(1, m).boolean(4, true));
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  ASSERT_EQ(sa->labels.size(), 2u);
  EXPECT_EQ(sa->labels[0].first.view(), "app");
  EXPECT_EQ(sa->labels[1].first.view(), "team");
  EXPECT_EQ(sa->labels[1].second.view(), "a");  // the last value of a repeated key
  EXPECT_EQ(sa->automount, objects::Tristate::True);
  EXPECT_EQ(sa->lastAppliedAutomount, objects::Tristate::False);
  EXPECT_EQ(sa->tokenLastUsed.view(), "2026-12-06");
  const objects::FieldOwners want{{Symbol("argocd-controller"), objects::FieldOperation::Apply},
                                  {Symbol("kubectl-edit"), objects::FieldOperation::Update}};
  EXPECT_EQ(sa->automountOwners, want);
}

TEST(ProtobufServiceAccount, AMalformedLastAppliedDeclaresNothingButBadFieldsV1Fails) {
  Proto m = meta("default");
  m.entry(12, "kubectl.kubernetes.io/last-applied-configuration", "{not json");
  auto sa = decode<Kind::ServiceAccount>("ServiceAccount", Proto().msg(1, m));
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  EXPECT_EQ(sa->lastAppliedAutomount, objects::Tristate::Unset);

  Proto bad = meta("default");
  bad.msg(17, Proto().str(1, "m").str(2, "Apply").msg(7, Proto().str(1, "[1]")));
  sa = decode<Kind::ServiceAccount>("ServiceAccount", Proto().msg(1, bad));
  ASSERT_FALSE(sa.ok());
  EXPECT_EQ(sa.error().kind, ErrorKind::Invalid);
  EXPECT_EQ(sa.error().message,
            "metadata.managedFields[0].fieldsV1: fieldsV1 is not a JSON object");
}

TEST(ProtobufBinding, SubjectsRoleRefAndScope) {
  Proto binding;
  binding.msg(1, meta("view", "shop"))
      .msg(2, Proto().str(1, "ServiceAccount").str(3, "default").str(4, "shop"))
      .msg(2, Proto().str(1, "Group").str(2, "rbac.authorization.k8s.io").str(3, "devs"))
      .msg(3, Proto().str(1, "rbac.authorization.k8s.io").str(2, "ClusterRole").str(3, "view"));
  auto rb = decode<Kind::RoleBinding>("RoleBinding", binding);
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_FALSE(rb->clusterScoped);
  EXPECT_EQ(rb->meta.namespace_.view(), "shop");
  EXPECT_EQ(rb->roleRef.kind.view(), "ClusterRole");
  EXPECT_EQ(rb->roleRef.name.view(), "view");
  ASSERT_EQ(rb->subjects.size(), 2u);
  EXPECT_EQ(rb->subjects[0].namespace_.view(), "shop");
  EXPECT_EQ(rb->subjects[1].kind.view(), "Group");
  EXPECT_TRUE(rb->subjects[1].namespace_.empty());

  // A ClusterRoleBinding keeps no namespace even when one is sent.
  auto crb = decode<Kind::ClusterRoleBinding>("ClusterRoleBinding", binding);
  ASSERT_TRUE(crb.ok()) << crb.error().describe();
  EXPECT_TRUE(crb->clusterScoped);
  EXPECT_TRUE(crb->meta.namespace_.empty());
}

TEST(ProtobufBinding, RequiredFieldsAreNamedWhenMissing) {
  auto noRef = decode<Kind::RoleBinding>("RoleBinding", Proto().msg(1, meta("rb")));
  ASSERT_FALSE(noRef.ok());
  EXPECT_EQ(noRef.error().message, "roleRef.kind: missing");
  auto noName =
      decode<Kind::RoleBinding>("RoleBinding", Proto()
                                                   .msg(1, meta("rb"))
                                                   .msg(2, Proto().str(1, "User"))
                                                   .msg(3, Proto().str(2, "Role").str(3, "r")));
  ASSERT_FALSE(noName.ok());
  EXPECT_EQ(noName.error().message, "subjects[0].name: missing");
}

TEST(ProtobufNamespace, LabelsAndPhase) {
  Proto m = meta("shop", "");
  m.entry(11, "kubernetes.io/metadata.name", "shop");
  auto ns = decode<Kind::Namespace>(
      "Namespace", Proto().msg(1, m).msg(2, Proto()).msg(3, Proto().str(1, "Terminating")));
  ASSERT_TRUE(ns.ok()) << ns.error().describe();
  EXPECT_EQ(ns->meta.name(), "shop");
  EXPECT_EQ(ns->phase.view(), "Terminating");
  ASSERT_EQ(ns->labels.size(), 1u);
}

TEST(ProtobufList, ItemsMetaAndASkippedItemThatHidesNothing) {
  Proto list;
  list.msg(1, Proto().str(1, "").str(2, "4088").str(3, "next-token").varint(4, 17));
  list.msg(2, Proto().msg(1, meta("a")));
  list.msg(2, Proto().msg(1, Proto().str(3, "shop").str(1, "\xc3\x28")));  // name not UTF-8
  list.msg(2, Proto().msg(1, Proto().str(3, "shop")));                     // no name
  list.msg(2, Proto().msg(1, meta("d")));
  ProtobufDecoder decoder;
  std::vector<std::string> names;
  std::vector<SkippedItem> skipped;
  ListSink<objects::ServiceAccount> sink{
      .onItem = [&](objects::ServiceAccount&& a) { names.emplace_back(a.meta.name()); },
      .onSkipped = [&](SkippedItem&& s) { skipped.push_back(std::move(s)); }};
  auto meta =
      decoder.list<Kind::ServiceAccount>(envelope("ServiceAccountList", list.bytes()), sink);
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->resourceVersion, "4088");
  EXPECT_EQ(meta->continueToken, "next-token");
  EXPECT_EQ(meta->remainingItemCount, 17);
  EXPECT_EQ(meta->itemCount, 2u);
  EXPECT_EQ(meta->skippedCount, 2u);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "d"}));
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].index, 1u);
  EXPECT_EQ(skipped[0].error.message, "items[1].metadata.name: a string is not UTF-8");
  EXPECT_EQ(skipped[0].namespace_, "shop");
  EXPECT_EQ(skipped[1].error.message, "items[2].metadata.name: missing");
}

TEST(ProtobufList, BrokenBodiesFailAsAWhole) {
  ProtobufDecoder decoder;
  ListSink<objects::Pod> sink{.onItem = [](objects::Pod&&) {}, .onSkipped = nullptr};
  const std::string good = Proto().msg(2, Proto().msg(1, meta("a"))).bytes();
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "not a Kubernetes protobuf message (no k8s\\0 prefix)"},
      {R"({"kind":"PodList"})", "not a Kubernetes protobuf message (no k8s\\0 prefix)"},
      {envelope("ServiceAccountList", good), "expected \"PodList\", got \"ServiceAccountList\""},
      {envelope("PodList", good).substr(0, envelope("PodList", good).size() - 3),
       "a length runs past the end of its message"},
      {std::string("k8s\0", 4) +
           Proto().msg(1, Proto().str(2, "PodList")).str(2, good).str(3, "gzip").bytes(),
       "unsupported content encoding \"gzip\""},
      {envelope("PodList", Proto().append(good).tag(5, 3).bytes()), "an unsupported wire type"},
      {envelope("PodList", Proto().append(good).tag(5, 0).append(std::string(11, '\xff')).bytes()),
       "a varint longer than 10 bytes"},
      {envelope("PodList", Proto().tag(0, 0).append("\x01").bytes()),
       "a field number out of range"},
      {envelope("PodList", Proto().fixed64(7).fixed32(8).tag(9, 1).append("abc").bytes()),
       "a fixed field runs past the end"},
      {envelope("PodList", Proto().varint(2, 5).bytes()), "items[0]: field 2 has wire type 0"},
  };
  for (const Case& c : cases) {
    auto meta = decoder.list<Kind::Pod>(c.body, sink);
    ASSERT_FALSE(meta.ok()) << c.message;
    EXPECT_EQ(meta.error().kind, ErrorKind::Invalid) << c.message;
    EXPECT_EQ(meta.error().message, c.message);
  }
}

TEST(ProtobufList, FieldsOfUnknownNumbersAndTypesAreSkipped) {
  // A newer API server's fields: every wire type, anywhere.
  Proto m = meta("a");
  m.varint(99, 7).fixed32(98).fixed64(97).str(96, "x");
  Proto pod;
  pod.msg(1, m).varint(50, 1).fixed64(51).msg(2, Proto().str(8, "web").fixed32(200));
  auto decoded = decode<Kind::Pod>("Pod", pod);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->serviceAccountName.view(), "web");
}

TEST(ProtobufList, StringsOverTheLimitAreRefused) {
  const std::string huge(kMaxFieldBytes + 1, 'a');
  auto pod = decode<Kind::Pod>("Pod", Proto().msg(1, meta("a")).msg(2, Proto().str(8, huge)));
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().message, "spec.serviceAccountName: a string exceeds the size limit");
}

TEST(ProtobufWatch, EveryEventType) {
  ProtobufDecoder decoder;
  const std::string sa = envelope("ServiceAccount", Proto().msg(1, meta("default")).bytes());
  for (auto [type, want] :
       {std::pair{"ADDED", EventType::Added}, std::pair{"MODIFIED", EventType::Modified},
        std::pair{"DELETED", EventType::Deleted}}) {
    auto event = decoder.watchEvent<Kind::ServiceAccount>(watchEvent(type, sa));
    ASSERT_TRUE(event.ok()) << event.error().describe();
    EXPECT_EQ(event->type, want);
    EXPECT_EQ(event->object.meta.name(), "default");
    EXPECT_EQ(event->resourceVersion, "42");
  }

  Proto mark;
  mark.str(6, "4088").entry(12, "k8s.io/initial-events-end", "true");
  auto bookmark = decoder.watchEvent<Kind::ServiceAccount>(
      watchEvent("BOOKMARK", envelope("ServiceAccount", Proto().msg(1, mark).bytes())));
  ASSERT_TRUE(bookmark.ok()) << bookmark.error().describe();
  EXPECT_EQ(bookmark->type, EventType::Bookmark);
  EXPECT_EQ(bookmark->resourceVersion, "4088");
  EXPECT_TRUE(bookmark->initialEventsEnd);

  Proto status;
  status.str(2, "Failure")
      .str(3, "too old resource version: 5 (4088)")
      .str(4, "Expired")
      .msg(5, Proto().varint(5, 3).msg(4, Proto().str(1, "FieldValueInvalid").str(3, "metadata")))
      .varint(6, 410);
  auto error = decoder.watchEvent<Kind::ServiceAccount>(
      watchEvent("ERROR", envelope("Status", status.bytes())));
  ASSERT_TRUE(error.ok()) << error.error().describe();
  EXPECT_EQ(error->type, EventType::Error);
  ASSERT_TRUE(error->error.has_value());
  EXPECT_EQ(error->error->kind, ErrorKind::Gone);
  EXPECT_EQ(error->error->httpCode, 410);
  EXPECT_EQ(error->error->message, "too old resource version: 5 (4088)");
  EXPECT_EQ(error->error->retryAfter, std::chrono::seconds(3));
  ASSERT_EQ(error->error->causes.size(), 1u);
  EXPECT_EQ(error->error->causes[0].field, "metadata");
}

TEST(ProtobufWatch, MalformedEventsAreInvalidAndNamed) {
  ProtobufDecoder decoder;
  const std::string pod = envelope("Pod", Proto().msg(1, meta("web-1")).bytes());
  struct Case {
    std::string frame;
    std::string message;
  };
  const std::vector<Case> cases = {
      {watchEvent("SOMETHING", pod), "type: unknown watch event type \"SOMETHING\""},
      {watchEvent("ADDED", envelope("Secret", "")),
       "object.kind: expected \"Pod\", got \"Secret\""},
      {watchEvent("ERROR", pod), "object.kind: expected \"Status\", got \"Pod\""},
      {watchEvent("ADDED", "{}"), "object: not a Kubernetes protobuf message (no k8s\\0 prefix)"},
      {watchEvent("ADDED", envelope("Pod", Proto().msg(1, Proto().str(1, "x")).bytes())),
       "object.metadata.namespace: missing"},
      {watchEvent("BOOKMARK", envelope("Pod", Proto().msg(1, Proto()).bytes())),
       "object.metadata.resourceVersion: missing"},
      {Proto().str(1, "ADDED").tag(2, 2).append("\x05").bytes(),
       "a length runs past the end of its message"},
      {"", "type: unknown watch event type \"\""},
  };
  for (const Case& c : cases) {
    auto event = decoder.watchEvent<Kind::Pod>(c.frame);
    ASSERT_FALSE(event.ok()) << c.message;
    EXPECT_EQ(event.error().kind, ErrorKind::Invalid) << c.message;
    EXPECT_EQ(event.error().message, c.message);
  }
  EXPECT_EQ(peekProtobufObjectKey(watchEvent("ADDED", pod)), "shop/web-1");
  EXPECT_EQ(peekProtobufResourceVersion(pod), "42");
  EXPECT_EQ(peekProtobufResourceVersion("{}"), "");
  EXPECT_EQ(peekProtobufObjectKey("\x01\x02"), "");
}

// --- LengthFramer ----------------------------------------------------------------------

std::vector<std::string> feedInChunks(LengthFramer& framer, std::string_view stream,
                                      std::size_t chunk, Status* status = nullptr) {
  std::vector<std::string> frames;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    Status st =
        framer.feed(stream.substr(pos, chunk), [&](std::string_view f) { frames.emplace_back(f); });
    if (!st.ok()) {
      if (status != nullptr) *status = st;
      break;
    }
  }
  return frames;
}

TEST(LengthFramer, SplitsFramesWhereverTheChunksEnd) {
  const std::vector<std::string> want = {"first", "", std::string(300, 'x'), "last"};
  std::string stream;
  for (const auto& f : want) stream += frame(f);
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    LengthFramer framer;
    EXPECT_EQ(feedInChunks(framer, stream, chunk), want) << "chunk " << chunk;
    EXPECT_EQ(framer.pendingBytes(), 0u);
  }
}

TEST(LengthFramer, KeepsAPartialFrameUntilResetAndRefusesOversizedOnes) {
  LengthFramer framer({.maxFrameBytes = 8});
  const std::string partial = frame("abcdef").substr(0, 7);
  EXPECT_TRUE(feedInChunks(framer, partial, 3).empty());
  EXPECT_EQ(framer.pendingBytes(), 7u);
  framer.reset();
  EXPECT_EQ(framer.pendingBytes(), 0u);
  EXPECT_EQ(feedInChunks(framer, frame("12345678"), 5), std::vector<std::string>{"12345678"});

  Status status;
  EXPECT_TRUE(feedInChunks(framer, frame("123456789"), 2, &status).empty());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Invalid);
  EXPECT_EQ(status.error().message, "a watch frame of 9 bytes exceeds the limit of 8");
  // Failed until reset: nothing more is framed.
  EXPECT_FALSE(framer.feed(frame("1"), [](std::string_view) {}).ok());
  framer.reset();
  EXPECT_EQ(feedInChunks(framer, frame("1"), 1), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace saguard::codec
