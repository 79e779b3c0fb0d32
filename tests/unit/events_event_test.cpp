// The API's rules for an events.k8s.io/v1 Event: where it goes, how long its note may
// be, how its times and name are written, and its JSON.
#include "events/event.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace saguard::events {
namespace {

using nlohmann::json;
using namespace std::chrono;

WallTime at(std::int64_t seconds, std::int64_t micros = 0) {
  return WallTime(
      duration_cast<WallTime::duration>(std::chrono::seconds(seconds) + microseconds(micros)));
}

bool isDnsSubdomain(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string label =
        name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 253) return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    if (label.front() == '-' || label.back() == '-') return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

TEST(EventsEvent, ClusterScopedObjectsGoToDefault) {
  EXPECT_EQ(eventNamespace({"v1", "ServiceAccount", "team-a", "default", "", ""}), "team-a");
  EXPECT_EQ(
      eventNamespace({"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "admins", "", ""}),
      "default");
  EXPECT_EQ(eventNamespace(policyRef("p")), "default");
}

TEST(EventsEvent, MicroTimeHasSixFractionDigitsInUtc) {
  EXPECT_EQ(formatMicroTime(at(0)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(formatMicroTime(at(1714557600, 250000)), "2024-05-01T10:00:00.250000Z");
  EXPECT_EQ(formatMicroTime(at(951782400 - 1, 999999)), "2000-02-28T23:59:59.999999Z");
  // Nanoseconds are cut, not rounded.
  EXPECT_EQ(formatMicroTime(at(1714557600) + nanoseconds(1999)), "2024-05-01T10:00:00.000001Z");
  EXPECT_EQ(formatMicroTime(at(-1, 500000)), "1969-12-31T23:59:59.500000Z");
}

TEST(EventsEvent, ShortNotesAreUnchanged) {
  EXPECT_EQ(truncateNote("set automountServiceAccountToken to false"),
            "set automountServiceAccountToken to false");
  std::string exact(kMaxNoteBytes, 'x');
  EXPECT_EQ(truncateNote(exact), exact);
  EXPECT_EQ(truncateNote("caf\xC3\xA9 \xE2\x9C\x93"), "caf\xC3\xA9 \xE2\x9C\x93");
}

TEST(EventsEvent, LongNotesAreCutToOneKibibyte) {
  std::string note(5000, 'a');
  std::string cut = truncateNote(note);
  EXPECT_EQ(cut.size(), kMaxNoteBytes);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  EXPECT_EQ(cut.substr(0, 1021), std::string(1021, 'a'));
}

TEST(EventsEvent, CutNeverSplitsACharacter) {
  // 1020 ASCII bytes, then 3-byte characters: the cut at 1021 would fall inside one.
  std::string note(1020, 'a');
  for (int i = 0; i < 10; ++i) note += "\xE2\x9C\x93";
  std::string cut = truncateNote(note);
  EXPECT_LE(cut.size(), kMaxNoteBytes);
  EXPECT_EQ(cut, std::string(1020, 'a') + "...");
  EXPECT_NO_THROW(json(cut).dump());
}

TEST(EventsEvent, InvalidUtf8BecomesQuestionMarks) {
  EXPECT_EQ(truncateNote("a\xFF"
                         "b\xC3"),
            "a?b?");
  EXPECT_EQ(truncateNote("\xED\xA0\x80"), "???");  // a UTF-16 surrogate
  EXPECT_EQ(truncateNote("\xC0\xAF"), "??");       // an overlong '/'
}

TEST(EventsEvent, NamesFollowClientGoAndAreDnsSubdomains) {
  EXPECT_EQ(eventName("default", 0x17ab), "default.17ab");
  EXPECT_EQ(eventName("system:basic-user", 0xff), "system-basic-user.ff");
  EXPECT_EQ(eventName("My_Binding", 1), "my-binding.1");
  EXPECT_EQ(eventName("a..b.-c-", 1), "a.b.c.1");
  EXPECT_EQ(eventName(":::", 1), "event.1");
  for (const std::string& name : {std::string("system:controller:foo"), std::string(300, 'z'),
                                  std::string(250, 'a') + ".b", std::string(235, 'a') + "-bbbb"}) {
    std::string out = eventName(name, 0x123456789abcdef0ULL);
    EXPECT_TRUE(isDnsSubdomain(out)) << out;
    EXPECT_LE(out.size(), kMaxNameBytes);
    EXPECT_EQ(out.substr(out.size() - 17), ".123456789abcdef0");
  }
}

Event sampleEvent() {
  Event event;
  event.namespace_ = "team-a";
  event.name = "default.17ab";
  event.eventTime = at(1714557600, 123456);
  event.reportingInstance = "saguard-7d9f-abc12";
  event.action = "Patch";
  event.reason = "AutomountDisabled";
  event.note = "set automountServiceAccountToken to false";
  event.type = EventType::Normal;
  event.regarding = {"v1", "ServiceAccount", "team-a", "default", "u-1", "99"};
  return event;
}

TEST(EventsEvent, JsonIsAnEventsV1Event) {
  json body = json::parse(toJson(sampleEvent()));
  EXPECT_EQ(body["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(body["kind"], "Event");
  EXPECT_EQ(body["metadata"], (json{{"name", "default.17ab"}, {"namespace", "team-a"}}));
  EXPECT_EQ(body["eventTime"], "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(body["reportingController"], "saguard.io/controller");
  EXPECT_EQ(body["reportingInstance"], "saguard-7d9f-abc12");
  EXPECT_EQ(body["action"], "Patch");
  EXPECT_EQ(body["reason"], "AutomountDisabled");
  EXPECT_EQ(body["note"], "set automountServiceAccountToken to false");
  EXPECT_EQ(body["type"], "Normal");
  EXPECT_EQ(body["regarding"], (json{{"apiVersion", "v1"},
                                     {"kind", "ServiceAccount"},
                                     {"namespace", "team-a"},
                                     {"name", "default"},
                                     {"uid", "u-1"},
                                     {"resourceVersion", "99"}}));
  EXPECT_FALSE(body.contains("series"));
  EXPECT_FALSE(body.contains("related"));
  // Fields the events.k8s.io/v1 API refuses on create.
  EXPECT_FALSE(body.contains("deprecatedCount"));
  EXPECT_FALSE(body.contains("deprecatedSource"));
}

TEST(EventsEvent, JsonLeavesOutEmptyOptionalFields) {
  Event event = sampleEvent();
  event.namespace_ = "default";
  event.regarding = {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "admins", "", ""};
  event.related = ObjectRef{"v1", "ServiceAccount", "team-a", "default", "", ""};
  event.series = Series{3, at(1714557660)};
  json body = json::parse(toJson(event));
  EXPECT_EQ(body["regarding"], (json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                     {"kind", "ClusterRoleBinding"},
                                     {"name", "admins"}}));
  EXPECT_EQ(body["related"]["namespace"], "team-a");
  EXPECT_EQ(body["series"],
            (json{{"count", 3}, {"lastObservedTime", "2024-05-01T10:01:00.000000Z"}}));
}

TEST(EventsEvent, SeriesPatchSetsOnlyTheSeries) {
  json patch = json::parse(seriesPatch(Series{7, at(1714557600, 5)}));
  EXPECT_EQ(
      patch,
      (json{{"series", {{"count", 7}, {"lastObservedTime", "2024-05-01T10:00:00.000005Z"}}}}));
}

}  // namespace
}  // namespace saguard::events
