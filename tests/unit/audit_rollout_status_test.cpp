// When `saguard restart` counts a rollout finished (audit/rollout_status.h): kubectl
// rollout status's rules on Deployments, StatefulSets and DaemonSets as the API server
// returns them.
#include <gtest/gtest.h>

#include "audit/rollout_status.h"

namespace saguard::audit {
namespace {

using nlohmann::json;

json deployment(int generation, int observed, int want, int updated, int replicas, int available) {
  return {{"metadata", {{"generation", generation}}},
          {"spec", {{"replicas", want}}},
          {"status",
           {{"observedGeneration", observed},
            {"updatedReplicas", updated},
            {"replicas", replicas},
            {"availableReplicas", available}}}};
}

TEST(RolloutStatus, Deployment) {
  EXPECT_TRUE(rolloutState("Deployment", deployment(2, 2, 3, 3, 3, 3)).done);
  // The controller has not seen the restart yet.
  RolloutState s = rolloutState("Deployment", deployment(3, 2, 3, 3, 3, 3));
  EXPECT_FALSE(s.done);
  EXPECT_EQ(s.waiting, "its controller has not seen the change yet");
  EXPECT_EQ(rolloutState("Deployment", deployment(3, 3, 3, 1, 4, 1)).waiting,
            "1 of 3 new replicas updated");
  EXPECT_EQ(rolloutState("Deployment", deployment(3, 3, 3, 3, 4, 3)).waiting,
            "old replicas terminating");
  EXPECT_EQ(rolloutState("Deployment", deployment(3, 3, 3, 3, 3, 2)).waiting,
            "new replicas not yet available");
  // spec.replicas defaults to 1.
  json noReplicas = deployment(1, 1, 1, 1, 1, 1);
  noReplicas["spec"].erase("replicas");
  EXPECT_TRUE(rolloutState("Deployment", noReplicas).done);
  // Past its progress deadline it is stuck: waiting would not help.
  json stuck = deployment(3, 3, 3, 1, 4, 1);
  stuck["status"]["conditions"] = {
      {{"type", "Available"}, {"status", "True"}},
      {{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}}};
  EXPECT_EQ(rolloutState("Deployment", stuck).stuck, "progress deadline exceeded");
}

TEST(RolloutStatus, StatefulSetAndDaemonSet) {
  json sts = {{"metadata", {{"generation", 4}}},
              {"spec", {{"replicas", 2}}},
              {"status",
               {{"observedGeneration", 4},
                {"readyReplicas", 2},
                {"currentRevision", "db-1"},
                {"updateRevision", "db-2"}}}};
  EXPECT_EQ(rolloutState("StatefulSet", sts).waiting, "pods not yet on the new revision");
  sts["status"]["currentRevision"] = "db-2";
  EXPECT_TRUE(rolloutState("StatefulSet", sts).done);
  sts["status"]["readyReplicas"] = 1;
  EXPECT_EQ(rolloutState("StatefulSet", sts).waiting, "replicas not ready");

  json ds = {{"metadata", {{"generation", 2}}},
             {"status",
              {{"observedGeneration", 2},
               {"desiredNumberScheduled", 3},
               {"updatedNumberScheduled", 2},
               {"numberAvailable", 3}}}};
  EXPECT_EQ(rolloutState("DaemonSet", ds).waiting, "pods not yet updated");
  ds["status"]["updatedNumberScheduled"] = 3;
  EXPECT_TRUE(rolloutState("DaemonSet", ds).done);
}

// What the local control plane returns (no workload controllers): never done. A status that
// is missing, null or not an object never throws.
TEST(RolloutStatus, NoControllerAndOddInput) {
  const json fresh = {{"metadata", {{"generation", 2}}}, {"spec", {{"replicas", 1}}}};
  for (const char* kind : {"Deployment", "StatefulSet", "DaemonSet"}) {
    EXPECT_FALSE(rolloutState(kind, fresh).done) << kind;
    EXPECT_FALSE(rolloutState(kind, json()).done) << kind;
    json nullStatus = fresh;
    nullStatus["status"] = nullptr;
    nullStatus["metadata"] = "x";
    EXPECT_NO_THROW(rolloutState(kind, nullStatus)) << kind;
  }
}

}  // namespace
}  // namespace saguard::audit
