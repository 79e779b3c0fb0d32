// The ingest (evidence/ingest.h): audit events as a Kubernetes 1.34 API server sends them
// (EventList batches to the webhook, JSON lines in the log file) folded into the ledger.
// What counts as a use (service accounts only, once per request, a watch at
// ResponseStarted or at ResponseComplete when the audit policy omits ResponseStarted,
// counted once), refused requests kept apart, a replayed batch that changes nothing but
// is counted again, malformed events and bodies, the metric hooks' per-call deltas, and a
// body with no room for the decoder's padding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "codec/line_framer.h"
#include "codec/padded.h"
#include "evidence/ingest.h"
#include "evidence/ledger.h"
#include "support/audit_json.h"

namespace saguard::evidence {
namespace {

using policy::AccountUse;
using test_support::eventList;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// 2026-12-06T22:50:08Z in seconds since the epoch (date -u -d ... +%s).
constexpr std::int64_t kAt = 1796597408;
constexpr std::int64_t kNextDay1am = 1796605200;  // 2026-12-07T01:00:00Z

// One audit event, as the API server writes it at level Metadata.
struct EventSpec {
  std::string auditId = "a1";
  std::string stage = "ResponseComplete";
  std::string verb = "list";
  std::string username = "system:serviceaccount:team-a:web";
  std::string groups = R"(["system:serviceaccounts","system:serviceaccounts:team-a"])";
  std::string podName = "web-1";  // empty: a token not bound to a pod
  std::string podUid = "u-1";
  std::string apiGroup{};  // "" for the core group
  std::string resource = "configmaps";
  std::string ns = "team-a";
  int code = 200;
  std::string stageTime = "2026-12-06T22:50:08.125001Z";
  std::string receivedTime = "2026-12-06T22:50:08.123456Z";
};

std::string eventJson(const EventSpec& e) {
  std::string extra;
  if (!e.podName.empty()) {
    extra = R"(,"extra":{"authentication.kubernetes.io/pod-name":[")" + e.podName +
            R"("],"authentication.kubernetes.io/pod-uid":[")" + e.podUid +
            R"("],"authentication.kubernetes.io/credential-id":["JTI=x"]})";
  }
  const std::string path = e.apiGroup.empty() ? "/api/v1" : "/apis/" + e.apiGroup + "/v1";
  const std::string apiGroup = e.apiGroup.empty() ? "" : R"("apiGroup":")" + e.apiGroup + R"(",)";
  return R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":")" +
         e.auditId + R"(","stage":")" + e.stage + R"(","requestURI":")" + path + "/namespaces/" +
         e.ns + "/" + e.resource + R"(","verb":")" + e.verb + R"(","user":{"username":")" +
         e.username + R"(","groups":)" + e.groups + extra + R"(},"objectRef":{"resource":")" +
         e.resource + R"(","namespace":")" + e.ns + R"(",)" + apiGroup +
         R"("apiVersion":"v1"},"responseStatus":{"metadata":{},"code":)" + std::to_string(e.code) +
         R"(},"requestReceivedTimestamp":")" + e.receivedTime + R"(","stageTimestamp":")" +
         e.stageTime + R"("})";
}

