#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/decoding.h"
#include "cache/record_traits.h"
#include "cache/reflector.h"
#include "objects/objects.h"
#include "support/api_json.h"
#include "support/proto_writer.h"
#include "support/scripted_client.h"

namespace saguard::cache {
namespace {

using namespace std::chrono_literals;
using objects::ServiceAccount;
using testing::accountJson;
using testing::bookmarkLine;
using testing::eventLine;
using testing::goneLine;
using testing::initialEventsEndLine;
using testing::listJson;
using testing::RecordingSleeper;
using testing::ScriptedClient;
using testing::statusErrorLine;
using testing::WatchScript;
using ms = std::chrono::milliseconds;

// Records what the reflector hands its target, as "replace ns/a@1 ns/b@2" and "ADDED ns/c@3".
class Recorder final : public ReflectorTarget<ServiceAccount> {
 public:
  void replace(std::vector<std::shared_ptr<const ServiceAccount>> records) override {
    std::string line = "replace";
    last.clear();
    for (const auto& r : records) {
      line += " " + keyOf(*r) + "@" + std::string(r->meta.resourceVersion());
      last.push_back(*r);
    }
    log.push_back(line);
  }
  void apply(codec::EventType type, ServiceAccount record) override {
    log.push_back(std::string(codec::toString(type)) + " " + keyOf(record) + "@" +
                  std::string(record.meta.resourceVersion()));
    last = {record};
  }
  std::vector<std::string> log;
  std::vector<ServiceAccount> last;
};

class ReflectorTest : public ::testing::Test {
 protected:
  ReflectorOptions options() {
    ReflectorOptions o;
    o.resource = kube::resources::kServiceAccounts;
    o.clock = &clock;
    o.sleeper = &sleeper;
    o.random = [this] { return random; };
    return o;
  }
  std::unique_ptr<Reflector<ServiceAccount>> make(ReflectorOptions o) {
    EXPECT_TRUE(validate(o).ok());
    Decoding<ServiceAccount> decoding = codecDecoding<codec::Kind::ServiceAccount>();
    decoding.release = [this, inner = decoding.release] {
      ++releases;
      inner();
    };
    return std::make_unique<Reflector<ServiceAccount>>(client, std::move(decoding), target,
                                                       std::move(o));
  }
  // Runs the reflector until the script is used up.
  void runToEnd(Reflector<ServiceAccount>& reflector) {
    std::stop_source stop;
    client.stopWhenExhausted(stop);
    reflector.run(stop.get_token());
  }
  std::vector<std::string> watchVersions() const {
    std::vector<std::string> out;
    for (const auto& w : client.watchCalls()) out.push_back(w.resourceVersion);
    return out;
  }

  FakeClock clock;
  ScriptedClient client{&clock};
  RecordingSleeper sleeper{clock};
  Recorder target;
  double random = 0.0;
  int releases = 0;  // calls of Decoding::release
};

std::string list10() {
  return listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")});
}

TEST_F(ReflectorTest, ListsInPagesThenWatchesFromTheListsVersion) {
  random = 0.5;
  client.pushList(listJson("ServiceAccountList", "10",
                           {accountJson("ns", "a", "1"), accountJson("ns", "b", "2")}, "page-2"));
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "c", "3")}));
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "d", "11"))}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(target.log,
            (std::vector<std::string>{"replace ns/a@1 ns/b@2 ns/c@3", "ADDED ns/d@11"}));
  auto lists = client.listCalls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].limit, 500);
  EXPECT_EQ(lists[0].continueToken, "");
  EXPECT_EQ(lists[1].limit, 500);
  EXPECT_EQ(lists[1].continueToken, "page-2");

  auto watches = client.watchCalls();
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0].resourceVersion, "10");
  EXPECT_TRUE(watches[0].allowWatchBookmarks);
  EXPECT_EQ(watches[0].timeoutSeconds, 450);  // 300 + 0.5 * (600 - 300)
  EXPECT_EQ(watches[1].resourceVersion, "11");
  EXPECT_EQ(reflector->lastResourceVersion(), "11");
  EXPECT_TRUE(reflector->listed());
  EXPECT_TRUE(sleeper.waits().empty());
  auto stats = reflector->stats();
  EXPECT_EQ(stats.lists, 1u);
  EXPECT_EQ(stats.relists, 0u);
  EXPECT_EQ(stats.events, 1u);
  EXPECT_EQ(releases, 1) << "list-sized buffers are given back once the listing is done";
}

