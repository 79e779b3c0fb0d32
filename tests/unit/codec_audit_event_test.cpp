// Audit event decoding (audit.k8s.io/v1 Event and EventList) on events as a Kubernetes 1.34
// API server writes them: every field the view carries, non-resource requests, null and
// absent fields, malformed events skipped in a list, broken documents, trailing content
// after a log line, and the RequestResponse level's request and response objects, which
// must be skipped whatever they hold.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "codec/decoder.h"
#include "codec/line_framer.h"
#include "support/audit_json.h"

namespace saguard::codec {
namespace {

using objects::AuditEventView;
using test_support::eventList;
using ::testing::HasSubstr;

// 2026-12-06T22:50:08Z and 22:50:07Z in seconds since the epoch (date -u -d ... +%s).
constexpr std::int64_t kAt = 1796597408;
constexpr std::int64_t kReceived = 1796597407;

// A Metadata-level event as the API server logs it: a pod's bound token listing configmaps.
const std::string kEvent =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",)"
    R"("auditID":"2f5c6d1e-8a4b-4f0e-9c3d-7b1a2e3f4a5b","stage":"ResponseComplete",)"
    R"("requestURI":"/api/v1/namespaces/team-a/configmaps?limit=500","verb":"list",)"
    R"("user":{"username":"system:serviceaccount:team-a:web","uid":"8d7c3b2a-1f0e-4d5c-9b8a-7f6e5d4c3b2a",)"
    R"("groups":["system:serviceaccounts","system:serviceaccounts:team-a","system:authenticated"],)"
    R"("extra":{"authentication.kubernetes.io/credential-id":["JTI=6b3c9a1e-2d4f-4b6a-8c0e-1f3a5b7c9d2e"],)"
    R"("authentication.kubernetes.io/node-name":["node-1"],)"
    R"("authentication.kubernetes.io/node-uid":["4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"],)"
    R"("authentication.kubernetes.io/pod-name":["web-7d9f"],)"
    R"("authentication.kubernetes.io/pod-uid":["0b1e2d3c-4b5a-4968-8776-655443322110"]}},)"
    R"("sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.34.4",)"
    R"("objectRef":{"resource":"configmaps","namespace":"team-a","apiVersion":"v1"},)"
    R"("responseStatus":{"metadata":{},"code":200},)"
    R"("requestReceivedTimestamp":"2026-12-06T22:50:07.123456Z","stageTimestamp":"2026-12-06T22:50:08.125001Z",)"
    R"("annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"web/team-a\" of Role \"web\" to ServiceAccount \"web/team-a\""}})";

// What a test keeps of a view: owned strings, since the view dies with the callback.
struct Seen {
  std::string auditId, stage, verb, username, podName, podUid, nodeName, credentialId;
  std::string apiGroup, resource, subresource, requestUri;
  int code = 0;
  std::int64_t stageTimestamp = 0;
  std::int64_t requestReceivedTimestamp = 0;
};

Seen own(const AuditEventView& e) {
  return Seen{.auditId = std::string(e.auditId),
              .stage = std::string(e.stage),
              .verb = std::string(e.verb),
              .username = std::string(e.username),
              .podName = std::string(e.podName),
              .podUid = std::string(e.podUid),
              .nodeName = std::string(e.nodeName),
              .credentialId = std::string(e.credentialId),
              .apiGroup = std::string(e.apiGroup),
              .resource = std::string(e.resource),
              .subresource = std::string(e.subresource),
              .requestUri = std::string(e.requestUri),
              .code = e.code,
              .stageTimestamp = e.stageTimestamp,
              .requestReceivedTimestamp = e.requestReceivedTimestamp};
}

// `text` with the first `from` replaced by `to` (the test fails if `from` is not there).
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

struct ListResult {
  Result<ListMeta> meta = makeError(ErrorKind::Internal, "not run");
  std::vector<Seen> events;
  std::vector<SkippedItem> skipped;
};

ListResult decodeList(Decoder& decoder, std::string& json) {
  ListResult out;
  const std::size_t size = json.size();
  out.meta = decoder.auditEventList(
      json, AuditSink{.onEvent = [&](const AuditEventView& e) { out.events.push_back(own(e)); },
                      .onSkipped = [&](SkippedItem&& s) { out.skipped.push_back(std::move(s)); }});
  EXPECT_EQ(json.size(), size) << "the padding was not taken off again";
  return out;
}