// A realistic batch: one account's requests at every stage, another account's, a human's
// and a node's. 5 uses, 4 ignored.
std::vector<std::string> realisticEvents() {
  return {
      // a0: an allowed get of secrets, 5 s earlier (accepted).
      eventJson({.auditId = "a0",
                 .verb = "get",
                 .resource = "secrets",
                 .stageTime = "2026-12-06T22:50:03.000001Z"}),
      // a1: RequestReceived, then ResponseComplete: counted once (1 ignored, 1 accepted).
      eventJson({.stage = "RequestReceived", .stageTime = "2026-12-06T22:50:08.123456Z"}),
      eventJson({}),
      // a2: the same pod refused a get of secrets (accepted, refused).
      eventJson({.auditId = "a2",
                 .verb = "get",
                 .resource = "secrets",
                 .code = 403,
                 .stageTime = "2026-12-06T22:50:09.000001Z"}),
      // a3: a watch from another pod: counted at ResponseStarted; its ResponseComplete,
      // five minutes later, is the same request, the same use (1 accepted, 1 ignored).
      eventJson({.auditId = "a3",
                 .stage = "ResponseStarted",
                 .verb = "watch",
                 .podName = "web-2",
                 .podUid = "u-2",
                 .stageTime = "2026-12-06T22:50:10.000001Z",
                 .receivedTime = "2026-12-06T22:50:10.000000Z"}),
      eventJson({.auditId = "a3",
                 .verb = "watch",
                 .podName = "web-2",
                 .podUid = "u-2",
                 .stageTime = "2026-12-06T22:55:10.000001Z",
                 .receivedTime = "2026-12-06T22:50:10.000000Z"}),
      // a4: a human (ignored).
      eventJson({.auditId = "a4",
                 .verb = "get",
                 .username = "alice@example.com",
                 .groups = R"(["system:authenticated"])",
                 .podName = "",
                 .resource = "pods"}),
      // a5: a kubelet (ignored: a node is not a service account).
      eventJson({.auditId = "a5",
                 .verb = "get",
                 .username = "system:node:node-1",
                 .groups = R"(["system:nodes","system:authenticated"])",
                 .podName = "",
                 .resource = "pods"}),
      // a6: another account's token not bound to a pod, in the batch group (accepted).
      eventJson({.auditId = "a6",
                 .verb = "create",
                 .username = "system:serviceaccount:team-b:batch",
                 .groups = R"(["system:serviceaccounts","system:serviceaccounts:team-b"])",
                 .podName = "",
                 .apiGroup = "batch",
                 .resource = "jobs",
                 .ns = "team-b",
                 .code = 201,
                 .stageTime = "2026-12-06T22:50:11.000001Z"}),
  };
}

// What team-a/web's record must be after realisticEvents().
AccountUse expectedWeb() {
  AccountUse use;
  use.lastUsed = kAt + 2;  // the watch's request, not its ResponseComplete
  use.lastRefused = kAt + 1;
  use.pods = {{"u-2", "web-2", kAt + 2}, {"u-1", "web-1", kAt + 1}};
  use.accesses = {{"watch", "configmaps", false, kAt + 2},
                  {"get", "secrets", true, kAt + 1},  // refused: apart from the allowed get
                  {"list", "configmaps", false, kAt},
                  {"get", "secrets", false, kAt - 5}};
  return use;
}

using HookCall = std::tuple<std::string, IngestResult, std::uint64_t>;

class RecordingHooks : public IngestHooks {
 public:
  void onEvents(const std::string& source, IngestResult result, std::uint64_t count) override {
    calls.emplace_back(source, result, count);
  }
  std::vector<HookCall> take() { return std::exchange(calls, {}); }

  std::vector<HookCall> calls;
};

TEST(Ingest, BatchFoldsUsesAndCountsEveryEvent) {
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "webhook", &hooks);
  std::string body = eventList(realisticEvents());
  const std::string original = body;

  const WebhookAnswer answer = ingest.batch(body);
  EXPECT_EQ(answer.status, 200) << answer.message;
  EXPECT_EQ(body, original);  // the padding added in place is taken off again
  EXPECT_EQ(ingest.counts().accepted, 5U);
  EXPECT_EQ(ingest.counts().ignored, 4U);
  EXPECT_EQ(ingest.counts().malformed, 0U);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 5},
                                        HookCall{"webhook", IngestResult::Ignored, 4}));

  // Only the two service accounts are in the ledger: not the human, not the node.
  EXPECT_EQ(ledger.accounts(), 2U);
  auto web = ledger.lookup("team-a", "web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(*web, expectedWeb());
  auto batch = ledger.lookup("team-b", "batch");
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->lastUsed, kAt + 3);
  EXPECT_EQ(batch->lastRefused, 0);
  EXPECT_THAT(batch->pods, IsEmpty());
  EXPECT_THAT(batch->accesses,
              ElementsAre(AccountUse::Access{"create", "jobs.batch", false, kAt + 3}));
  EXPECT_EQ(ledger.evidenceOf("team-a", "web").lastUsed, kAt + 2);

  auto changed = ledger.takeChanged();
  ASSERT_EQ(changed.size(), 2U);
  EXPECT_EQ(changed.at("team-a/web"), expectedWeb());
  EXPECT_TRUE(changed.contains("team-b/batch"));
}