TEST_F(ReflectorTest, WatchTimeoutIsDrawnFromTheRange) {
  ReflectorOptions o = options();
  EXPECT_EQ(detail::drawWatchTimeout(o, [] { return 0.0; }), 300);
  EXPECT_EQ(detail::drawWatchTimeout(o, [] { return 0.2; }), 360);
  EXPECT_EQ(detail::drawWatchTimeout(o, [] { return 0.99999; }), 599);
  EXPECT_EQ(detail::drawWatchTimeout(o, [] { return 1.0; }), 599) << "the upper bound is exclusive";
}

TEST_F(ReflectorTest, FramesLinesSplitAnywhereAcrossChunks) {
  client.pushList(list10());
  const std::string added =
      eventLine("ADDED", accountJson("ns", "b", "11", {{"team", "caf\xc3\xa9"}}));
  const std::string modified =
      eventLine("MODIFIED", accountJson("ns", "b", "12", {{"team", "caf\xc3\xa9"}}));
  const std::string bookmark = bookmarkLine("13");
  // Split inside the first line, inside the two bytes of "é", and with several lines per chunk.
  const auto accent = modified.find("\xc3\xa9");
  ASSERT_NE(accent, std::string::npos);
  std::vector<std::string> chunks = {added.substr(0, 17),
                                     added.substr(17) + modified.substr(0, accent + 1),
                                     modified.substr(accent + 1) + bookmark};
  client.pushWatch({.chunks = chunks, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(target.log,
            (std::vector<std::string>{"replace ns/a@1", "ADDED ns/b@11", "MODIFIED ns/b@12"}));
  ASSERT_EQ(target.last.size(), 1u);
  ASSERT_EQ(target.last[0].labels.size(), 1u);
  EXPECT_EQ(target.last[0].labels[0].second.str(), "caf\xc3\xa9");
  EXPECT_EQ(reflector->lastResourceVersion(), "13");
  EXPECT_EQ(reflector->stats().bookmarks, 1u);
}

TEST_F(ReflectorTest, ResumesFromTheLastBookmarkWithoutListing) {
  client.pushList(list10());
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "b", "11")), bookmarkLine("15")},
       .lasts = 5min});
  client.pushWatch({.chunks = {bookmarkLine("21")}, .lasts = 7min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "15", "21"}));
  EXPECT_EQ(client.listCalls().size(), 1u);
  EXPECT_TRUE(sleeper.waits().empty()) << "a watch that ends normally is resumed at once";
}

TEST_F(ReflectorTest, GoneErrorEventRelistsAndWatchesFromTheNewList) {
  client.pushList(listJson("ServiceAccountList", "10",
                           {accountJson("ns", "a", "1"), accountJson("ns", "b", "2")}));
  client.pushWatch({.chunks = {eventLine("MODIFIED", accountJson("ns", "a", "11")), goneLine()}});
  client.pushList(listJson("ServiceAccountList", "20",
                           {accountJson("ns", "a", "11"), accountJson("ns", "c", "19")}));
  client.pushWatch({.chunks = {bookmarkLine("25")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1 ns/b@2", "MODIFIED ns/a@11",
                                                  "replace ns/a@11 ns/c@19"}));
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "20", "25"}));
  EXPECT_TRUE(sleeper.waits().empty()) << "Gone is not a failure: relist at once";
  auto stats = reflector->stats();
  EXPECT_EQ(stats.lists, 2u);
  EXPECT_EQ(stats.relists, 1u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST_F(ReflectorTest, HttpGoneOnTheWatchRelistsToo) {
  client.pushList(list10());
  client.pushWatch({.end = makeError(ErrorKind::Gone, "410: too old resource version")});
  client.pushList(listJson("ServiceAccountList", "30", {}));
  client.pushWatch({.chunks = {bookmarkLine("31")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1", "replace"}));
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "30", "31"}));
  EXPECT_EQ(reflector->stats().relists, 1u);
}

TEST_F(ReflectorTest, GoneTwiceWithoutProgressIsBackedOff) {
  client.pushList(list10());
  client.pushWatch({.chunks = {goneLine()}});
  client.pushList(list10());
  client.pushWatch({.chunks = {goneLine()}});
  client.pushList(list10());
  client.pushWatch({.chunks = {bookmarkLine("12")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(client.listCalls().size(), 3u);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms}));
}

TEST_F(ReflectorTest, HttpErrorsBackOffExponentiallyUpToTheCap) {
  client.pushList(list10());
  for (int i = 0; i < 8; ++i) client.pushWatch({.end = makeError(ErrorKind::Unavailable, "503")});
  auto reflector = make(options());
  runToEnd(*reflector);

  EXPECT_EQ(sleeper.waits(),
            (std::vector<ms>{800ms, 1600ms, 3200ms, 6400ms, 12800ms, 25600ms, 30000ms, 30000ms}));
  // Every retry resumes the watch; nothing is listed again.
  EXPECT_EQ(client.listCalls().size(), 1u);
  for (const auto& rv : watchVersions()) EXPECT_EQ(rv, "10");
  auto stats = reflector->stats();
  EXPECT_EQ(stats.failures, 8u);
  ASSERT_TRUE(stats.lastFailure.has_value());
  EXPECT_EQ(stats.lastFailure->kind, ErrorKind::Unavailable);
}

TEST_F(ReflectorTest, JitterAddsUpToTheConfiguredFraction) {
  random = 0.5;
  client.pushList(list10());
  for (int i = 0; i < 3; ++i)
    client.pushWatch({.end = makeError(ErrorKind::Transport, "connection refused")});
  auto reflector = make(options());
  runToEnd(*reflector);
  // base * (1 + 0.2 * 0.5)
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{880ms, 1760ms, 3520ms}));
}