ListResult decodeList(std::string json) {
  Decoder decoder;
  return decodeList(decoder, json);
}

struct LinesResult {
  std::vector<Status> statuses;
  std::vector<Seen> events;
};

// Each line of `stream` through a LineFramer and Decoder::auditEvent, as the log follower does.
LinesResult decodeLines(Decoder& decoder, std::string_view stream) {
  LinesResult out;
  LineFramer framer;
  auto onLine = [&](PaddedView line) {
    out.statuses.push_back(
        decoder.auditEvent(line, [&](const AuditEventView& e) { out.events.push_back(own(e)); }));
  };
  EXPECT_TRUE(framer.feed(stream, onLine).ok());
  EXPECT_TRUE(framer.finish(onLine).ok());
  return out;
}

LinesResult decodeLines(std::string_view stream) {
  Decoder decoder;
  return decodeLines(decoder, stream);
}

void expectSampleEvent(const Seen& e) {
  EXPECT_EQ(e.auditId, "2f5c6d1e-8a4b-4f0e-9c3d-7b1a2e3f4a5b");
  EXPECT_EQ(e.stage, "ResponseComplete");
  EXPECT_EQ(e.verb, "list");
  EXPECT_EQ(e.username, "system:serviceaccount:team-a:web");
  EXPECT_EQ(e.podName, "web-7d9f");
  EXPECT_EQ(e.podUid, "0b1e2d3c-4b5a-4968-8776-655443322110");
  EXPECT_EQ(e.nodeName, "node-1");
  EXPECT_EQ(e.credentialId, "JTI=6b3c9a1e-2d4f-4b6a-8c0e-1f3a5b7c9d2e");
  EXPECT_EQ(e.apiGroup, "");  // the core group has none
  EXPECT_EQ(e.resource, "configmaps");
  EXPECT_EQ(e.subresource, "");
  EXPECT_EQ(e.requestUri, "/api/v1/namespaces/team-a/configmaps?limit=500");
  EXPECT_EQ(e.code, 200);
  EXPECT_EQ(e.stageTimestamp, kAt);  // the fraction is dropped
  EXPECT_EQ(e.requestReceivedTimestamp, kReceived);
}

