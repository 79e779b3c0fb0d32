// `saguard restart`: finishes what an Enforce policy starts (issue 17, remediation). A
// running pod keeps the token it was created with; this command replaces the pods that
// hold a token they should not, through the workloads that own them.
//
//   saguard restart [-n NS | -A] [--yes] [--interval 5s] [--parallel 1]
//                   [--wait=true] [--timeout 5m] [--include-bare-pods]
//                   [--kubeconfig F] [--context C]
//
// It lists the cluster as `saguard audit` does (collectAudit), reads the ReplicaSet of
// each candidate pod to find its Deployment, and prints the plan (audit/restart_plan.h)
// on stdout. Without --yes that is all (a dry run, as kubectl's --dry-run=client).
// With --yes, each workload to restart, in plan order, `--parallel` at a time:
//   1. GET the workload and its pod template's ServiceAccount, and check again that new
//      pods would get no token (policy::automountOf on the template's field and the live
//      account): a workload whose account is not compliant is never restarted;
//   2. PATCH (strategic merge, field manager "saguard") the template annotation
//      kubectl.kubernetes.io/restartedAt = now (RFC 3339), what `kubectl rollout restart`
//      writes, with the uid and resourceVersion just read as preconditions;
//   3. with --wait (default), poll its status every second until the rollout is done
//      (kubectl rollout status's rules) or --timeout; a rollout that does not finish stops
//      the run (what is left is reported), so one broken rollout is not repeated N times.
// then waits --interval before the next batch. Bare pods are deleted (uid precondition)
// only with --include-bare-pods. Progress goes to stderr, one line per workload.
//
// The credentials are the user's (kubeconfig), not saguard's ServiceAccount: get on
// replicasets, get and patch on deployments, statefulsets and daemonsets, get on
// serviceaccounts, delete on pods (--include-bare-pods).
//
// Exit codes: 0 done (or dry run); 1 something was refused at run time, failed, or a
// rollout timed out; 2 usage errors; 3 the cluster cannot be read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "audit/restart_plan.h"
#include "base/result.h"

namespace saguard::kube {
class Client;
}

namespace saguard::audit {

// The plan for the rows of collectAudit: completes each candidate's controller where the
// cached record does not know its name or kind (a GET of the pod: its ownerReferences),
// reads the ReplicaSets (resolveReplicaSets) and plans (planRestart).
// Errors: the client's (NotFound and Forbidden on a pod or ReplicaSet are not errors).
Result<RestartPlan> planFromCluster(kube::Client& client, std::vector<TokenHolder> rows,
                                    const PlanOptions& options);

// Reads the ReplicaSet of every candidate pod owned by one (each once). A ReplicaSet that
// cannot be read (NotFound, Forbidden) gets a problem, not an error: its pods are skipped.
// Errors: the client's, for anything else (Unavailable, ...).
Result<ReplicaSetOwners> resolveReplicaSets(kube::Client& client,
                                            std::span<const TokenHolder> rows);

struct RestartOptions {
  std::chrono::seconds interval{5};   // between batches
  std::size_t parallel = 1;           // workloads per batch
  bool wait = true;                   // wait for each batch's rollouts
  std::chrono::seconds timeout{300};  // per batch's rollouts
  std::chrono::seconds poll{1};       // status polling while waiting
  // Injected for tests: the wall clock in seconds (the annotation's value), and sleeping.
  std::function<std::int64_t()> now;
  std::function<void(std::chrono::seconds)> sleep;
};

struct RestartOutcome {
  std::size_t restarted = 0;          // workloads patched
  std::size_t deleted = 0;            // bare pods deleted
  std::size_t refused = 0;            // refused at run time (the check of step 1)
  std::size_t failed = 0;             // an API error, or a rollout that did not finish
  std::size_t left = 0;               // not attempted: the run stopped first
  std::vector<std::string> problems;  // one line each, for the summary
};

// Performs the plan's Restart and DeletePod steps. Progress lines go to `progress`.
RestartOutcome executeRestart(kube::Client& client, const RestartPlan& plan,
                              const RestartOptions& options, std::ostream& progress);

// `args` are the arguments after "restart".
int runRestart(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace saguard::audit