TEST_F(ReflectorTest, BackoffResetsAfterAStablePeriod) {
  client.pushList(list10());
  client.pushWatch({.end = makeError(ErrorKind::Unavailable, "503")});
  client.pushWatch({.end = makeError(ErrorKind::Unavailable, "503")});
  client.pushWatch(
      {.chunks = {bookmarkLine("11")}, .lasts = 3min});  // healthy for longer than resetAfter
  client.pushWatch({.end = makeError(ErrorKind::Unavailable, "503")});
  client.pushWatch({.end = makeError(ErrorKind::Unavailable, "503")});
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms, 1600ms, 800ms, 1600ms}));
}

TEST_F(ReflectorTest, AWatchThatEndsAtOnceWithNothingCountsAsAFailure) {
  client.pushList(list10());
  client.pushWatch({});                                // at once, nothing: failure
  client.pushWatch({});                                // again: the wait doubles
  client.pushWatch({.chunks = {bookmarkLine("11")}});  // at once but with a bookmark: fine
  client.pushWatch({.lasts = 2s});                     // nothing, but not at once: fine
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms, 1600ms}));
  auto stats = reflector->stats();
  ASSERT_TRUE(stats.lastFailure.has_value());
  EXPECT_NE(stats.lastFailure->message.find("ended at once"), std::string::npos);
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "10", "10", "11", "11"}));
}

TEST_F(ReflectorTest, RetryAfterIsHonoured) {
  client.pushList(list10());
  Error throttled = makeError(ErrorKind::TooManyRequests, "429");
  throttled.retryAfter = 7s;
  client.pushWatch({.end = throttled});
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{7000ms}));
}

TEST_F(ReflectorTest, ErrorEventOtherThanGoneBacksOffAndResumes) {
  client.pushList(list10());
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "b", "11")),
                               statusErrorLine(500, "InternalError", "etcd is sad")}});
  client.pushWatch({.chunks = {bookmarkLine("12")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms}));
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "11", "12"}));
  EXPECT_EQ(client.listCalls().size(), 1u);
  EXPECT_EQ(reflector->stats().lastFailure->httpCode, 500);
}

TEST_F(ReflectorTest, ListFailuresBackOffAndRetryTheList) {
  client.pushList(makeError(ErrorKind::Unavailable, "503"));
  client.pushList(makeError(ErrorKind::Forbidden, "RBAC says no"));
  client.pushList(list10());
  client.pushWatch({.chunks = {bookmarkLine("11")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms, 1600ms}));
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1"}));
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "11"}));
}