TEST(AuditEventDecoding, ReadsEveryFieldOfAMetadataLevelEvent) {
  auto list = decodeList(eventList({kEvent}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  EXPECT_EQ(list.meta->itemCount, 1u);
  EXPECT_EQ(list.meta->skippedCount, 0u);
  ASSERT_EQ(list.events.size(), 1u);
  expectSampleEvent(list.events[0]);

  auto lines = decodeLines(kEvent + "\n");
  ASSERT_EQ(lines.statuses.size(), 1u);
  EXPECT_TRUE(lines.statuses[0].ok()) << lines.statuses[0].error().describe();
  ASSERT_EQ(lines.events.size(), 1u);
  expectSampleEvent(lines.events[0]);
}

TEST(AuditEventDecoding, ApiGroupAndSubresource) {
  // A controller scaling a Deployment: named group, subresource, a 1.34 node-bound token.
  const std::string scale =
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1","stage":"ResponseComplete",)"
      R"("requestURI":"/apis/apps/v1/namespaces/shop/deployments/web/scale","verb":"patch",)"
      R"("user":{"username":"system:serviceaccount:shop:autoscaler","groups":["system:serviceaccounts"],)"
      R"("extra":{"authentication.kubernetes.io/credential-id":["JTI=first","JTI=second"],)"
      R"("authentication.kubernetes.io/node-name":["node-9"],"example.com/other":["ignored"]}},)"
      R"("objectRef":{"resource":"deployments","namespace":"shop","name":"web","apiGroup":"apps",)"
      R"("apiVersion":"v1","subresource":"scale"},"responseStatus":{"metadata":{},"code":403},)"
      R"("requestReceivedTimestamp":"2026-12-06T22:50:07Z","stageTimestamp":"2026-12-06T22:50:08Z"})";
  auto lines = decodeLines(scale + "\n");
  ASSERT_EQ(lines.events.size(), 1u);
  const Seen& e = lines.events[0];
  EXPECT_EQ(e.apiGroup, "apps");
  EXPECT_EQ(e.resource, "deployments");
  EXPECT_EQ(e.subresource, "scale");
  EXPECT_EQ(e.verb, "patch");
  EXPECT_EQ(e.code, 403);
  EXPECT_EQ(e.credentialId, "JTI=first");  // the first element of the list
  EXPECT_EQ(e.nodeName, "node-9");
  EXPECT_EQ(e.podName, "");  // no pod binding: no pod-name in extra
  EXPECT_EQ(e.podUid, "");
  EXPECT_EQ(e.stageTimestamp, kAt);
}

TEST(AuditEventDecoding, NonResourceRequestHasNoObjectRef) {
  const std::string version =
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"v-1","stage":"ResponseComplete",)"
      R"("requestURI":"/version?timeout=32s","verb":"get",)"
      R"("user":{"username":"system:serviceaccount:kube-system:metrics","groups":["system:authenticated"]},)"
      R"("sourceIPs":["10.0.0.9"],"userAgent":"Go-http-client/2.0","responseStatus":{"metadata":{},"code":200},)"
      R"("requestReceivedTimestamp":"2026-12-06T22:50:07.000001Z","stageTimestamp":"2026-12-06T22:50:08.000002Z",)"
      R"("annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\""}})";
  auto list = decodeList(eventList({version}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  ASSERT_EQ(list.events.size(), 1u);
  const Seen& e = list.events[0];
  EXPECT_EQ(e.resource, "");
  EXPECT_EQ(e.apiGroup, "");
  EXPECT_EQ(e.subresource, "");
  EXPECT_EQ(e.requestUri, "/version?timeout=32s");
  EXPECT_EQ(e.verb, "get");
  EXPECT_EQ(e.code, 200);
  EXPECT_EQ(e.stageTimestamp, kAt);
}

TEST(AuditEventDecoding, NullAndAbsentFieldsAreEmpty) {
  // The RequestReceived stage has no responseStatus and no objectRef for a non-resource
  // request; other producers write null.
  auto nulls = decodeLines(
      R"({"kind":"Event","auditID":"n-1","stage":"RequestReceived","requestURI":null,"verb":"get",)"
      R"("user":{"username":"system:serviceaccount:a:b","extra":{"authentication.kubernetes.io/pod-name":null,)"
      R"("authentication.kubernetes.io/pod-uid":[],"authentication.kubernetes.io/node-name":["n"]}},)"
      R"("objectRef":null,"responseStatus":{"code":null},"requestReceivedTimestamp":"2026-12-06T22:50:07Z",)"
      R"("stageTimestamp":null,"annotations":null})"
      "\n");
  ASSERT_EQ(nulls.statuses.size(), 1u);
  ASSERT_TRUE(nulls.statuses[0].ok()) << nulls.statuses[0].error().describe();
  ASSERT_EQ(nulls.events.size(), 1u);
  const Seen& n = nulls.events[0];
  EXPECT_EQ(n.auditId, "n-1");
  EXPECT_EQ(n.requestUri, "");
  EXPECT_EQ(n.podName, "");
  EXPECT_EQ(n.podUid, "");
  EXPECT_EQ(n.nodeName, "n");
  EXPECT_EQ(n.resource, "");
  EXPECT_EQ(n.code, 0);
  EXPECT_EQ(n.stageTimestamp, 0);
  EXPECT_EQ(n.requestReceivedTimestamp, kReceived);

  // Null for the whole user, extra and responseStatus; an empty timestamp string.
  auto more = decodeLines(
      R"({"auditID":"n-2","user":{"username":"alice","extra":null},"responseStatus":null,"stageTimestamp":""})"
      "\n"
      R"({"auditID":"n-3","user":null})"
      "\n");
  ASSERT_EQ(more.events.size(), 2u);
  EXPECT_EQ(more.events[0].username, "alice");
  EXPECT_EQ(more.events[0].code, 0);
  EXPECT_EQ(more.events[0].stageTimestamp, 0);
  EXPECT_EQ(more.events[1].username, "");

  // Nothing at all: an empty object is an event with every field empty (classify()
  // decides it is nobody's use).
  auto empty = decodeLines("{}\n");
  ASSERT_EQ(empty.events.size(), 1u);
  const Seen& e = empty.events[0];
  EXPECT_EQ(e.auditId + e.stage + e.verb + e.username + e.podName + e.podUid + e.nodeName +
                e.credentialId + e.apiGroup + e.resource + e.subresource + e.requestUri,
            "");
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(e.stageTimestamp, 0);
  EXPECT_EQ(e.requestReceivedTimestamp, 0);
}

TEST(AuditEventDecoding, FieldOrderDoesNotMatter) {
  // The API server writes auditID first; another producer (a log shipper re-serializing
  // the events) may sort the keys.
  auto lines = decodeLines(
      R"({"verb":"list","user":{"extra":{"authentication.kubernetes.io/pod-name":["web-7d9f"]},)"
      R"("username":"system:serviceaccount:team-a:web"},"stageTimestamp":"2026-12-06T22:50:08Z",)"
      R"("stage":"ResponseComplete","responseStatus":{"code":200,"metadata":{}},)"
      R"("objectRef":{"apiVersion":"v1","namespace":"team-a","resource":"configmaps"},)"
      R"("kind":"Event","auditID":"last"})"
      "\n");
  ASSERT_EQ(lines.events.size(), 1u);
  EXPECT_EQ(lines.events[0].auditId, "last");
  EXPECT_EQ(lines.events[0].username, "system:serviceaccount:team-a:web");
  EXPECT_EQ(lines.events[0].podName, "web-7d9f");
  EXPECT_EQ(lines.events[0].resource, "configmaps");
  EXPECT_EQ(lines.events[0].stageTimestamp, kAt);
}

TEST(AuditEventDecoding, EscapedStringsAreUnescaped) {
  auto lines = decodeLines(
      R"({"auditID":"e\u002d1","user":{"username":"system:serviceaccount:team-a:w\u0065b"},)"
      R"("requestURI":"\/api\/v1\/pods"})"
      "\n");
  ASSERT_EQ(lines.events.size(), 1u);
  EXPECT_EQ(lines.events[0].auditId, "e-1");
  EXPECT_EQ(lines.events[0].username, "system:serviceaccount:team-a:web");
  EXPECT_EQ(lines.events[0].requestUri, "/api/v1/pods");
}

// Keys are read eight bytes at a step (detail::keyOf): an escape in any byte of a short key
// or of a long one, and a key that ends on or just after a step's boundary, must read the
// same as the plain key.
TEST(AuditEventDecoding, KeysWithAnEscapeAtAnyPositionAreRead) {
  for (const std::string_view key : {"stageTimestamp", "authentication.kubernetes.io/pod-name"}) {
    for (std::size_t i = 0; i < key.size(); ++i) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(key[i]));
      const std::string escaped =
          std::string(key.substr(0, i)) + escape + std::string(key.substr(i + 1));
      const std::string event =
          replaced(kEvent, "\"" + std::string(key) + "\"", "\"" + escaped + "\"");
      auto lines = decodeLines(event + "\n");
      ASSERT_EQ(lines.events.size(), 1u) << escaped;
      expectSampleEvent(lines.events[0]);
      auto list = decodeList(eventList({event}));
      ASSERT_EQ(list.events.size(), 1u) << escaped;
      expectSampleEvent(list.events[0]);
    }
  }
  // The shortest keys and one of exactly eight bytes, as the last field of the object.
  for (const std::string_view key : {"", "a", "abcdefg", "abcdefgh", "abcdefghi"}) {
    const std::string event =
        kEvent.substr(0, kEvent.size() - 1) + ",\"" + std::string(key) + "\":\"x\"}";
    auto lines = decodeLines(event + "\n");
    ASSERT_EQ(lines.events.size(), 1u) << key;
    expectSampleEvent(lines.events[0]);
  }
}

