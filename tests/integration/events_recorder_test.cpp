// The event recorder against a real API server: Events land in events.k8s.io/v1 as
// the API expects them (repeats as one Event with a series, cluster-scoped objects in
// `default`, an expired Event re-created), and the real sink reports the error kinds
// the recorder's retry logic relies on.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "events/recorder.h"
#include "events/sink.h"
#include "integration/support/controlplane_env.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace saguard::testing {
namespace {

using nlohmann::json;
using namespace saguard::events;

class EventsIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = kube::loadConfig({.kubeconfig = controlPlane().kubeconfig});
    ASSERT_TRUE(config.ok()) << config.error().describe();
    auto client = kube::makeRestClient(*config);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    client_ = std::move(client).value();
    sink_ = std::make_unique<ClientEventSink>(*client_);
  }

  std::unique_ptr<QueuedEventRecorder> startRecorder(const std::string& instance) {
    RecorderOptions options;
    options.reportingInstance = instance;
    options.retryBackoff = std::chrono::milliseconds(100);
    auto recorder = makeRecorder(*sink_, SteadyClock::instance(), options);
    EXPECT_TRUE(recorder.ok());
    return std::move(recorder).value();
  }

  // The object kubectl created, as JSON.
  static json create(const std::string& args) {
    auto out = kubectl("create -o json " + args);
    EXPECT_EQ(out.exitCode, 0) << out.err;
    return out.exitCode == 0 ? json::parse(out.out) : json::object();
  }

  static ObjectRef refOf(const json& object, const std::string& apiVersion,
                         const std::string& kind) {
    const json& meta = object["metadata"];
    return ObjectRef{apiVersion,
                     kind,
                     meta.value("namespace", ""),
                     meta.value("name", ""),
                     meta.value("uid", ""),
                     meta.value("resourceVersion", "")};
  }

  // saguard's events.k8s.io/v1 Events in `ns` about the object named `regardingName`.
  static std::vector<json> eventsAbout(const std::string& ns, const std::string& regardingName) {
    auto out = kubectl("get events.events.k8s.io -n " + ns + " -o json");
    EXPECT_EQ(out.exitCode, 0) << out.err;
    std::vector<json> found;
    if (out.exitCode != 0) return found;
    json list = json::parse(out.out);
    for (const auto& item : list["items"]) {
      if (item.value("reportingController", "") != "saguard.io/controller") continue;
      if (item["regarding"].value("name", "") != regardingName) continue;
      found.push_back(item);
    }
    return found;
  }

  static const json* withReason(const std::vector<json>& events, const std::string& reason) {
    for (const auto& e : events) {
      if (e.value("reason", "") == reason) return &e;
    }
    return nullptr;
  }

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<ClientEventSink> sink_;
};

TEST_F(EventsIntegration, RepeatsBecomeOneEventWithASeries) {
  std::string ns = freshNamespace("events-series");
  json account = create("serviceaccount app -n " + ns);
  ObjectRef regarding = refOf(account, "v1", "ServiceAccount");
  auto recorder = startRecorder("events-it-series");

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(recorder
                    ->emit(regarding, Reason::AutomountDisabled,
                           "set automountServiceAccountToken to false")
                    .ok());
  }
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  auto stats = recorder->stats();
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.patched, 2u);
  EXPECT_EQ(stats.failed, 0u);

  auto events = eventsAbout(ns, "app");
  ASSERT_EQ(events.size(), 1u);
  const json& e = events[0];
  EXPECT_EQ(e["metadata"]["namespace"], ns);
  EXPECT_EQ(e["series"]["count"], 3) << e.dump(2);
  EXPECT_FALSE(e["series"].value("lastObservedTime", "").empty());
  EXPECT_EQ(e["reportingInstance"], "events-it-series");
  EXPECT_EQ(e["action"], "Patch");
  EXPECT_EQ(e["reason"], "AutomountDisabled");
  EXPECT_EQ(e["type"], "Normal");
  EXPECT_EQ(e["note"], "set automountServiceAccountToken to false");
  EXPECT_EQ(e["regarding"]["kind"], "ServiceAccount");
  EXPECT_EQ(e["regarding"]["uid"], regarding.uid);
  // MicroTime: the server keeps the microseconds it was given.
  std::string eventTime = e.value("eventTime", "");
  ASSERT_EQ(eventTime.size(), 27u) << eventTime;
  EXPECT_EQ(eventTime[19], '.');

  // Another reason about the same account is another Event.
  ASSERT_TRUE(recorder
                  ->emit(regarding, Reason::DriftReverted,
                         "someone set it back to true; set to false again")
                  .ok());
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  events = eventsAbout(ns, "app");
  ASSERT_EQ(events.size(), 2u);
  const json* drift = withReason(events, "DriftReverted");
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ((*drift)["type"], "Warning");
  EXPECT_FALSE(drift->contains("series"));
  const json* disabled = withReason(events, "AutomountDisabled");
  ASSERT_NE(disabled, nullptr);
  EXPECT_EQ((*disabled)["series"]["count"], 3);
}