TEST(Ingest, ReplayedBatchChangesNothingButIsCounted) {
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "webhook", &hooks);
  const std::string original = eventList(realisticEvents());
  std::string body = original;
  ASSERT_EQ(ingest.batch(body).status, 200);
  const auto before = ledger.all();
  EXPECT_EQ(ledger.takeChanged().size(), 2U);
  hooks.take();

  // The API server sends a batch again when it thinks the first try failed.
  std::string replay = original;
  const WebhookAnswer answer = ingest.batch(replay);
  EXPECT_EQ(answer.status, 200) << answer.message;
  EXPECT_THAT(ledger.takeChanged(), IsEmpty());  // nothing for the store to write
  EXPECT_EQ(ledger.all(), before);
  // Events are counted per arrival.
  EXPECT_EQ(ingest.counts().accepted, 10U);
  EXPECT_EQ(ingest.counts().ignored, 8U);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 5},
                                        HookCall{"webhook", IngestResult::Ignored, 4}));

  // The same events in another order, split over two batches: still no change.
  auto events = realisticEvents();
  std::string second = eventList(std::vector<std::string>(events.rbegin(), events.rbegin() + 4));
  std::string first = eventList(std::vector<std::string>(events.begin(), events.end() - 4));
  EXPECT_EQ(ingest.batch(second).status, 200);
  EXPECT_EQ(ingest.batch(first).status, 200);
  EXPECT_THAT(ledger.takeChanged(), IsEmpty());
  EXPECT_EQ(ledger.all(), before);
}

// A watch of team-a/web's, received at 22:50:10; its response started at once and ended
// five minutes later.
std::string watchEvent(std::string auditId, std::string stage) {
  const bool started = stage == "ResponseStarted";
  return eventJson(
      {.auditId = std::move(auditId),
       .stage = std::move(stage),
       .verb = "watch",
       .stageTime = started ? "2026-12-06T22:50:10.000001Z" : "2026-12-06T22:55:10.000001Z",
       .receivedTime = "2026-12-06T22:50:10.000000Z"});
}

// One log line to the ingest, padded with spaces (codec/padded.h).
void feedLine(Ingest& ingest, std::string line) {
  const std::size_t size = line.size();
  line.append(codec::kPadding, ' ');
  ingest.line(codec::PaddedView(line.data(), size, line.size()));
}

TEST(Ingest, AWatchCountsAtResponseCompleteWhenThePolicyOmitsResponseStarted) {
  // omitStages: [RequestReceived, ResponseStarted]: a controller that only watches shows up
  // at ResponseComplete alone. It is a use, timed when the request was received.
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "webhook", &hooks);
  std::string body = eventList({watchEvent("w1", "ResponseComplete")});
  ASSERT_EQ(ingest.batch(body).status, 200);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 1}));
  auto web = ledger.lookup("team-a", "web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->lastUsed, kAt + 2);
  EXPECT_THAT(web->accesses,
              ElementsAre(AccountUse::Access{"watch", "configmaps", false, kAt + 2}));
  EXPECT_EQ(ledger.takeChanged().size(), 1U);
  // Every watch of such a source is counted, each at its end.
  body = eventList({watchEvent("w2", "ResponseComplete"), watchEvent("w3", "ResponseComplete")});
  ASSERT_EQ(ingest.batch(body).status, 200);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 2}));
  EXPECT_THAT(ledger.takeChanged(), IsEmpty());  // the same account, time and access
}