TEST(AuditEventDecoding, AMalformedEventInAListIsSkippedAndReported) {
  const std::string kId = "2f5c6d1e-8a4b-4f0e-9c3d-7b1a2e3f4a5b";
  const std::string first = replaced(kEvent, kId, "first");
  const std::string last = replaced(kEvent, kId, "last");
  struct Case {
    std::string_view from;
    std::string_view to;
    std::string message;
    std::string name = "middle";  // the auditID, when it was read before the failure
  };
  const std::vector<Case> cases = {
      {R"("code":200)", R"("code":"x")", "items[1].responseStatus.code: expected integer"},
      {R"("code":200)", R"("code":200.5)", "items[1].responseStatus.code: expected integer"},
      {R"("code":200)", R"("code":1000)",
       "items[1].responseStatus.code: not an HTTP status code: 1000"},
      {R"("code":200)", R"("code":-1)",
       "items[1].responseStatus.code: not an HTTP status code: -1"},
      {R"("stageTimestamp":"2026-12-06T22:50:08.125001Z")", R"("stageTimestamp":"garbage")",
       R"(items[1].stageTimestamp: not an RFC 3339 time: "garbage")"},
      {R"("requestReceivedTimestamp":"2026-12-06T22:50:07.123456Z")",
       R"("requestReceivedTimestamp":"2026-02-30T00:00:00Z")",
       R"(items[1].requestReceivedTimestamp: not an RFC 3339 time: "2026-02-30T00:00:00Z")"},
      {R"("stageTimestamp":"2026-12-06T22:50:08.125001Z")", R"("stageTimestamp":1796597408)",
       "items[1].stageTimestamp: expected string"},
      {R"("verb":"list")", R"("verb":["list"])", "items[1].verb: expected string"},
      {R"("stage":"ResponseComplete")", R"("stage":true)", "items[1].stage: expected string"},
      {R"("user":{)", R"("user":"web","x":{)", "items[1].user: expected object"},
      {R"("authentication.kubernetes.io/pod-name":["web-7d9f"])",
       R"("authentication.kubernetes.io/pod-name":"web-7d9f")",
       R"(items[1].user.extra["authentication.kubernetes.io/pod-name"]: expected array)"},
      {R"("authentication.kubernetes.io/pod-uid":[")",
       R"("authentication.kubernetes.io/pod-uid":[1,")",
       R"(items[1].user.extra["authentication.kubernetes.io/pod-uid"][0]: expected string)"},
      {R"("objectRef":{"resource":"configmaps")", R"("objectRef":{"resource":7)",
       "items[1].objectRef.resource: expected string"},
      {R"("objectRef":{)", R"("objectRef":[],"x":{)", "items[1].objectRef: expected object"},
      // The kind comes before the auditID: the skipped event has no name.
      {R"("kind":"Event")", R"("kind":"Pod")", R"(items[1].kind: expected "Event", got "Pod")", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    const std::string middle = replaced(replaced(kEvent, c.from, c.to), kId, "middle");
    auto list = decodeList(eventList({first, middle, last}));
    ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
    EXPECT_EQ(list.meta->itemCount, 2u);
    EXPECT_EQ(list.meta->skippedCount, 1u);
    ASSERT_EQ(list.events.size(), 2u);
    EXPECT_EQ(list.events[0].auditId, "first");
    EXPECT_EQ(list.events[1].auditId, "last");
    Seen after = list.events[1];  // the event after the skipped one is read whole
    after.auditId = kId;
    expectSampleEvent(after);
    ASSERT_EQ(list.skipped.size(), 1u);
    EXPECT_EQ(list.skipped[0].index, 1u);
    EXPECT_EQ(list.skipped[0].name, c.name);
    EXPECT_EQ(list.skipped[0].namespace_, "");
    EXPECT_EQ(list.skipped[0].error.kind, ErrorKind::Invalid);
    EXPECT_EQ(list.skipped[0].error.message, c.message);

    // The same event alone on a log line is an Invalid error, and nothing is delivered.
    auto lines = decodeLines(middle + "\n");
    ASSERT_EQ(lines.statuses.size(), 1u);
    ASSERT_FALSE(lines.statuses[0].ok());
    EXPECT_EQ(lines.statuses[0].error().kind, ErrorKind::Invalid);
    EXPECT_EQ(lines.statuses[0].error().message, "decoding Event: " + c.message.substr(9));
    EXPECT_TRUE(lines.events.empty());
  }
}

