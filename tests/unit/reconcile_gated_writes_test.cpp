// The one write path: patches, status writes and Events pass the write gate, which
// refuses every one of them while this replica does not lead.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "leader/write_gate.h"
#include "reconcile/gated_writes.h"

namespace saguard::reconcile {
namespace {

class Recording final : public ClusterWriter, public events::EventSink {
 public:
  Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                       std::string_view) override {
    writes.push_back("patch " + std::string(ns) + "/" + std::string(name));
    return std::string("7");
  }
  Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                      std::string_view) override {
    writes.push_back("use-day " + std::string(ns) + "/" + std::string(name) + " " +
                     std::string(day));
    return {};
  }
  Status patchPolicyStatus(std::string_view name, const std::string&) override {
    writes.push_back("status " + std::string(name));
    return {};
  }
  Status create(const events::Event& event) override {
    writes.push_back("event " + event.name);
    return {};
  }
  Status patchSeries(std::string_view, std::string_view name, const events::Series&) override {
    writes.push_back("series " + std::string(name));
    return {};
  }
  std::vector<std::string> writes;
};

void writeEverything(ClusterWriter& writer, events::EventSink& sink, std::vector<Status>& results) {
  auto patched = writer.disableAutomount("ns", "sa", "uid-1");
  results.push_back(patched.ok() ? Status() : Status(patched.error()));
  results.push_back(writer.recordUseDay("ns", "sa", "2026-12-06", "7"));
  results.push_back(writer.patchPolicyStatus("p", "{}"));
  events::Event event;
  event.namespace_ = "ns";
  event.name = "sa.1";
  results.push_back(sink.create(event));
  results.push_back(sink.patchSeries("ns", "sa.1", events::Series{}));
}

TEST(WriteGate, OpenWithoutLeaderElectionClosedForGoodOnceClosed) {
  leader::WriteGate gate;
  EXPECT_TRUE(gate.isOpen());
  EXPECT_TRUE(gate.check("anything").ok());
  gate.close();
  EXPECT_FALSE(gate.isOpen());
  Status refused = gate.check("patch of ServiceAccount ns/sa");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Unavailable);
  EXPECT_NE(refused.error().message.find("patch of ServiceAccount ns/sa"), std::string::npos);
}

TEST(GatedWrites, PassEveryWriteWhileOpen) {
  Recording inner;
  leader::WriteGate gate;
  GatedWriter writer(inner, gate);
  GatedEventSink sink(inner, gate);
  std::vector<Status> results;
  writeEverything(writer, sink, results);
  for (const Status& st : results) EXPECT_TRUE(st.ok());
  EXPECT_EQ(inner.writes, (std::vector<std::string>{"patch ns/sa", "use-day ns/sa 2026-12-06",
                                                    "status p", "event sa.1", "series sa.1"}));
}

TEST(GatedWrites, RefuseEveryWriteWhileClosed) {
  Recording inner;
  leader::WriteGate gate;
  gate.close();
  GatedWriter writer(inner, gate);
  GatedEventSink sink(inner, gate);
  std::vector<Status> results;
  writeEverything(writer, sink, results);
  ASSERT_EQ(results.size(), 5u);
  for (const Status& st : results) EXPECT_TRUE(st.is(ErrorKind::Unavailable));
  EXPECT_TRUE(inner.writes.empty());
}

}  // namespace
}  // namespace saguard::reconcile