TEST(Ingest, BothStagesOfAWatchChangeTheRecordOnceAndCountOnce) {
  for (const bool completeFirst : {false, true}) {
    SCOPED_TRACE(completeFirst ? "ResponseComplete first" : "ResponseStarted first");
    Ledger ledger;
    RecordingHooks hooks;
    Ingest ingest(ledger, "log", &hooks);
    std::string started = watchEvent("w1", "ResponseStarted");
    std::string complete = watchEvent("w1", "ResponseComplete");
    std::string first = completeFirst ? complete : started;
    std::string second = completeFirst ? started : complete;
    feedLine(ingest, first);
    ASSERT_EQ(ledger.takeChanged().size(), 1U);
    const auto record = ledger.all();
    feedLine(ingest, second);
    EXPECT_THAT(ledger.takeChanged(), IsEmpty());  // nothing for the store to write
    EXPECT_EQ(ledger.all(), record);
    EXPECT_EQ(ledger.lookup("team-a", "web")->lastUsed, kAt + 2);
    // Started first: the complete repeats a counted request (ignored). Complete first (the
    // source has not seen a ResponseStarted yet): both are counted, the one double count
    // the ingest accepts (ingest.h).
    EXPECT_EQ(ingest.counts().accepted, completeFirst ? 2U : 1U);
    EXPECT_EQ(ingest.counts().ignored, completeFirst ? 0U : 1U);
    // Once a ResponseStarted was seen, every later watch's ResponseComplete is ignored.
    std::string laterStart = watchEvent("w2", "ResponseStarted");
    std::string laterComplete = watchEvent("w2", "ResponseComplete");
    feedLine(ingest, laterStart);
    feedLine(ingest, laterComplete);
    EXPECT_EQ(ingest.counts().accepted, completeFirst ? 3U : 2U);
    EXPECT_EQ(ingest.counts().ignored, completeFirst ? 1U : 2U);
  }
}

TEST(Ingest, MalformedEventIsCountedAndTheRestAccepted) {
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "webhook", &hooks);
  // A verb of the wrong type, and a timestamp that is not one.
  std::string badVerb = eventJson({.auditId = "b1", .username = "system:serviceaccount:team-a:x"});
  badVerb.replace(badVerb.find(R"("verb":"list")"), 13, R"("verb":7)");
  std::string badTime = eventJson(
      {.auditId = "b2", .username = "system:serviceaccount:team-a:y", .stageTime = "yesterday"});
  std::string body = eventList(
      {eventJson({}), badVerb,
       eventJson({.auditId = "a9", .username = "system:serviceaccount:team-c:api", .ns = "team-c"}),
       badTime});

  const WebhookAnswer answer = ingest.batch(body);
  EXPECT_EQ(answer.status, 200) << answer.message;  // sending it again would not mend it
  EXPECT_EQ(ingest.counts().accepted, 2U);
  EXPECT_EQ(ingest.counts().ignored, 0U);
  EXPECT_EQ(ingest.counts().malformed, 2U);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 2},
                                        HookCall{"webhook", IngestResult::Malformed, 2}));
  EXPECT_TRUE(ledger.lookup("team-a", "web").has_value());
  EXPECT_TRUE(ledger.lookup("team-c", "api").has_value());
  EXPECT_FALSE(ledger.lookup("team-a", "x").has_value());
  EXPECT_FALSE(ledger.lookup("team-a", "y").has_value());
}

