// The one write path: every write saguard makes to the cluster passes through one of
// these decorators, which ask the leader::WriteGate first and refuse the write
// (Unavailable, "this replica does not lead") while it is closed:
//   GatedWriter      the patch of a ServiceAccount and the status of a policy
//   GatedEventSink   Events, as the recorder's background thread writes them, so an
//                    Event queued while leading is not written after the lease is lost
//   GatedAdmissionWriter  the admission objects of a policy (reads pass)
//   GatedReportWriter     the policy reports (discovery passes)
// main wires them around the real writers (ApiWriter, events::ClientEventSink); the
// reconciler itself never asks whether it leads.
#pragma once

#include "events/sink.h"
#include "leader/write_gate.h"
#include "reconcile/admission_writer.h"
#include "reconcile/cluster_writer.h"
#include "reconcile/report_writer.h"

namespace saguard::reconcile {

class GatedWriter final : public ClusterWriter {
 public:
  GatedWriter(ClusterWriter& inner, const leader::WriteGate& gate) : inner_(inner), gate_(gate) {}

  Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                       std::string_view uid) override;
  Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                      std::string_view resourceVersion) override;
  Status patchPolicyStatus(std::string_view name, const std::string& statusJson) override;

 private:
  ClusterWriter& inner_;
  const leader::WriteGate& gate_;
};

class GatedAdmissionWriter final : public AdmissionWriter {
 public:
  GatedAdmissionWriter(AdmissionWriter& inner, const leader::WriteGate& gate)
      : inner_(inner), gate_(gate) {}

  bool mutatingServed() override { return inner_.mutatingServed(); }
  Status keep(std::string_view policyName, const policy::AdmissionPlan& plan) override;

 private:
  AdmissionWriter& inner_;
  const leader::WriteGate& gate_;
};

class GatedReportWriter final : public ReportWriter {
 public:
  GatedReportWriter(ReportWriter& inner, const leader::WriteGate& gate)
      : inner_(inner), gate_(gate) {}

  std::optional<reports::Flavour> flavour(std::string& why) override { return inner_.flavour(why); }
  Status publish(reports::Flavour flavour, const std::vector<nlohmann::json>& objects) override;

 private:
  ReportWriter& inner_;
  const leader::WriteGate& gate_;
};

class GatedEventSink final : public events::EventSink {
 public:
  GatedEventSink(events::EventSink& inner, const leader::WriteGate& gate)
      : inner_(inner), gate_(gate) {}

  Status create(const events::Event& event) override;
  Status patchSeries(std::string_view ns, std::string_view name,
                     const events::Series& series) override;

 private:
  events::EventSink& inner_;
  const leader::WriteGate& gate_;
};

}  // namespace saguard::reconcile
