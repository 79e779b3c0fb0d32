// The reconciler's reports (reconcile_reports.cpp) over an in-memory cluster and a
// ReportWriter that records what it is asked to publish: which results each policy
// keeps, when the reports key publishes, what it publishes, and the Reports condition.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reconcile/keys.h"
#include "reconcile/reconciler.h"
#include "reconcile/report_writer.h"
#include "support/fake_cluster.h"

namespace saguard::reconcile {
namespace {

using fakes::FakeCluster;
using fakes::policyJson;
using nlohmann::json;
using objects::Tristate;

class FakeReports final : public ReportWriter {
 public:
  std::optional<reports::Flavour> flavour(std::string& why) override {
    if (!served) why = "nothing is served";
    return served;
  }
  Status publish(reports::Flavour flavour, const std::vector<json>& objects) override {
    flavours.push_back(flavour);
    published.push_back(objects);
    if (failure) return *failure;
    return {};
  }

  std::optional<reports::Flavour> served;
  std::optional<Error> failure;
  std::vector<reports::Flavour> flavours;
  std::vector<std::vector<json>> published;
};

class ReconcilerReportsTest : public ::testing::Test {
 protected:
  ReconcilerReportsTest() : reconciler_(cluster_, cluster_, cluster_, options()) {
    cluster_.clock = 1796611200;  // 2026-12-07T02:40:00Z
    cluster_.addNamespace("shop");
    cluster_.addNamespace("batch");
    cluster_.addAccount("shop", "default");                 // would be disabled: fail
    cluster_.addAccount("shop", "quiet", Tristate::False);  // compliant: pass
    cluster_.addAccount("batch", "default", Tristate::False);
    cluster_.addPod("shop", "web", "default", Tristate::Unset, objects::TokenVolume::Projected);
    cluster_.addPolicy(policyJson("audit", R"({"mode":"Audit"})"));
  }
  ReconcilerOptions options() {
    ReconcilerOptions o;
    o.reports = &reports_;
    o.reportsDiscovery = std::chrono::seconds(7);
    o.resultsChanged = [this] { ++resultsChanged_; };
    o.reportsChanged = [this] { ++reportsChanged_; };
    return o;
  }
  queue::Outcome policy(const std::string& name) {
    return reconciler_.reconcile(policyWorkKey(name));
  }
  queue::Outcome publish() { return reconciler_.reconcile(std::string(kReportsWorkKey)); }
  json condition(const std::string& name) {
    const json status = json::parse(cluster_.policyRecords.at(name).statusJson);
    for (const json& c : status["conditions"]) {
      if (c["type"] == "Reports") return c;
    }
    return nullptr;
  }
  // The published object for `ns` ("" = the cluster report) in the last publication.
  json last(const std::string& ns) {
    for (const json& o : reports_.published.back()) {
      if (o["metadata"].value("namespace", "") == ns) return o;
    }
    return nullptr;
  }

  FakeCluster cluster_;
  FakeReports reports_;
  int resultsChanged_ = 0;
  int reportsChanged_ = 0;
  Reconciler reconciler_;
};

TEST_F(ReconcilerReportsTest, NothingServedIsSaidAndLookedForAgain) {
  queue::Outcome outcome = publish();
  ASSERT_EQ(outcome.result(), queue::WorkResult::RequeueAfter);
  EXPECT_EQ(outcome.after(), std::chrono::seconds(7));
  EXPECT_TRUE(reports_.published.empty());
  EXPECT_EQ(reportsChanged_, 1);  // the policies' statuses are recomputed to show it
  policy("audit");
  EXPECT_EQ(resultsChanged_, 0);  // no results are kept while nothing is served
  const json c = condition("audit");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["reason"], "NotInstalled");
  EXPECT_EQ(c["message"], "nothing is served");
  // Asked again: the same condition is no news.
  publish();
  EXPECT_EQ(reportsChanged_, 1);
}

TEST_F(ReconcilerReportsTest, PublishesOneReportPerNamespaceOwnedByThePolicies) {
  reports_.served = reports::Flavour::OpenReports;
  // Before any policy was evaluated there is nothing complete to publish: the policies
  // are asked to evaluate (a partial publication would delete their reports).
  publish();
  EXPECT_TRUE(reports_.published.empty());
  EXPECT_EQ(reportsChanged_, 1);

  policy("audit");
  EXPECT_EQ(resultsChanged_, 1);
  ASSERT_EQ(publish().result(), queue::WorkResult::RequeueAfter);  // looks again later
  ASSERT_EQ(reports_.published.size(), 1u);
  EXPECT_EQ(reports_.flavours.back(), reports::Flavour::OpenReports);
  ASSERT_EQ(reports_.published.back().size(), 2u);  // batch and shop, no cluster report
  const json shop = last("shop");
  EXPECT_EQ(shop["apiVersion"], "openreports.io/v1alpha1");
  EXPECT_EQ(shop["kind"], "Report");
  EXPECT_EQ(shop["metadata"]["name"], "saguard");
  EXPECT_EQ(shop["metadata"]["ownerReferences"],
            json::parse(R"([{"apiVersion":"saguard.io/v1alpha1","kind":"ServiceAccountPolicy",
                             "name":"audit","uid":"u-audit"}])"));
  EXPECT_EQ(shop["summary"]["fail"], 2);  // the account (Audit) and the pod holding its token
  EXPECT_EQ(shop["summary"]["pass"], 1);  // shop/quiet
  std::set<std::string> rules;
  for (const json& r : shop["results"]) rules.insert(r["rule"].get<std::string>());
  EXPECT_EQ(rules, (std::set<std::string>{"AutomountWouldBeDisabled", "TokenMounted",
                                          "AutomountDisabled"}));
  EXPECT_EQ(last("batch")["summary"]["pass"], 1);