TEST_F(EventsIntegration, ClusterRoleBindingEventLandsInDefault) {
  std::string ns = freshNamespace("events-crb");
  ASSERT_TRUE(eventually(
      10'000, [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; }));
  json account = json::parse(kubectl("get serviceaccount default -o json -n " + ns).out);
  // A colon, as in many RBAC names: not allowed in an Event's name.
  std::string bindingName = "saguard-events:" + ns;
  json binding = create("clusterrolebinding " + bindingName +
                        " --clusterrole=view --serviceaccount=" + ns + ":default");
  auto recorder = startRecorder("events-it-crb");

  ASSERT_TRUE(recorder
                  ->emit(refOf(binding, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                         Reason::BindingGrantsSelectedAccount,
                         "grants ClusterRole view to " + ns + "/default",
                         refOf(account, "v1", "ServiceAccount"))
                  .ok());
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  EXPECT_EQ(recorder->stats().created, 1u);

  auto events = eventsAbout("default", bindingName);
  ASSERT_EQ(events.size(), 1u);
  const json& e = events[0];
  EXPECT_EQ(e["metadata"]["namespace"], "default");
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("saguard-events-" + ns + ".", 0), 0u)
      << e["metadata"]["name"];
  EXPECT_EQ(e["regarding"]["kind"], "ClusterRoleBinding");
  EXPECT_FALSE(e["regarding"].contains("namespace"));
  EXPECT_EQ(e["related"]["name"], "default");
  EXPECT_EQ(e["related"]["namespace"], ns);
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_TRUE(eventsAbout(ns, bindingName).empty());
}

TEST_F(EventsIntegration, DeletedEventIsRecreatedWithItsSeries) {
  std::string ns = freshNamespace("events-expired");
  ObjectRef regarding{"v1",    "Pod", ns,
                      "web-0", "",    ""};  // Events may be about objects not (yet) there
  auto recorder = startRecorder("events-it-expired");

  ASSERT_TRUE(
      recorder->emit(regarding, Reason::TokenMounted, "recreate the pod to drop its token").ok());
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  auto events = eventsAbout(ns, "web-0");
  ASSERT_EQ(events.size(), 1u);
  std::string firstName = events[0]["metadata"]["name"];
  auto removed = kubectl("delete events.events.k8s.io " + firstName + " -n " + ns);
  ASSERT_EQ(removed.exitCode, 0) << removed.err;

  ASSERT_TRUE(
      recorder->emit(regarding, Reason::TokenMounted, "recreate the pod to drop its token").ok());
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  events = eventsAbout(ns, "web-0");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0]["metadata"]["name"], firstName);
  EXPECT_EQ(events[0]["series"]["count"], 2);
  auto stats = recorder->stats();
  EXPECT_EQ(stats.created, 2u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(EventsIntegration, LongNotesAreAccepted) {
  std::string ns = freshNamespace("events-note");
  auto recorder = startRecorder("events-it-note");
  std::string note;
  while (note.size() < 3000) note += "pod holds a token \xE2\x9C\x93 ";
  ASSERT_TRUE(
      recorder->emit(ObjectRef{"v1", "Pod", ns, "big", "", ""}, Reason::PodOverridesPolicy, note)
          .ok());
  ASSERT_TRUE(recorder->flush(std::chrono::seconds(30)));
  EXPECT_EQ(recorder->stats().failed, 0u);
  auto events = eventsAbout(ns, "big");
  ASSERT_EQ(events.size(), 1u);
  std::string stored = events[0]["note"];
  EXPECT_LE(stored.size(), 1024u);
  EXPECT_GT(stored.size(), 1000u);
  EXPECT_EQ(stored.substr(stored.size() - 3), "...");
}

TEST_F(EventsIntegration, SinkReportsTheErrorKindsTheRecorderRetriesOn) {
  std::string ns = freshNamespace("events-sink");
  Event event;
  event.namespace_ = ns;
  event.name = "direct.1";
  event.eventTime = std::chrono::system_clock::now();
  event.reportingInstance = "events-it-sink";
  event.action = "Report";
  event.reason = "TokenMounted";
  event.note = "n";
  event.type = EventType::Warning;
  event.regarding = {"v1", "Pod", ns, "direct", "", ""};
  ASSERT_TRUE(sink_->create(event).ok());
  EXPECT_TRUE(sink_->create(event).is(ErrorKind::AlreadyExists));
  EXPECT_TRUE(sink_->patchSeries(ns, "missing.1", Series{2, std::chrono::system_clock::now()})
                  .is(ErrorKind::NotFound));
  ASSERT_TRUE(sink_->patchSeries(ns, "direct.1", Series{2, std::chrono::system_clock::now()}).ok());
  auto direct = eventsAbout(ns, "direct");
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(direct[0]["series"]["count"], 2);

  // Why Events about cluster-scoped objects go to `default`: anywhere else is refused.
  Event elsewhere = event;
  elsewhere.name = "direct.2";
  elsewhere.reason = "BindingGrantsSelectedAccount";
  elsewhere.regarding = {
      "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "some-binding", "", ""};
  Status refused = sink_->create(elsewhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.kind(), ErrorKind::Invalid) << refused.error().describe();
}

}  // namespace
}  // namespace saguard::testing