TEST(Ingest, BodyThatIsNotAnEventListIsRefused) {
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "webhook", &hooks);
  const std::vector<std::string> bodies = {
      "not JSON at all",
      "",
      R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})",
      R"([1,2,3])",
  };
  std::uint64_t malformed = 0;
  for (const auto& text : bodies) {
    SCOPED_TRACE(text);
    std::string body = text;
    const WebhookAnswer answer = ingest.batch(body);
    EXPECT_EQ(answer.status, 400);
    EXPECT_THAT(answer.message, HasSubstr("EventList"));
    EXPECT_GT(answer.message.size(), std::string("not an audit.k8s.io/v1 EventList: ").size());
    EXPECT_EQ(ingest.counts().malformed, ++malformed);
    const auto calls = hooks.take();
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back(), (HookCall{"webhook", IngestResult::Malformed, 1}));
  }
  EXPECT_EQ(ingest.counts().accepted + ingest.counts().ignored, 0U);
  EXPECT_EQ(ledger.accounts(), 0U);

  // A body cut short after a whole event: 400, so the API server sends it again. The
  // decode streams, so the event read before the cut may already be folded in; either way
  // the batch sent again leaves the ledger as if it had come once.
  for (const std::string& tail : {std::string(), std::string(",")}) {
    Ledger fresh;
    RecordingHooks freshHooks;
    Ingest again(fresh, "webhook", &freshHooks);
    std::string cut = R"({"kind":"EventList","items":[)" + eventJson({}) + tail;
    const WebhookAnswer answer = again.batch(cut);
    EXPECT_EQ(answer.status, 400);
    EXPECT_EQ(again.counts().malformed, 1U);
    auto calls = freshHooks.take();
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back(), (HookCall{"webhook", IngestResult::Malformed, 1}));
    std::string whole = eventList({eventJson({})});
    EXPECT_EQ(again.batch(whole).status, 200);
    Ledger once;
    Ingest reference(once, "webhook");
    std::string same = eventList({eventJson({})});
    ASSERT_EQ(reference.batch(same).status, 200);
    EXPECT_EQ(fresh.all(), once.all());
  }
}

