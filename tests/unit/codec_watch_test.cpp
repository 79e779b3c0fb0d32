// Watch event decoding: every event type, every kind, Status errors, and malformed events.
#include <gtest/gtest.h>

#include <string>

#include "codec/decoder.h"

namespace saguard::codec {
namespace {

const std::string kPodObject =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"shop","uid":"u1",)"
    R"("resourceVersion":"501","creationTimestamp":"2024-05-01T10:00:00Z","managedFields":[{"manager":"kubelet"}]},)"
    R"("spec":{"volumes":[{"name":"kube-api-access-x","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}],)"
    R"("containers":[{"name":"web","image":"nginx"}],"serviceAccountName":"web","automountServiceAccountToken":false},)"
    R"("status":{"phase":"Running"}})";

std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}";
}

TEST(WatchDecoding, AddedModifiedDeleted) {
  Decoder decoder;
  for (auto [wire, type] :
       {std::pair{"ADDED", EventType::Added}, std::pair{"MODIFIED", EventType::Modified},
        std::pair{"DELETED", EventType::Deleted}}) {
    auto ev = decoder.watchEvent<Kind::Pod>(event(wire, kPodObject));
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    EXPECT_EQ(ev->type, type);
    EXPECT_EQ(std::string(toString(ev->type)), wire);
    EXPECT_EQ(ev->object.meta.name(), "web-1");
    EXPECT_EQ(ev->object.meta.namespace_.str(), "shop");
    EXPECT_EQ(ev->object.automount, objects::Tristate::False);
    EXPECT_EQ(ev->object.token, objects::TokenVolume::Projected);
    EXPECT_EQ(ev->resourceVersion, "501");
    EXPECT_FALSE(ev->error.has_value());
  }
}

TEST(WatchDecoding, BookmarkCarriesOnlyTheResourceVersion) {
  Decoder decoder;
  // What the API server sends: an almost empty object with creationTimestamp null.
  auto ev = decoder.watchEvent<Kind::Pod>(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12345",)"
      R"("creationTimestamp":null},"spec":{"containers":null},"status":{}}})");
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  EXPECT_EQ(ev->type, EventType::Bookmark);
  EXPECT_EQ(ev->resourceVersion, "12345");
  EXPECT_FALSE(ev->initialEventsEnd);
  EXPECT_TRUE(ev->object.meta.name().empty());

  auto end = decoder.watchEvent<Kind::ServiceAccount>(
      R"({"type":"BOOKMARK","object":{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"resourceVersion":"77",)"
      R"("creationTimestamp":null,"annotations":{"k8s.io/initial-events-end":"true"}}}})");
  ASSERT_TRUE(end.ok()) << end.error().describe();
  EXPECT_TRUE(end->initialEventsEnd);
  EXPECT_EQ(end->resourceVersion, "77");

  auto missing = decoder.watchEvent<Kind::Pod>(R"({"type":"BOOKMARK","object":{"metadata":{}}})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "decoding Pod watch event: object.metadata.resourceVersion: missing");
}

TEST(WatchDecoding, ExpiredResourceVersionIsGone) {
  Decoder decoder;
  auto ev = decoder.watchEvent<Kind::Pod>(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"j("message":"too old resource version: 100 (2000)","reason":"Expired","code":410}})j");
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  EXPECT_EQ(ev->type, EventType::Error);
  ASSERT_TRUE(ev->error.has_value());
  EXPECT_EQ(ev->error->kind, ErrorKind::Gone);
  EXPECT_EQ(ev->error->httpCode, 410);
  EXPECT_EQ(ev->error->message, "too old resource version: 100 (2000)");

  // reason Gone, or only the code, mean the same.
  auto gone = decoder.watchEvent<Kind::Namespace>(
      R"({"type":"ERROR","object":{"kind":"Status","reason":"Gone","message":"gone","code":410}})");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->error->kind, ErrorKind::Gone);
  auto codeOnly = decoder.watchEvent<Kind::Namespace>(R"({"type":"ERROR","object":{"code":410}})");
  ASSERT_TRUE(codeOnly.ok());
  EXPECT_EQ(codeOnly->error->kind, ErrorKind::Gone);
  EXPECT_FALSE(codeOnly->error->message.empty());
}

TEST(WatchDecoding, OtherStatusErrorsKeepTheirKindDetailsAndCauses) {
  Decoder decoder;
  auto busy = decoder.watchEvent<Kind::Pod>(
      R"({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"slow down",)"
      R"("reason":"TooManyRequests","details":{"retryAfterSeconds":3,"causes":[)"
      R"({"reason":"FieldValueInvalid","message":"bad value","field":"spec.x"},{"reason":"Other"}]},"code":429}})");
  ASSERT_TRUE(busy.ok()) << busy.error().describe();
  ASSERT_TRUE(busy->error.has_value());
  EXPECT_EQ(busy->error->kind, ErrorKind::TooManyRequests);
  EXPECT_EQ(busy->error->retryAfter, std::chrono::milliseconds(3000));
  ASSERT_EQ(busy->error->causes.size(), 2u);
  EXPECT_EQ(busy->error->causes[0].field, "spec.x");
  EXPECT_EQ(busy->error->causes[0].message, "bad value");
  EXPECT_EQ(busy->error->causes[1].message, "Other");

  auto internal = decoder.watchEvent<Kind::Pod>(
      R"({"type":"ERROR","object":{"kind":"Status","message":"etcd is down","reason":"InternalError","code":500}})");
  ASSERT_TRUE(internal.ok());
  EXPECT_EQ(internal->error->kind, ErrorKind::Unavailable);
  EXPECT_EQ(internal->error->message, "etcd is down");

  auto badCode = decoder.watchEvent<Kind::Pod>(R"({"type":"ERROR","object":{"code":"410"}})");
  ASSERT_FALSE(badCode.ok());
  EXPECT_EQ(badCode.error().message, "decoding Pod watch event: object.code: expected integer");
}