TEST(AuditEventDecoding, ItemsThatAreNotObjectsAreSkipped) {
  auto list = decodeList(eventList({kEvent, "null", "42", R"("x")", "[]", kEvent}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  EXPECT_EQ(list.events.size(), 2u);
  ASSERT_EQ(list.skipped.size(), 4u);
  EXPECT_EQ(list.skipped[0].index, 1u);
  EXPECT_EQ(list.skipped[0].name, "");
  EXPECT_EQ(list.skipped[0].error.message, "items[1]: expected object");
  EXPECT_EQ(list.skipped[3].index, 4u);
}

TEST(AuditEventDecoding, EmptyNullAndAbsentItems) {
  for (const char* json :
       {R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[]})",
        R"({"kind":"EventList","items":null})", R"({"kind":"EventList"})", R"({})",
        R"({"apiVersion":"audit.k8s.io/v1","items":[]})"}) {
    SCOPED_TRACE(json);
    auto list = decodeList(json);
    ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
    EXPECT_EQ(list.meta->itemCount, 0u);
    EXPECT_TRUE(list.events.empty());
  }
}

TEST(AuditEventDecoding, BrokenJsonFailsTheWholeList) {
  const std::string good = eventList({kEvent, kEvent});
  for (const std::string& json : {
           good.substr(0, good.size() - 3),                        // truncated
           good.substr(0, good.size() / 2),                        // truncated mid-event
           replaced(good, "},{", "} {"),                           // a missing comma
           replaced(good, R"("verb":"list")", R"("verb":"list)"),  // an unterminated string
           replaced(good, R"("code":200)", R"("code":200,,)"),     // a stray comma
           std::string("not json at all"), std::string(""), std::string("[]"), std::string("null"),
           good + "}",                                      // an extra brace
           eventList({kEvent}) + eventList({kEvent}),       // two documents
           replaced(good, R"("items":[)", R"("items":{)"),  // items an object
       }) {
    SCOPED_TRACE(json.substr(0, 80));
    auto list = decodeList(json);
    ASSERT_FALSE(list.meta.ok());
    EXPECT_EQ(list.meta.error().kind, ErrorKind::Invalid) << list.meta.error().describe();
    EXPECT_THAT(list.meta.error().message, HasSubstr("decoding EventList"));
  }
}