TEST_F(ReflectorTest, APageThatIsNotAListFailsTheWholeListing) {
  client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "1")}, "next"));
  client.pushList(std::string(
      R"({"kind":"ServiceAccountList","metadata":{"resourceVersion":"10"},"items":[{)"));
  client.pushList(list10());
  client.pushWatch({.chunks = {bookmarkLine("11")}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);
  // Only the complete listing reaches the target; the half one is dropped.
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1"}));
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms}));
}

TEST_F(ReflectorTest, MalformedObjectsAreSkippedNotFatal) {
  const std::string badItem =
      R"({"kind":"ServiceAccount","metadata":{"name":"bad","namespace":"ns","resourceVersion":7}})";
  client.pushList(listJson("ServiceAccountList", "10",
                           {accountJson("ns", "a", "1"), badItem, accountJson("ns", "b", "2")}));
  client.pushWatch(
      {.chunks =
           {eventLine(
                "MODIFIED",
                R"({"kind":"ServiceAccount","metadata":{"name":"b","namespace":"ns","labels":{"x":5}}})"),
            "{not json at all\n",
            eventLine("ADDED", R"({"kind":"ServiceAccount","metadata":{"namespace":"ns"}})"),
            eventLine("ADDED", accountJson("ns", "c", "12"))},
       .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1 ns/b@2", "ADDED ns/c@12"}));
  auto stats = reflector->stats();
  EXPECT_EQ(stats.skipped, 4u);
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(reflector->lastResourceVersion(), "12");
}

TEST_F(ReflectorTest, ADecoderThatThrowsIsAFailureNotACrash) {
  client.pushList(list10());
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "b", "11"))}});
  client.pushWatch({.chunks = {bookmarkLine("12")}, .lasts = 5min});
  Decoding<ServiceAccount> decoding = codecDecoding<codec::Kind::ServiceAccount>();
  int calls = 0;
  decoding.event = [inner = decoding.event, &calls](codec::PaddedView line) {
    if (++calls == 1) throw std::runtime_error("decoder bug");
    return inner(line);
  };
  Reflector<ServiceAccount> reflector(client, std::move(decoding), target, options());
  runToEnd(reflector);
  EXPECT_EQ(sleeper.waits(), (std::vector<ms>{800ms}));
  auto stats = reflector.stats();
  ASSERT_TRUE(stats.lastFailure.has_value());
  EXPECT_EQ(stats.lastFailure->kind, ErrorKind::Internal);
  EXPECT_NE(stats.lastFailure->message.find("decoder bug"), std::string::npos);
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "10", "12"}));
}

TEST_F(ReflectorTest, RunAgainAfterStopResumesTheWatch) {
  client.pushList(list10());
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "b", "11"))}, .lasts = 5min});
  auto reflector = make(options());
  runToEnd(*reflector);
  client.pushWatch({.chunks = {eventLine("DELETED", accountJson("ns", "b", "12"))}, .lasts = 5min});
  runToEnd(*reflector);
  EXPECT_EQ(client.listCalls().size(), 1u);
  EXPECT_EQ(target.log,
            (std::vector<std::string>{"replace ns/a@1", "ADDED ns/b@11", "DELETED ns/b@12"}));
  EXPECT_EQ(watchVersions(), (std::vector<std::string>{"10", "11", "11", "12"}));
}

TEST_F(ReflectorTest, StopDuringBackoffEndsRun) {
  client.pushList(makeError(ErrorKind::Unavailable, "503"));
  std::stop_source stop;
  // The sleeper is asked to wait; the stop arrives meanwhile.
  class StoppingSleeper final : public kube::Sleeper {
   public:
    explicit StoppingSleeper(std::stop_source& s) : s_(s) {}
    bool sleepFor(std::chrono::milliseconds, std::stop_token) override {
      ++calls;
      s_.request_stop();
      return false;
    }
    int calls = 0;

   private:
    std::stop_source& s_;
  } stopping(stop);
  ReflectorOptions o = options();
  o.sleeper = &stopping;
  auto reflector = make(o);
  reflector->run(stop.get_token());
  EXPECT_EQ(stopping.calls, 1);
  EXPECT_EQ(client.listCalls().size(), 1u);
  EXPECT_TRUE(client.watchCalls().empty());
}