TEST(WatchDecoding, EveryKind) {
  Decoder decoder;
  auto sa = decoder.watchEvent<Kind::ServiceAccount>(event(
      "MODIFIED",
      R"({"kind":"ServiceAccount","metadata":{"name":"default","namespace":"shop","resourceVersion":"9","labels":{"x":"1"}},"automountServiceAccountToken":true})"));
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  EXPECT_EQ(sa->object.automount, objects::Tristate::True);
  EXPECT_EQ(sa->object.labels.size(), 1u);
  EXPECT_EQ(sa->resourceVersion, "9");

  auto rb = decoder.watchEvent<Kind::RoleBinding>(event(
      "ADDED",
      R"({"kind":"RoleBinding","metadata":{"name":"rb","namespace":"shop"},"roleRef":{"kind":"Role","name":"r"},"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"shop"}]})"));
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_FALSE(rb->object.clusterScoped);
  EXPECT_EQ(rb->object.subjects.size(), 1u);

  auto crb = decoder.watchEvent<Kind::ClusterRoleBinding>(event(
      "DELETED",
      R"({"kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"kind":"ClusterRole","name":"view"}})"));
  ASSERT_TRUE(crb.ok()) << crb.error().describe();
  EXPECT_TRUE(crb->object.clusterScoped);
  EXPECT_EQ(crb->type, EventType::Deleted);

  auto ns = decoder.watchEvent<Kind::Namespace>(event(
      "ADDED", R"({"kind":"Namespace","metadata":{"name":"shop"},"status":{"phase":"Active"}})"));
  ASSERT_TRUE(ns.ok()) << ns.error().describe();
  EXPECT_EQ(ns->object.phase.str(), "Active");

  // A watch of one kind refuses objects of another.
  auto wrong = decoder.watchEvent<Kind::Namespace>(event("ADDED", kPodObject));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message,
            R"(decoding Namespace watch event: object.kind: expected "Namespace", got "Pod")");
}

TEST(WatchDecoding, ObjectBeforeTypeStillDecodes) {
  Decoder decoder;
  auto ev = decoder.watchEvent<Kind::Pod>(R"({"object":)" + kPodObject + R"(,"type":"MODIFIED"})");
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  EXPECT_EQ(ev->type, EventType::Modified);
  EXPECT_EQ(ev->object.meta.name(), "web-1");

  auto bookmark = decoder.watchEvent<Kind::Pod>(
      R"({"object":{"metadata":{"resourceVersion":"8"}},"type":"BOOKMARK"})");
  ASSERT_TRUE(bookmark.ok()) << bookmark.error().describe();
  EXPECT_EQ(bookmark->resourceVersion, "8");
}

TEST(WatchDecoding, MalformedEvents) {
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {R"({"type":"UPDATED","object":{}})", R"(type: unknown watch event type "UPDATED")"},
      {R"({"type":7,"object":{}})", "type: expected string"},
      {R"({"object":{}})", "type: missing"},
      {R"({"type":"","object":{}})", "type: missing"},
      {R"({"type":"ADDED"})", "object: missing"},
      {R"({"type":"ADDED","object":null})", "object: expected object"},
      {R"({"type":"ADDED","object":[]})", "object: expected object"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})",
       "object.metadata.namespace: missing"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"b"},"spec":{"volumes":{}}}})",
       "object.spec.volumes: expected array"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"b"},"spec":{"automountServiceAccountToken":"yes"}}})",
       "object.spec.automountServiceAccountToken: expected boolean"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"b"}},"type":"ERROR"})",
       "type: repeated key"},
      {R"({"object":{"code":410},"type":"ERROR","type":"ADDED"})", "type: repeated key"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"b"}},"object":{"code":1}})",
       "object: repeated key"},
      {R"([{"type":"ADDED"}])", "expected a JSON object"},
      {R"("ADDED")", "expected a JSON object"},
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"b"}}} {"type":"ADDED"})",
       "unexpected content after the JSON object"},
  };
  Decoder decoder;
  for (const auto& c : cases) {
    auto ev = decoder.watchEvent<Kind::Pod>(c.line);
    ASSERT_FALSE(ev.ok()) << c.line;
    EXPECT_TRUE(ev.is(ErrorKind::Invalid)) << c.line;
    EXPECT_EQ(ev.error().message, "decoding Pod watch event: " + c.message) << c.line;
  }
}

}  // namespace
}  // namespace saguard::codec