TEST(AuditEventDecoding, AListOfAnotherKindIsInvalid) {
  for (const char* kind : {"PodList", "Event", "List", "eventlist"}) {
    SCOPED_TRACE(kind);
    auto list = decodeList(replaced(eventList({kEvent}), R"("kind":"EventList")",
                                    std::string(R"("kind":")") + kind + "\""));
    ASSERT_FALSE(list.meta.ok());
    EXPECT_EQ(list.meta.error().kind, ErrorKind::Invalid);
    EXPECT_THAT(list.meta.error().message, HasSubstr(R"(kind: expected "EventList")"));
    // The kind comes before the items: nothing was delivered.
    EXPECT_TRUE(list.events.empty());
  }
  // A single Event where a list belongs is not a list (and not silently empty).
  auto single = decodeList(kEvent);
  ASSERT_FALSE(single.meta.ok());
  EXPECT_EQ(single.meta.error().kind, ErrorKind::Invalid);
}

TEST(AuditEventDecoding, TrailingContentAfterALogLineIsInvalid) {
  Decoder decoder;
  for (const std::string& line : {kEvent + " x", kEvent + "{}", kEvent + kEvent, kEvent + "]",
                                  kEvent + " ,", kEvent.substr(0, kEvent.size() - 1)}) {
    SCOPED_TRACE(line.substr(line.size() - 20));
    auto lines = decodeLines(decoder, line + "\n");
    ASSERT_EQ(lines.statuses.size(), 1u);
    ASSERT_FALSE(lines.statuses[0].ok());
    EXPECT_EQ(lines.statuses[0].error().kind, ErrorKind::Invalid);
    EXPECT_THAT(lines.statuses[0].error().message, HasSubstr("decoding Event"));
    EXPECT_TRUE(lines.events.empty()) << "an event was delivered from a line that failed";
  }
  // Whitespace after the object is fine (a "\r\n" line end, trailing blanks).
  auto crlf = decodeLines(decoder, kEvent + "  \r\n" + kEvent + "\n");
  ASSERT_EQ(crlf.statuses.size(), 2u);
  EXPECT_TRUE(crlf.statuses[0].ok()) << crlf.statuses[0].error().describe();
  EXPECT_EQ(crlf.events.size(), 2u);
}

