#include "audit/restart_command.h"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "audit/audit_command.h"
#include "audit/rollout_status.h"
#include "base/flags.h"
#include "codec/decoder.h"
#include "codec/rfc3339.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "objects/ref.h"
#include "policy/duration.h"
#include "policy/pod_token.h"

namespace saguard::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kRestartedAt = "kubectl.kubernetes.io/restartedAt";
constexpr int kConflictAttempts = 3;

const kube::Resource* resourceOf(std::string_view kind) {
  if (kind == "Deployment") return &kube::resources::kDeployments;
  if (kind == "StatefulSet") return &kube::resources::kStatefulSets;
  if (kind == "DaemonSet") return &kube::resources::kDaemonSets;
  return nullptr;
}

// "1 pod", "3 pods": the counts people read in the plan and the progress lines.
std::string counted(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string describe(const objects::ObjectRef& w) {
  return w.kind + " " + w.namespace_ + "/" + w.name;
}

// The controller entry of an object's metadata.ownerReferences (kind empty: none).
objects::ObjectRef controllerOf(const json& object, const std::string& ns) {
  objects::ObjectRef ref;
  const json& meta = object.value("metadata", json::object());
  for (const json& owner : meta.value("ownerReferences", json::array())) {
    if (!owner.is_object() || !owner.value("controller", false)) continue;
    ref.kind = owner.value("kind", "");
    ref.name = owner.value("name", "");
    ref.uid = owner.value("uid", "");
    ref.namespace_ = ns;
    break;
  }
  return ref;
}

std::int64_t wallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Step 1 of a restart: the workload as it is now, and why it must not be restarted.
struct Checked {
  std::string uid, resourceVersion;
  std::string refusal;  // non-empty: do not restart
};

Result<Checked> checkWorkload(kube::Client& client, const kube::Resource& resource,
                              const objects::ObjectRef& w) {
  auto got = client.get(resource, w.namespace_, w.name);
  if (!got.ok()) return got.error();
  const json o = json::parse(*got, nullptr, /*allow_exceptions=*/false);
  if (!o.is_object()) return makeError(ErrorKind::Invalid, describe(w) + ": not JSON");
  const json& meta = o.value("metadata", json::object());
  Checked checked;
  checked.uid = meta.value("uid", "");
  checked.resourceVersion = meta.value("resourceVersion", "");
  if (!w.uid.empty() && checked.uid != w.uid) {
    checked.refusal = "replaced since the audit (uid " + checked.uid + ", not " + w.uid + ")";
    return checked;
  }
  const json& spec = o.value("spec", json::object());
  const json& strategy =
      spec.value(w.kind == "Deployment" ? "strategy" : "updateStrategy", json::object());
  if (strategy.value("type", "") == "OnDelete") {
    checked.refusal = "updateStrategy OnDelete: a template change replaces no pod";
    return checked;
  }
  // The pod template read as the pod it would create, by the same decoder as every pod
  // (its account, its automount field, and whether it declares a token volume).
  const json asPod = {
      {"metadata", {{"name", w.name}, {"namespace", w.namespace_}}},
      {"spec", spec.value("template", json::object()).value("spec", json::object())}};
  codec::Decoder decoder;
  std::string asPodText = asPod.dump();
  auto templatePod = decoder.object<codec::Kind::Pod>(asPodText);
  if (!templatePod.ok()) return templatePod.error();
  if (templatePod->token != objects::TokenVolume::None) {
    checked.refusal = "its pod template declares a token volume itself";
    return checked;
  }
  const std::string account = templatePod->serviceAccountName.str();
  const objects::Tristate podField = templatePod->automount;
  auto sa = client.get(kube::resources::kServiceAccounts, w.namespace_, account);
  std::optional<objects::Tristate> accountField;
  if (sa.ok()) {
    auto record = decoder.object<codec::Kind::ServiceAccount>(*sa);
    if (!record.ok()) return record.error();
    accountField = record->automount;
  } else if (!sa.is(ErrorKind::NotFound)) {
    return sa.error();
  }
  const policy::Automount automount = policy::automountOf(podField, accountField);
  if (automount.effective) {
    const std::string who = "account " + w.namespace_ + "/" + account;
    switch (automount.decidedBy) {
      case policy::DecidedBy::Pod:
        checked.refusal = "its pod template sets automountServiceAccountToken: true";
        break;
      case policy::DecidedBy::UnknownAccount:
        checked.refusal = who + " does not exist";
        break;
      default:
        checked.refusal = who + " does not set automountServiceAccountToken: false (not compliant)";
        break;
    }
    checked.refusal += ": new pods would get the token again";
  }
  return checked;
}

std::string patchBody(const Checked& c, std::int64_t now) {
  json body;
  body["metadata"] = {{"uid", c.uid}, {"resourceVersion", c.resourceVersion}};
  body["spec"]["template"]["metadata"]["annotations"][std::string(kRestartedAt)] =
      codec::formatRfc3339(now);
  return body.dump();
}

enum class StepResult { Restarted, Deleted, Refused, Failed };

StepResult restartOne(kube::Client& client, const RestartStep& step, const RestartOptions& options,
                      std::string& message) {
  const kube::Resource* resource = resourceOf(step.workload.kind);
  if (resource == nullptr) {
    message = "cannot restart a " + step.workload.kind;
    return StepResult::Failed;
  }
  for (int attempt = 1;; ++attempt) {
    auto checked = checkWorkload(client, *resource, step.workload);
    if (!checked.ok()) {
      message = checked.error().describe();
      return StepResult::Failed;
    }
    if (!checked->refusal.empty()) {
      message = checked->refusal;
      return StepResult::Refused;
    }
    kube::WriteOptions write;
    write.fieldManager = "saguard";
    auto patched = client.patch(
        *resource, step.workload.namespace_, step.workload.name, kube::PatchType::StrategicMerge,
        patchBody(*checked, options.now ? options.now() : wallSeconds()), write);
    if (patched.ok()) return StepResult::Restarted;
    if (!patched.is(ErrorKind::Conflict) || attempt == kConflictAttempts) {
      message = patched.error().describe();
      return StepResult::Failed;
    }
  }
}

StepResult deleteBarePod(kube::Client& client, const RestartStep& step, std::string& message) {
  kube::DeleteOptions options;
  // With the uid just read as a precondition: never a namesake created after this GET.
  auto got = client.get(kube::resources::kPods, step.workload.namespace_, step.workload.name);
  if (!got.ok()) {
    message = got.error().describe();
    return got.is(ErrorKind::NotFound) ? StepResult::Deleted : StepResult::Failed;
  }
  const json pod = json::parse(*got, nullptr, false);
  if (pod.is_object()) {
    options.preconditionUid = pod.value("metadata", json::object()).value("uid", "");
  }
  auto removed =
      client.remove(kube::resources::kPods, step.workload.namespace_, step.workload.name, options);
  if (!removed.ok() && !removed.is(ErrorKind::NotFound)) {
    message = removed.error().describe();
    return StepResult::Failed;
  }
  return StepResult::Deleted;
}

void pause(const RestartOptions& options, std::chrono::seconds d) {
  if (d.count() <= 0) return;
  if (options.sleep) {
    options.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

// Waits for the rollouts of `batch`: one line per rollout that did not finish, with why.
std::vector<std::string> waitFor(kube::Client& client, const std::vector<const RestartStep*>& batch,
                                 const RestartOptions& options, std::ostream& progress) {
  std::vector<const RestartStep*> pending = batch;
  std::vector<std::string> failed;
  std::map<const RestartStep*, std::string> waiting;
  std::chrono::seconds waited{0};
  while (!pending.empty()) {
    std::vector<const RestartStep*> still;
    for (const RestartStep* step : pending) {
      auto got = client.get(*resourceOf(step->workload.kind), step->workload.namespace_,
                            step->workload.name);
      if (!got.ok()) {
        failed.push_back(describe(step->workload) + ": " + got.error().describe());
        continue;
      }
      const RolloutState state =
          rolloutState(step->workload.kind, json::parse(*got, nullptr, false));
      if (state.done) {
        progress << "saguard restart: " << describe(step->workload) << " rolled out after "
                 << waited.count() << "s\n";
      } else if (!state.stuck.empty()) {
        failed.push_back(describe(step->workload) + ": " + state.stuck);
      } else {
        waiting[step] = state.waiting;
        still.push_back(step);
      }
    }
    pending = std::move(still);
    if (pending.empty()) break;
    if (waited >= options.timeout) {
      for (const RestartStep* step : pending) {
        failed.push_back(describe(step->workload) + ": rollout not finished after " +
                         std::to_string(options.timeout.count()) + "s (" + waiting[step] + ")");
      }
      break;
    }
    pause(options, options.poll);
    waited += options.poll;
  }
  return failed;
}

}  // namespace

Result<RestartPlan> planFromCluster(kube::Client& client, std::vector<TokenHolder> rows,
                                    const PlanOptions& options) {
  for (TokenHolder& row : rows) {
    const objects::ObjectRef& c = row.controller;
    const bool known = c.kind.empty() || c.kind == "Node" || (c.kind != "Other" && !c.name.empty());
    if (!isRestartCandidate(row) || known) continue;
    auto got = client.get(kube::resources::kPods, row.namespace_, row.pod);
    if (!got.ok()) {
      if (!got.is(ErrorKind::NotFound) && !got.is(ErrorKind::Forbidden)) return got.error();
      continue;  // planned with what the record knows: skipped, its controller unread
    }
    const json pod = json::parse(*got, nullptr, false);
    if (pod.is_object()) row.controller = controllerOf(pod, row.namespace_);
  }
  auto replicaSets = resolveReplicaSets(client, rows);
  if (!replicaSets.ok()) return replicaSets.error();
  return planRestart(rows, *replicaSets, options);
}

Result<ReplicaSetOwners> resolveReplicaSets(kube::Client& client,
                                            std::span<const TokenHolder> rows) {
  ReplicaSetOwners owners;
  for (const TokenHolder& row : rows) {
    if (!isRestartCandidate(row) || row.controller.kind != "ReplicaSet") continue;
    const std::string key = objects::objectKey(row.namespace_, row.controller.name);
    if (owners.contains(key)) continue;
    ReplicaSetOwner& owner = owners[key];
    auto got = client.get(kube::resources::kReplicaSets, row.namespace_, row.controller.name);
    if (!got.ok()) {
      if (!got.is(ErrorKind::NotFound) && !got.is(ErrorKind::Forbidden)) return got.error();
      owner.problem = got.error().message;
      continue;
    }
    const json rs = json::parse(*got, nullptr, false);
    if (!rs.is_object()) {
      owner.problem = "ReplicaSet " + key + ": not JSON";
      continue;
    }
    const std::string uid = rs.value("metadata", json::object()).value("uid", "");
    if (!row.controller.uid.empty() && uid != row.controller.uid) {
      owner.problem = "ReplicaSet " + key + " was replaced since the pod was created";
      continue;
    }
    owner.controller = controllerOf(rs, row.namespace_);
  }
  return owners;
}

RestartOutcome executeRestart(kube::Client& client, const RestartPlan& plan,
                              const RestartOptions& options, std::ostream& progress) {
  RestartOutcome outcome;
  std::vector<const RestartStep*> todo;
  for (const RestartStep& step : plan.steps) {
    if (step.action == RestartAction::Restart || step.action == RestartAction::DeletePod)
      todo.push_back(&step);
  }
  const std::size_t parallel = std::max<std::size_t>(1, options.parallel);
  for (std::size_t begin = 0; begin < todo.size(); begin += parallel) {
    if (begin > 0) pause(options, options.interval);
    const std::size_t end = std::min(todo.size(), begin + parallel);
    std::vector<const RestartStep*> rolling;
    for (std::size_t i = begin; i < end; ++i) {
      const RestartStep& step = *todo[i];
      std::string message;
      const StepResult result = step.action == RestartAction::DeletePod
                                    ? deleteBarePod(client, step, message)
                                    : restartOne(client, step, options, message);
      progress << "saguard restart: [" << i + 1 << "/" << todo.size() << "] "
               << describe(step.workload) << " (" << counted(step.pods.size(), "pod") << "): ";
      switch (result) {
        case StepResult::Restarted:
          ++outcome.restarted;
          rolling.push_back(&step);
          progress << "restarted\n";
          break;
        case StepResult::Deleted:
          ++outcome.deleted;
          progress << "deleted\n";
          break;
        case StepResult::Refused:
          ++outcome.refused;
          outcome.problems.push_back(describe(step.workload) + ": refused: " + message);
          progress << "refused: " << message << "\n";
          break;
        case StepResult::Failed:
          ++outcome.failed;
          outcome.problems.push_back(describe(step.workload) + ": " + message);
          progress << "failed: " << message << "\n";
          break;
      }
      progress.flush();
    }
    if (options.wait && !rolling.empty()) {
      std::vector<std::string> failed = waitFor(client, rolling, options, progress);
      if (!failed.empty()) {
        outcome.failed += failed.size();
        for (std::string& f : failed) {
          progress << "saguard restart: " << f << "\n";
          outcome.problems.push_back(std::move(f));
        }
        outcome.left = todo.size() - end;
        if (outcome.left > 0) {
          progress << "saguard restart: stopping: " << outcome.left
                   << " workloads left untouched\n";
        }
        break;
      }
    }
  }
  return outcome;
}

namespace {

// runRestart without its guard: nlohmann's accessors throw on a JSON value of an
// unexpected type, which the API server never sends.
int restartCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string kubeconfig, context, ns, interval = "5s", timeout = "5m";
  std::string evidenceNamespace = "saguard-system";
  bool all = false, yes = false, wait = true, includeBarePods = false;
  int parallel = 1, pageSize = 500;
  FlagSet flags("saguard restart",
                "Replaces the pods that hold a ServiceAccount token they should not (their\n"
                "account now sets automountServiceAccountToken: false, or the token is\n"
                "unneeded) with a rollout restart of the Deployments, StatefulSets and\n"
                "DaemonSets that own them, as `kubectl rollout restart` does. Prints the plan;\n"
                "restarts only with --yes. Never restarts a workload whose new pods would get\n"
                "the token again.");
  flags.add("kubeconfig", &kubeconfig,
            "Path to a kubeconfig. Default: $KUBECONFIG, in-cluster, ~/.kube/config.");
  flags.add("context", &context, "The kubeconfig context to use.");
  flags.add("namespace", &ns, "The namespace. Default: the context's namespace, else default.");
  flags.alias('n', "namespace");
  flags.add("all-namespaces", &all, "Every namespace.");
  flags.alias('A', "all-namespaces");
  flags.add("yes", &yes, "Perform the plan. Without it, only print it.");
  flags.add("interval", &interval, "Pause between workloads (batches), e.g. 5s, 1m.");
  flags.add("parallel", &parallel, "Workloads restarted at once, then waited for together.");
  flags.add("wait", &wait,
            "Wait for each rollout to finish before the next (--wait=false: do not wait).");
  flags.add("timeout", &timeout,
            "How long to wait for a batch's rollouts; past it the run stops, e.g. 5m.");
  flags.add("include-bare-pods", &includeBarePods,
            "Delete pods that no workload owns. They are gone for good: nothing recreates them.");
  flags.add("evidence-namespace", &evidenceNamespace,
            "Where saguard run keeps its evidence of token use (\"\" = do not read it).");
  flags.add("page-size", &pageSize, "Items per list page.");
  auto rest = flags.parse(args);
  if (!rest.ok()) {
    err << "saguard restart: " << rest.error().message << "\n\n" << flags.usage();
    return 2;
  }
  if (flags.helpRequested()) {
    out << flags.usage();
    return 0;
  }
  if (!rest->empty()) {
    err << "saguard restart: unexpected argument \"" << rest->front() << "\"\n";
    return 2;
  }
  if (all && !ns.empty()) {
    err << "saguard restart: give -n or -A, not both\n";
    return 2;
  }
  if (parallel <= 0 || pageSize <= 0) {
    err << "saguard restart: --parallel and --page-size must be positive\n";
    return 2;
  }
  auto intervalSeconds =
      interval == "0" ? std::optional<std::int64_t>(0) : policy::parseDuration(interval);
  auto timeoutSeconds = policy::parseDuration(timeout);
  if (!intervalSeconds || !timeoutSeconds) {
    err << "saguard restart: --interval and --timeout must be durations like 5s or 5m\n";
    return 2;
  }
  auto config = kube::loadConfig({.kubeconfig = kubeconfig, .context = context});
  if (!config.ok()) {
    err << "saguard restart: " << config.error().describe() << "\n";
    return 3;
  }
  if (!all && ns.empty()) ns = config->namespace_.empty() ? "default" : config->namespace_;
  auto client = kube::makeRestClient(*config);
  if (!client.ok()) {
    err << "saguard restart: " << client.error().describe() << "\n";
    return 3;
  }
  EvidenceOptions evidence;
  evidence.storeNamespace = evidenceNamespace;
  auto audit = collectAudit(**client, all ? "" : ns, pageSize, evidence);
  if (!audit.ok()) {
    err << "saguard restart: " << audit.error().describe() << "\n";
    return 3;
  }
  auto planned =
      planFromCluster(**client, std::move(audit->rows), {.includeBarePods = includeBarePods});
  if (!planned.ok()) {
    err << "saguard restart: " << planned.error().describe() << "\n";
    return 3;
  }
  const RestartPlan& plan = *planned;
  const std::size_t toDo =
      plan.count(RestartAction::Restart) + plan.count(RestartAction::DeletePod);
  if (plan.steps.empty()) {
    out << "No pod holds a token it should not: nothing to restart.\n";
    return 0;
  }
  out << renderRestartPlan(plan);
  out << counted(plan.pods, "pod") << (plan.pods == 1 ? " holds" : " hold")
      << " a token they should not: " << counted(plan.count(RestartAction::Restart), "workload")
      << " to restart, " << counted(plan.count(RestartAction::DeletePod), "bare pod")
      << " to delete, " << plan.count(RestartAction::Refuse) << " refused, "
      << plan.count(RestartAction::Skip) << " skipped\n";
  if (!yes) {
    if (toDo > 0) out << "Dry run: nothing was changed. Run again with --yes to do it.\n";
    return 0;
  }
  out.flush();
  RestartOptions options;
  options.interval = std::chrono::seconds(*intervalSeconds);
  options.timeout = std::chrono::seconds(*timeoutSeconds);
  options.parallel = static_cast<std::size_t>(parallel);
  options.wait = wait;
  const auto started = std::chrono::steady_clock::now();
  const RestartOutcome outcome = executeRestart(**client, plan, options, err);
  const auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  out << "Restarted " << counted(outcome.restarted, "workload") << ", deleted "
      << counted(outcome.deleted, "bare pod") << " in " << took.count() << "s";
  if (outcome.refused + outcome.failed + outcome.left > 0) {
    out << "; " << outcome.refused << " refused, " << outcome.failed << " failed, " << outcome.left
        << " left";
  }
  out << "\n";
  for (const std::string& p : outcome.problems) out << "  " << p << "\n";
  return outcome.refused + outcome.failed + outcome.left > 0 ? 1 : 0;
}

}  // namespace

int runRestart(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return restartCommand(args, out, err);
  } catch (const nlohmann::json::exception& e) {
    err << "saguard restart: unexpected JSON from the API server: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace saguard::audit