// Streaming list (KEP-3157): no LIST; the watch's initial ADDED events become one listing
// at the bookmark annotated initial-events-end, and the same stream goes on as the watch.
TEST_F(ReflectorTest, StreamingListHandsTheInitialObjectsOverAsOneListingThenWatches) {
  ReflectorOptions o = options();
  o.streamingList = true;
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "a", "1")),
                  bookmarkLine("5"),  // a progress bookmark: not the end
                  eventLine("ADDED", accountJson("ns", "b", "2")), initialEventsEndLine("10"),
                  eventLine("MODIFIED", accountJson("ns", "a", "11"))},
       .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1 ns/b@2", "MODIFIED ns/a@11"}));
  EXPECT_TRUE(client.listCalls().empty());
  auto watches = client.watchCalls();
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0].sendInitialEvents, true);
  EXPECT_EQ(watches[0].resourceVersionMatch, "NotOlderThan");
  EXPECT_EQ(watches[0].resourceVersion, "");
  EXPECT_TRUE(watches[0].allowWatchBookmarks);
  // The next watch resumes from the last event, as after a list.
  EXPECT_EQ(watches[1].sendInitialEvents, std::nullopt);
  EXPECT_EQ(watches[1].resourceVersionMatch, "");
  EXPECT_EQ(watches[1].resourceVersion, "11");
  EXPECT_TRUE(reflector->listed());
  EXPECT_EQ(reflector->stats().lists, 1u);
  EXPECT_EQ(reflector->stats().events, 1u);
  EXPECT_EQ(releases, 1);
}

// Protobuf watches: the streaming list and its watch arrive as length-prefixed frames
// (split anywhere by the transport) and give the same listing as JSON lines.
TEST_F(ReflectorTest, StreamingListInProtobufFrames) {
  using saguard::testing::envelope;
  using saguard::testing::frame;
  using saguard::testing::Proto;
  using saguard::testing::watchEvent;
  auto account = [](const std::string& name, const std::string& rv) {
    Proto meta;
    meta.str(1, name).str(3, "ns").str(5, "uid-" + name).str(6, rv);
    return envelope("ServiceAccount", Proto().msg(1, meta).bytes());
  };
  Proto end;
  end.str(6, "10").entry(12, "k8s.io/initial-events-end", "true");
  const std::string stream =
      frame(watchEvent("ADDED", account("a", "1"))) +
      frame(watchEvent("ADDED", account("b", "2"))) +
      frame(watchEvent("BOOKMARK", envelope("ServiceAccount", Proto().msg(1, end).bytes()))) +
      frame(watchEvent("MODIFIED", account("a", "11")));
  std::vector<std::string> chunks;
  for (std::size_t pos = 0; pos < stream.size(); pos += 7) chunks.push_back(stream.substr(pos, 7));
  ReflectorOptions o = options();
  o.streamingList = true;
  o.protobuf = true;
  client.pushWatch({.chunks = chunks, .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1 ns/b@2", "MODIFIED ns/a@11"}));
  auto watches = client.watchCalls();
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0].accept, "application/vnd.kubernetes.protobuf;stream=watch");
  EXPECT_EQ(watches[1].accept, "application/vnd.kubernetes.protobuf;stream=watch");
  EXPECT_EQ(watches[1].resourceVersion, "11");
}

// A server (or a proxy) that cannot send protobuf answers 406: the reflector asks again at
// once in JSON and stays with JSON.
TEST_F(ReflectorTest, A406MeansJsonFromThenOn) {
  ReflectorOptions o = options();
  o.streamingList = true;
  o.protobuf = true;
  Error notAcceptable = makeError(ErrorKind::BadRequest, "406 Not Acceptable");
  notAcceptable.httpCode = 406;
  client.pushWatch({.end = notAcceptable});
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "a", "1")), initialEventsEndLine("10")},
       .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1"}));
  EXPECT_TRUE(sleeper.waits().empty());     // an answer, not a failure
  EXPECT_TRUE(client.listCalls().empty());  // still a streaming list: 406 is not "no WatchList"
  auto watches = client.watchCalls();
  ASSERT_GE(watches.size(), 3u);
  EXPECT_EQ(watches[0].accept, "application/vnd.kubernetes.protobuf;stream=watch");
  EXPECT_EQ(watches[1].accept, "");
  EXPECT_EQ(watches[1].sendInitialEvents, true);
  EXPECT_EQ(watches[2].accept, "");
}