TEST(AuditEventDecoding, ALineThatIsNotAnEventIsInvalid) {
  Decoder decoder;
  for (const char* line : {"[]", "null", "42", R"("event")", R"({"kind":"PodList"})",
                           R"({"kind":"EventList","items":[]})", "{", R"({"auditID":})"}) {
    SCOPED_TRACE(line);
    auto lines = decodeLines(decoder, std::string(line) + "\n");
    ASSERT_EQ(lines.statuses.size(), 1u);
    ASSERT_FALSE(lines.statuses[0].ok());
    EXPECT_EQ(lines.statuses[0].error().kind, ErrorKind::Invalid);
    EXPECT_TRUE(lines.events.empty());
  }
}

TEST(AuditEventDecoding, AnUnpaddedLineIsInternal) {
  Decoder decoder;
  bool called = false;
  Status status = decoder.auditEvent(PaddedView(kEvent.data(), kEvent.size(), kEvent.size()),
                                     [&](const AuditEventView&) { called = true; });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Internal);
  EXPECT_FALSE(called);
}

// A RequestResponse-level event: request and response bodies that look like an event
// themselves (a SubjectAccessReview has a user and a verb; a TokenReview's status has a
// username) must not leak into the view.
const std::string kRequestResponse =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"rr-1",)"
    R"("stage":"ResponseComplete","requestURI":"/apis/authorization.k8s.io/v1/subjectaccessreviews","verb":"create",)"
    R"("user":{"username":"system:serviceaccount:team-a:web","extra":{"authentication.kubernetes.io/pod-name":["web-7d9f"]}},)"
    R"("objectRef":{"resource":"subjectaccessreviews","apiGroup":"authorization.k8s.io","apiVersion":"v1"},)"
    R"("responseStatus":{"metadata":{},"code":201},)"
    R"("requestObject":{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","stage":"Panic",)"
    R"("spec":{"user":"mallory","verb":"delete","resourceAttributes":{"verb":"delete","resource":"secrets"}},)"
    R"("user":{"username":"system:serviceaccount:evil:x","extra":{"authentication.kubernetes.io/pod-name":["evil"]}},)"
    R"("objectRef":{"resource":"secrets"},"responseStatus":{"code":500},"auditID":"forged"},)"
    R"("responseObject":{"kind":"TokenReview","status":{"user":{"username":"system:serviceaccount:evil:y"}},)"
    R"("stageTimestamp":"garbage","verb":"get","items":[1,2,3]},)"
    R"("requestReceivedTimestamp":"2026-12-06T22:50:07Z","stageTimestamp":"2026-12-06T22:50:08Z"})";

