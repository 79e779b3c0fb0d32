#include "audit/restart_plan.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "policy/pod_token.h"

namespace saguard::audit {
namespace {

// Why recreating the pod brings its token back (for a Refuse step).
std::string refusal(const TokenHolder& row) {
  const std::string account = row.namespace_ + "/" + row.account;
  switch (row.source) {
    case policy::TokenSource::PodSetsTrue:
      return "the pod sets automountServiceAccountToken: true: new pods would get the token again";
    case policy::TokenSource::PodDeclaresVolume:
      return "the pod declares the token volume itself: new pods would get the token again";
    case policy::TokenSource::LegacySecretVolume:
      return "the pod mounts a legacy token Secret: new pods would mount it again";
    default:
      return "account " + account +
             " does not set automountServiceAccountToken: false (not compliant): new pods "
             "would get the token again";
  }
}

struct Target {
  RestartAction action = RestartAction::Restart;
  objects::ObjectRef workload;
  std::string reason;
};

objects::ObjectRef podRef(const TokenHolder& row) {
  objects::ObjectRef ref;
  ref.kind = "Pod";
  ref.namespace_ = row.namespace_;
  ref.name = row.pod;
  return ref;
}

// The workload that recreates the row's pod, and what to do with it.
Target targetOf(const TokenHolder& row, const ReplicaSetOwners& replicaSets,
                const PlanOptions& options) {
  const objects::ObjectRef& owner = row.controller;
  if (owner.kind.empty()) {
    if (options.includeBarePods) return {RestartAction::DeletePod, podRef(row), ""};
    return {RestartAction::Skip, podRef(row),
            "a bare pod: nothing recreates it once deleted (--include-bare-pods deletes it)"};
  }
  if (owner.kind == "Node") {
    return {RestartAction::Skip, podRef(row), "a static pod: its manifest on its node decides"};
  }
  if (owner.name.empty()) {
    return {RestartAction::Skip, podRef(row),
            "its controller (" + owner.kind + ") could not be read: restart it by hand"};
  }
  if (owner.kind == "Deployment" || owner.kind == "StatefulSet" || owner.kind == "DaemonSet") {
    return {RestartAction::Restart, owner, ""};
  }
  if (owner.kind == "ReplicaSet") {
    auto it = replicaSets.find(objects::objectKey(owner.namespace_, owner.name));
    if (it == replicaSets.end() || !it->second.problem.empty()) {
      return {RestartAction::Skip, owner,
              "its ReplicaSet could not be read" +
                  (it == replicaSets.end() ? std::string() : ": " + it->second.problem)};
    }
    const objects::ObjectRef& controller = it->second.controller;
    if (controller.kind == "Deployment") return {RestartAction::Restart, controller, ""};
    if (controller.kind.empty()) {
      return {RestartAction::Skip, owner,
              "a ReplicaSet without a Deployment does not replace its pods on a template "
              "change: delete the pods"};
    }
    return {RestartAction::Skip, controller,
            "owned by " + controller.kind + "/" + controller.name +
                " (through its ReplicaSet): restart it with its own tooling"};
  }
  if (owner.kind == "Job") {
    return {RestartAction::Skip, podRef(row),
            "a Job's pod (Job/" + owner.name +
                "): a template change does not replace it; delete the pod (the Job recreates "
                "it until it completes) or wait for the next run"};
  }
  if (owner.kind == "ReplicationController") {
    return {RestartAction::Skip, owner,
            "a ReplicationController does not replace its pods on a template change: delete "
            "the pods"};
  }
  return {RestartAction::Skip, owner,
          "owned by " + owner.kind + "/" + owner.name + ": restart it with its own tooling"};
}

}  // namespace

const char* toString(RestartAction action) {
  switch (action) {
    case RestartAction::Restart:
      return "restart";
    case RestartAction::DeletePod:
      return "delete";
    case RestartAction::Refuse:
      return "refuse";
    case RestartAction::Skip:
      return "skip";
  }
  return "skip";
}

std::size_t RestartPlan::count(RestartAction action) const {
  return static_cast<std::size_t>(std::count_if(
      steps.begin(), steps.end(), [&](const RestartStep& s) { return s.action == action; }));
}

bool isRestartCandidate(const TokenHolder& row) {
  return row.source == policy::TokenSource::PredatesAccountChange ||
         row.verdict == Verdict::Unneeded;
}

RestartPlan planRestart(std::span<const TokenHolder> rows, const ReplicaSetOwners& replicaSets,
                        const PlanOptions& options) {
  // Grouped by workload; a refusal of any pod refuses the whole workload (its rollout
  // would recreate that pod with its token).
  std::map<std::tuple<std::string, std::string, std::string>, RestartStep> groups;
  RestartPlan plan;
  for (const TokenHolder& row : rows) {
    if (!isRestartCandidate(row)) continue;
    ++plan.pods;
    Target target = targetOf(row, replicaSets, options);
    auto key = std::tuple(target.workload.namespace_, target.workload.kind, target.workload.name);
    auto [it, inserted] = groups.try_emplace(std::move(key));
    RestartStep& step = it->second;
    if (inserted) {
      step.action = target.action;
      step.workload = std::move(target.workload);
      step.account = row.account;
      step.reason = std::move(target.reason);
    }
    step.pods.push_back(row.pod);
    if (!policy::recreationDropsToken(row.source) && step.action != RestartAction::Refuse) {
      step.action = RestartAction::Refuse;
      step.reason = refusal(row);
    }
  }
  for (auto& [key, step] : groups) {
    std::sort(step.pods.begin(), step.pods.end());
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

std::string renderRestartPlan(const RestartPlan& plan) {
  std::vector<std::vector<std::string>> cells{{"ACTION", "WORKLOAD", "PODS", "ACCOUNT", "REASON"}};
  for (const RestartStep& s : plan.steps) {
    cells.push_back({toString(s.action),
                     s.workload.kind + "/" + s.workload.namespace_ + "/" + s.workload.name,
                     std::to_string(s.pods.size()), s.account, s.reason.empty() ? "-" : s.reason});
  }
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace saguard::audit