TEST_F(ReflectorTest, AStreamingListCutShortIsDiscardedAndStartedAgain) {
  ReflectorOptions o = options();
  o.streamingList = true;
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "a", "1"))},
                    .end = makeError(ErrorKind::Transport, "reset")});
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "a", "1"))}, .lasts = 5s});
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "a", "1")),
                  eventLine("ADDED", accountJson("ns", "b", "2")), initialEventsEndLine("10")},
       .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  // Never half a listing, never one object twice.
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1 ns/b@2"}));
  EXPECT_EQ(sleeper.waits().size(), 2u);  // the reset, and the stream that ended early
  auto watches = client.watchCalls();
  ASSERT_GE(watches.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(watches[i].sendInitialEvents, true) << i;
}

TEST_F(ReflectorTest, AServerThatRefusesStreamingListsIsListedFromThenOn) {
  ReflectorOptions o = options();
  o.streamingList = true;
  // 1.33's answer: the WatchList feature is off.
  client.pushWatch({.end = makeError(ErrorKind::Invalid,
                                     "sendInitialEvents is forbidden for watch unless the "
                                     "WatchList feature gate is enabled")});
  client.pushList(list10());
  client.pushWatch({.chunks = {goneLine()}});  // and a relist lists too
  client.pushList(list10());
  client.pushWatch({.chunks = {bookmarkLine("12")}, .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(client.listCalls().size(), 2u);
  EXPECT_TRUE(sleeper.waits().empty());  // a refusal is an answer, not a failure
  auto watches = client.watchCalls();
  ASSERT_GE(watches.size(), 3u);
  EXPECT_EQ(watches[0].sendInitialEvents, true);
  EXPECT_EQ(watches[1].sendInitialEvents, std::nullopt);
  EXPECT_EQ(watches[1].resourceVersion, "10");
  EXPECT_EQ(watches[2].sendInitialEvents, std::nullopt);
}

TEST_F(ReflectorTest, GoneAfterAStreamingListStreamsAgain) {
  ReflectorOptions o = options();
  o.streamingList = true;
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "a", "1")),
                               initialEventsEndLine("10"), goneLine()}});
  client.pushWatch(
      {.chunks = {eventLine("ADDED", accountJson("ns", "b", "20")), initialEventsEndLine("21")},
       .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace ns/a@1", "replace ns/b@20"}));
  EXPECT_TRUE(client.listCalls().empty());
  EXPECT_EQ(reflector->stats().relists, 1u);
  auto watches = client.watchCalls();
  ASSERT_GE(watches.size(), 2u);
  EXPECT_EQ(watches[1].sendInitialEvents, true);
  EXPECT_EQ(watches[1].resourceVersion, "");
}

TEST_F(ReflectorTest, AStreamingListThatSendsAChangeBeforeItsEndIsStartedAgain) {
  ReflectorOptions o = options();
  o.streamingList = true;
  client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "a", "1")),
                               eventLine("DELETED", accountJson("ns", "a", "2"))}});
  client.pushWatch({.chunks = {initialEventsEndLine("10")}, .lasts = 5min});
  auto reflector = make(o);
  runToEnd(*reflector);
  EXPECT_EQ(target.log, (std::vector<std::string>{"replace"}));
  EXPECT_EQ(sleeper.waits().size(), 1u);
  EXPECT_NE(reflector->stats().lastFailure->message.find("DELETED before its last object"),
            std::string::npos);
}

TEST(ReflectorOptionsTest, ValidateNamesTheField) {
  ReflectorOptions o;
  EXPECT_NE(validate(o).error().message.find("reflector.resource.plural"), std::string::npos);
  o.resource = kube::resources::kPods;
  EXPECT_TRUE(validate(o).ok());
  o.pageSize = 0;
  EXPECT_NE(validate(o).error().message.find("reflector.pageSize"), std::string::npos);
  o.pageSize = 500;
  o.maxWatchTimeout = o.minWatchTimeout;
  EXPECT_NE(validate(o).error().message.find("reflector.maxWatchTimeout"), std::string::npos);
  o.maxWatchTimeout = std::chrono::seconds(600);
  o.backoff.max = std::chrono::milliseconds(10);
  EXPECT_NE(validate(o).error().message.find("reflector.backoff.max"), std::string::npos);
}

}  // namespace
}  // namespace saguard::cache