TEST(Ingest, LogLinesThroughTheLineFramer) {
  Ledger ledger;
  RecordingHooks hooks;
  Ingest ingest(ledger, "log", &hooks);
  const std::string log =
      eventJson({.stage = "RequestReceived", .stageTime = "2026-12-06T22:50:08.123456Z"}) + "\n" +
      eventJson({}) + "\r\n" + "\n" +  // a blank line is skipped by the framer
      "not JSON\n" +
      eventJson({.auditId = "a4",
                 .username = "alice@example.com",
                 .groups = R"(["system:authenticated"])",
                 .podName = ""}) +
      "\n" +
      eventJson({.auditId = "a3",
                 .stage = "ResponseStarted",
                 .verb = "watch",
                 .podName = "web-2",
                 .podUid = "u-2",
                 .stageTime = "2026-12-06T22:50:10.000001Z",
                 .receivedTime = "2026-12-06T22:50:10.000000Z"}) +
      "\n" +
      eventJson({.auditId = "a7", .username = "system:serviceaccount:team-d:last"});  // no "\n"

  codec::LineFramer framer;
  int lines = 0;
  auto onLine = [&](codec::PaddedView line) {
    ++lines;
    ingest.line(line);
  };
  // Fed in small chunks: lines do not end where chunks do.
  for (std::size_t at = 0; at < log.size(); at += 97) {
    ASSERT_TRUE(framer.feed(std::string_view(log).substr(at, 97), onLine).ok());
  }
  ASSERT_TRUE(framer.finish(onLine).ok());
  EXPECT_EQ(lines, 6);

  EXPECT_EQ(ingest.counts().accepted, 3U);
  EXPECT_EQ(ingest.counts().ignored, 2U);
  EXPECT_EQ(ingest.counts().malformed, 1U);
  // One call per line and result, each with the source label of this ingest.
  std::map<IngestResult, std::uint64_t> reported;
  for (const auto& [source, result, count] : hooks.take()) {
    EXPECT_EQ(source, "log");
    EXPECT_EQ(count, 1U);
    reported[result] += count;
  }
  EXPECT_EQ(reported, (std::map<IngestResult, std::uint64_t>{{IngestResult::Accepted, 3},
                                                             {IngestResult::Ignored, 2},
                                                             {IngestResult::Malformed, 1}}));

  auto web = ledger.lookup("team-a", "web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->lastUsed, kAt + 2);
  EXPECT_EQ(web->pods.size(), 2U);
  EXPECT_TRUE(ledger.lookup("team-d", "last").has_value());
  EXPECT_EQ(ledger.accounts(), 2U);
}

TEST(Ingest, HooksAreOptionalAndSourcesKeepTheirLabels) {
  Ledger ledger;
  Ingest quiet(ledger, "file");  // no hooks: counts only
  std::string body = eventList(realisticEvents());
  EXPECT_EQ(quiet.batch(body).status, 200);
  EXPECT_EQ(quiet.counts().accepted, 5U);

  RecordingHooks hooks;
  Ingest webhook(ledger, "webhook", &hooks);
  Ingest file(ledger, "file", &hooks);
  std::string one = eventList({eventJson({.auditId = "c1", .stageTime = "2026-12-07T01:00:00Z"})});
  std::string line =
      eventJson({.auditId = "c2", .verb = "delete", .stageTime = "2026-12-07T01:00:01Z"});
  line.reserve(line.size() + codec::kPadding);
  EXPECT_EQ(webhook.batch(one).status, 200);
  file.line(codec::PaddedView(line.data(), line.size(), line.capacity()));
  // An empty batch is answered 200 and reports nothing.
  std::string empty = eventList({});
  EXPECT_EQ(webhook.batch(empty).status, 200);
  EXPECT_THAT(hooks.take(), ElementsAre(HookCall{"webhook", IngestResult::Accepted, 1},
                                        HookCall{"file", IngestResult::Accepted, 1}));
  EXPECT_EQ(ledger.lookup("team-a", "web")->lastUsed, kNextDay1am + 1);
  EXPECT_STREQ(toString(IngestResult::Unauthenticated), "unauthenticated");
  EXPECT_STREQ(toString(IngestResult::Malformed), "malformed");
}

TEST(Ingest, BodyWithoutRoomForPaddingIsPaddedInPlace) {
  const std::string text = eventList(realisticEvents());

  // No room at all past the JSON: capacity() == size().
  std::string tight(text.begin(), text.end());
  tight.shrink_to_fit();
  ASSERT_EQ(tight.capacity(), tight.size()) << "the standard library kept slack; adjust the test";
  Ledger a;
  Ingest ingestA(a, "webhook");
  const WebhookAnswer answer = ingestA.batch(tight);
  EXPECT_EQ(answer.status, 200) << answer.message;
  EXPECT_EQ(tight, text);
  EXPECT_EQ(ingestA.counts().accepted, 5U);
  EXPECT_EQ(ingestA.counts().ignored, 4U);

  // Room short of the padding by one byte, and room enough (decoded where it is): the
  // same events either way.
  std::string almost(text.size() + codec::kPadding - 1, ' ');
  almost.shrink_to_fit();
  almost.assign(text);  // keeps the capacity
  ASSERT_EQ(almost.capacity(), text.size() + codec::kPadding - 1);
  std::string roomy = text;
  roomy.reserve(text.size() + codec::kPadding);
  Ledger b;
  Ledger c;
  Ingest ingestB(b, "webhook");
  Ingest ingestC(c, "webhook");
  EXPECT_EQ(ingestB.batch(almost).status, 200);
  EXPECT_EQ(ingestC.batch(roomy).status, 200);
  EXPECT_EQ(almost, text);
  EXPECT_EQ(roomy, text);
  EXPECT_EQ(a.all(), b.all());
  EXPECT_EQ(a.all(), c.all());
  EXPECT_EQ(a.lookup("team-a", "web"), expectedWeb());
}

}  // namespace
}  // namespace saguard::evidence