TEST(AuditEventDecoding, RequestAndResponseObjectsAreSkipped) {
  auto list = decodeList(eventList({kRequestResponse, kEvent}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  ASSERT_EQ(list.events.size(), 2u);
  for (const Seen& e : {list.events[0], decodeLines(kRequestResponse + "\n").events.at(0)}) {
    EXPECT_EQ(e.auditId, "rr-1");
    EXPECT_EQ(e.stage, "ResponseComplete");
    EXPECT_EQ(e.verb, "create");
    EXPECT_EQ(e.username, "system:serviceaccount:team-a:web");
    EXPECT_EQ(e.podName, "web-7d9f");
    EXPECT_EQ(e.resource, "subjectaccessreviews");
    EXPECT_EQ(e.apiGroup, "authorization.k8s.io");
    EXPECT_EQ(e.code, 201);
    EXPECT_EQ(e.stageTimestamp, kAt);
  }
  expectSampleEvent(list.events[1]);
}

TEST(AuditEventDecoding, HugeValuesInsideRequestObjectDoNotMatter) {
  // A ConfigMap create with a 1 MiB value, and an array nested 100,000 deep: neither is
  // read, so neither hits the string limit nor the stack.
  const int depth = 100000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  const std::string big(std::size_t{1} << 20, 'x');
  const std::string event =
      replaced(kRequestResponse, R"("requestObject":{)",
               R"("requestObject":{"data":{"big":")" + big + R"("},"nested":)" + deep + ",");
  auto list = decodeList(eventList({event, kEvent}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  ASSERT_EQ(list.events.size(), 2u);
  EXPECT_EQ(list.events[0].auditId, "rr-1");
  EXPECT_EQ(list.events[0].username, "system:serviceaccount:team-a:web");
  expectSampleEvent(list.events[1]);

  auto lines = decodeLines(event + "\n" + kEvent + "\n");
  ASSERT_EQ(lines.events.size(), 2u);
  EXPECT_EQ(lines.events[0].auditId, "rr-1");

  // The same nesting where a string belongs is a plain type error, skipped item-level.
  auto inVerb =
      decodeList(eventList({replaced(kEvent, R"("verb":"list")", R"("verb":)" + deep), kEvent}));
  ASSERT_TRUE(inVerb.meta.ok()) << inVerb.meta.error().describe();
  EXPECT_EQ(inVerb.events.size(), 1u);
  ASSERT_EQ(inVerb.skipped.size(), 1u);
  EXPECT_EQ(inVerb.skipped[0].error.message, "items[0].verb: expected string");
}

TEST(AuditEventDecoding, AKeptStringOverTheLimitIsRejected) {
  const std::string longName(kMaxFieldBytes + 1, 'a');
  auto list = decodeList(eventList({replaced(kEvent, "system:serviceaccount:team-a:web",
                                             "system:serviceaccount:team-a:" + longName),
                                    kEvent}));
  ASSERT_TRUE(list.meta.ok()) << list.meta.error().describe();
  EXPECT_EQ(list.events.size(), 1u);
  ASSERT_EQ(list.skipped.size(), 1u);
  EXPECT_THAT(list.skipped[0].error.message, HasSubstr("items[0].user.username: string of"));
}

TEST(AuditEventDecoding, ARepeatedItemsKeyIsInvalid) {
  std::string json = eventList({kEvent});
  json.insert(json.size() - 1, R"(,"items":[])");
  auto list = decodeList(json);
  ASSERT_FALSE(list.meta.ok());
  EXPECT_THAT(list.meta.error().message, HasSubstr("repeated key"));
}

TEST(AuditEventDecoding, OneDecoderForManyDocuments) {
  // A webhook keeps one decoder per connection: a large batch, then small ones, then a
  // broken one, then a good one again.
  Decoder decoder;
  std::vector<std::string> many(400, kEvent);
  std::string batch = eventList(many);
  auto big = decodeList(decoder, batch);
  ASSERT_TRUE(big.meta.ok());
  EXPECT_EQ(big.events.size(), 400u);
  for (const Seen& e : big.events) expectSampleEvent(e);

  std::string broken = eventList({kEvent}).substr(0, 100);
  EXPECT_FALSE(decodeList(decoder, broken).meta.ok());

  std::string small = eventList({kEvent});
  auto again = decodeList(decoder, small);
  ASSERT_TRUE(again.meta.ok());
  ASSERT_EQ(again.events.size(), 1u);
  expectSampleEvent(again.events[0]);

  // And lines from the same decoder, fed one byte at a time through the framer.
  LineFramer framer;
  std::vector<Seen> seen;
  const std::string stream = kEvent + "\n" + kRequestResponse + "\r\n\n" + kEvent;
  auto onLine = [&](PaddedView line) {
    Status s = decoder.auditEvent(line, [&](const AuditEventView& e) { seen.push_back(own(e)); });
    EXPECT_TRUE(s.ok()) << s.error().describe();
  };
  for (char c : stream) ASSERT_TRUE(framer.feed(std::string_view(&c, 1), onLine).ok());
  ASSERT_TRUE(framer.finish(onLine).ok());
  ASSERT_EQ(seen.size(), 3u);
  expectSampleEvent(seen[0]);
  EXPECT_EQ(seen[1].auditId, "rr-1");
  expectSampleEvent(seen[2]);
}

}  // namespace
}  // namespace saguard::codec
