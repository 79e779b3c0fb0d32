// The plan behind `saguard restart` (issue 17, remediation), kept apart from the cluster
// so it is tested without one: which pods hold a token they should not, grouped by the
// workload whose rollout replaces them, and what to do with each group.
//
// A pod is a candidate when its token predates its account's change to false
// (policy::TokenSource::PredatesAccountChange) or its verdict is `unneeded`. Candidates
// are grouped by the workload that recreates them: a Deployment (through the ReplicaSet
// the pod names; the caller resolves ReplicaSets, see ReplicaSetOwners), a StatefulSet, a
// DaemonSet; a bare pod stands for itself. Then, per group:
//   Refuse     some pod would get its token again when recreated (policy::
//              recreationDropsToken: the account or the pod does not say false, or the
//              pod declares the volume): restarting would change nothing.
//   Restart    a Deployment, StatefulSet or DaemonSet: a rollout restart.
//   DeletePod  a bare pod, only with includeBarePods: nothing recreates it.
//   Skip       a bare pod without includeBarePods; a Job's pod (a template change does not
//              replace running Job pods: delete the pod, the Job recreates it while it has
//              not completed, or wait for the next run of its CronJob); a static pod (its
//              manifest is on the node); a ReplicaSet or ReplicationController without a
//              Deployment (they do not replace pods on a template change); any other
//              owner (restart it with its own tooling).
//
//   RestartPlan plan = planRestart(rows, replicaSetOwners, {.includeBarePods = false});
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "audit/verdict.h"
#include "objects/ref.h"

namespace saguard::audit {

enum class RestartAction { Restart, DeletePod, Refuse, Skip };

const char* toString(RestartAction action);  // "restart", "delete", "refuse", "skip"

struct RestartStep {
  RestartAction action = RestartAction::Skip;
  // What the action applies to: kind, namespace_, name and uid (when known) of the
  // workload, or of the pod itself for a bare pod, a Job's pod or a static pod.
  objects::ObjectRef workload;
  std::string account;            // the pods' ServiceAccount (the first pod's, if several)
  std::vector<std::string> pods;  // the pods holding the token, sorted
  std::string reason;             // why it is refused or skipped; "" for Restart and DeletePod

  friend bool operator==(const RestartStep&, const RestartStep&) = default;
};

struct RestartPlan {
  std::vector<RestartStep> steps;  // sorted by namespace, kind, name
  std::size_t pods = 0;            // candidate pods, in every step

  std::size_t count(RestartAction action) const;
};

// A ReplicaSet's own controller, as the caller found it (a GET of the ReplicaSet):
// `controller.kind` empty when it has none; `problem` says why it is unknown (not found,
// forbidden), and the pods are then skipped with that reason.
struct ReplicaSetOwner {
  objects::ObjectRef controller;
  std::string problem;
};
// Keyed by objects::objectKey(namespace, replicaSetName).
using ReplicaSetOwners = std::map<std::string, ReplicaSetOwner>;

struct PlanOptions {
  bool includeBarePods = false;  // delete bare pods (nothing recreates them)
};

// Whether `saguard restart` acts on this row's pod at all (see the header comment).
bool isRestartCandidate(const TokenHolder& row);

RestartPlan planRestart(std::span<const TokenHolder> rows, const ReplicaSetOwners& replicaSets,
                        const PlanOptions& options);

// The plan as a table: ACTION, WORKLOAD, PODS, ACCOUNT, REASON.
std::string renderRestartPlan(const RestartPlan& plan);

}  // namespace saguard::audit