  // Published: the condition says so, in every policy's next status.
  EXPECT_EQ(reportsChanged_, 2);
  policy("audit");
  const json c = condition("audit");
  EXPECT_EQ(c["status"], "True");
  EXPECT_EQ(c["reason"], "Published");
  EXPECT_EQ(c["message"], "2 openreports.io/v1alpha1 reports: 2 fail, 0 warn, 2 pass");

  // Nothing changed but the time: the results are kept as they were (same timestamps),
  // so the next publication renders the same objects and the writer writes nothing.
  cluster_.clock += 3600;
  policy("audit");
  EXPECT_EQ(resultsChanged_, 1);
  const std::vector<json> before = reports_.published.back();
  publish();
  EXPECT_EQ(reports_.published.back(), before);

  // A change: the pod goes.
  cluster_.pods.clear();
  policy("audit");
  EXPECT_EQ(resultsChanged_, 2);
  publish();
  EXPECT_EQ(last("shop")["summary"]["fail"], 1);
}

TEST_F(ReconcilerReportsTest, APolicyNotEvaluatedYetHoldsThePublicationBack) {
  reports_.served = reports::Flavour::PolicyReport;
  policy("audit");
  cluster_.addPolicy(policyJson("enforce", R"({"serviceAccounts":{"names":["quiet"]}})"));
  publish();
  EXPECT_TRUE(reports_.published.empty());
  policy("enforce");
  publish();
  ASSERT_EQ(reports_.published.size(), 1u);
  const json shop = last("shop");
  EXPECT_EQ(shop["apiVersion"], "wgpolicyk8s.io/v1alpha2");
  EXPECT_EQ(shop["kind"], "PolicyReport");
  EXPECT_EQ(shop["metadata"]["ownerReferences"].size(), 2u);  // both policies have results in it
  EXPECT_EQ(last("batch")["metadata"]["ownerReferences"].size(), 1u);  // audit's alone

  // Deleted or invalid: its results go at once.
  cluster_.policyRecords.erase("enforce");
  policy("enforce");
  EXPECT_EQ(resultsChanged_, 3);
  publish();
  EXPECT_EQ(last("shop")["metadata"]["ownerReferences"].size(), 1u);
  cluster_.addPolicy(policyJson("audit", R"({"mode":"Sometimes"})", 2));
  policy("audit");
  EXPECT_EQ(resultsChanged_, 4);
  publish();
  EXPECT_TRUE(reports_.published.back().empty());  // no valid policy: saguard's reports go
}

TEST_F(ReconcilerReportsTest, ARefusalIsShownAndTriedAgainLaterATransportErrorRetried) {
  reports_.served = reports::Flavour::OpenReports;
  policy("audit");
  reports_.failure = makeError(ErrorKind::Invalid, "the API server refused Report shop/saguard");
  queue::Outcome refused = publish();
  ASSERT_EQ(refused.result(), queue::WorkResult::RequeueAfter);  // no backoff loop
  EXPECT_EQ(refused.after(), std::chrono::seconds(7));
  policy("audit");
  const json c = condition("audit");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["reason"], "Refused");
  EXPECT_NE(c["message"].get<std::string>().find("refused Report shop/saguard"), std::string::npos);
  // Ready still says how the policy itself stands.
  reports_.failure = makeError(ErrorKind::Unavailable, "connection reset");
  EXPECT_EQ(publish().result(), queue::WorkResult::Error);
  reports_.failure.reset();
  publish();
  policy("audit");
  EXPECT_EQ(condition("audit")["reason"], "Published");
}

TEST_F(ReconcilerReportsTest, WithoutAWriterThereIsNoConditionAndNoResults) {
  Reconciler plain(cluster_, cluster_, cluster_, ReconcilerOptions{});
  EXPECT_EQ(plain.reconcile(std::string(kReportsWorkKey)).result(), queue::WorkResult::Success);
  plain.reconcile(policyWorkKey("audit"));
  const json status = json::parse(cluster_.policyRecords.at("audit").statusJson);
  for (const json& c : status["conditions"]) EXPECT_NE(c["type"], "Reports");
}

}  // namespace
}  // namespace saguard::reconcile
