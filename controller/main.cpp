// saguard: flags and wiring only. Each subcommand parses its flags, builds the parts
// from the modules and runs them; all behaviour lives in the modules.
//
//   saguard run       the controller (also what the container runs)
//   saguard version   prints the version
// Installed as `kubectl-saguard`, it works as a kubectl plugin (`kubectl saguard ...`).
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <atomic>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_command.h"
#include "audit/lint_command.h"
#include "base/flags.h"
#include "base/logging.h"
#include "events/recorder.h"
#include "events/sink.h"
#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "kube/rest_client.h"
#include "kube/retry.h"
#include "leader/lease_api.h"
#include "leader/lease_elector.h"
#include "metrics/bind_address.h"
#include "metrics/health.h"
#include "metrics/metrics.h"
#include "metrics/queue_adapters.h"
#include "metrics/rest_client_adapter.h"
#include "metrics/server.h"
#include "policy/bindings.h"
#include "reconcile/api_writer.h"
#include "reconcile/controller.h"
#include "reconcile/event_notifier.h"
#include "reconcile/metrics_hooks.h"

namespace saguard {
namespace {

constexpr const char* kControllerName = "serviceaccountpolicy";

int fail(const std::string& what) {
  spdlog::error("{}", what);
  return 1;
}

// Who this process is, from the API server's point of view (SelfSubjectReview): the
// ServiceAccount ("namespace", "name") when it runs as one, so it never disables its
// own token; empty when it runs as a user (a kubeconfig with a client certificate).
// An API server that cannot answer yet (down, unreachable, overloaded) is asked again,
// 1 s to 30 s apart, because starting without knowing its own account could lead saguard
// to disable its own token; nullopt when `stop` is requested meanwhile. An answer that
// asking again cannot change (say Forbidden) is logged and saguard goes on without it.
std::optional<std::pair<std::string, std::string>> selfServiceAccount(kube::Client& client,
                                                                      std::stop_token stop) {
  static const kube::Resource kReviews{"authentication.k8s.io", "v1", "selfsubjectreviews", false};
  auto delay = std::chrono::seconds(1);
  for (;;) {
    auto answer = client.create(kReviews, "", R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})");
    if (answer.ok()) {
      auto review = nlohmann::json::parse(*answer, nullptr, false);
      std::string user;
      if (review.is_object()) user = review["status"]["userInfo"].value("username", "");
      auto account = policy::serviceAccountOfUser(user);
      if (!account) return std::pair<std::string, std::string>{};
      return std::pair<std::string, std::string>{std::string(account->first), std::string(account->second)};
    }
    if (!answer.error().retriable()) {
      spdlog::warn("could not ask the API server who saguard is ({}); it will not recognise its own account",
                   answer.error().describe());
      return std::pair<std::string, std::string>{};
    }
    spdlog::warn("the API server did not answer who saguard is ({}); asking again in {} s",
                 answer.error().describe(), delay.count());
    if (!kube::RealSleeper::instance().sleepFor(delay, stop)) return std::nullopt;
    delay = std::min<std::chrono::seconds>(delay * 2, std::chrono::seconds(30));
  }
}

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "saguard";
  return buf;
}

// Blocks SIGTERM and SIGINT in every thread (call before any thread starts) and
// returns a thread that turns the first of them into a stop request. It waits for the
// signals in short slices and looks at its own stop token between them, so destroying
// it (as every early return of runCommand does) ends it within one slice: a thread
// parked in sigwait() would keep a failed start-up from ever exiting.
std::jthread signalWatcher(std::stop_source& stop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return std::jthread([set, &stop](std::stop_token self) {
    constexpr timespec kSlice{0, 100'000'000};  // 100 ms
    while (!self.stop_requested()) {
      int sig = sigtimedwait(&set, nullptr, &kSlice);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        stop.request_stop();
        return;
      }
    }
  });
}

// glibc hands freed memory at the top of its heap back by itself (M_TRIM_THRESHOLD, set
// in main()); the free pages that decoding list pages leaves between long-lived cache
// records it keeps. Once the caches have synced, and every 5 minutes after (relists),
// malloc_trim returns those pages to the system.
std::jthread heapTrimmer(const reconcile::Controller& ctl) {
  return std::jthread([&ctl](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any wake;
    auto sleepFor = [&](std::chrono::milliseconds period) {
      std::unique_lock lock(mu);
      wake.wait_for(lock, stop, period, [] { return false; });
      return !stop.stop_requested();
    };
    while (!ctl.hasSynced()) {
      if (!sleepFor(std::chrono::milliseconds(200))) return;
    }
    do {
#ifdef __GLIBC__
      malloc_trim(0);
#endif
    } while (sleepFor(std::chrono::minutes(5)));
  });
}

int runCommand(const std::vector<std::string>& args) {
  std::string kubeconfig, context, logFormat = "text", logLevel = "info";
  std::string metricsAddress = ":8080", probeAddress = ":8081";
  std::string leaseNamespace, leaseId = "saguard.io-controller";
  bool leaderElect = false;
  int workers = 2;
  int statusDelayMs = 1000;
  int statusIntervalMs = 5000;
  FlagSet flags("saguard run", "Runs the controller: watches ServiceAccountPolicies, ServiceAccounts, Pods,\n"
                               "RoleBindings, ClusterRoleBindings and Namespaces, and enforces the policies.");
  flags.add("kubeconfig", &kubeconfig,
            "Path to a kubeconfig. Default: $KUBECONFIG, then in-cluster configuration, then ~/.kube/config.");
  flags.add("context", &context, "The kubeconfig context to use. Default: its current-context.");
  flags.add("leader-elect", &leaderElect,
            "Elect a leader on a coordination.k8s.io Lease so that only one replica writes.");
  flags.add("leader-election-namespace", &leaseNamespace,
            "Namespace of the Lease. Default: the pod's namespace in-cluster, else saguard-system.");
  flags.add("leader-election-id", &leaseId, "Name of the Lease.");
  flags.add("metrics-bind-address", &metricsAddress, "Where /metrics listens (\"0\" disables it).");
  flags.add("health-probe-bind-address", &probeAddress, "Where /healthz and /readyz listen (\"0\" disables them).");
  flags.add("workers", &workers, "Concurrent reconciles.");
  flags.add("status-delay-ms", &statusDelayMs,
            "How long a policy's status waits after a change before it is recomputed, so that a burst\n"
            "of changes costs one computation (and at most one status write) per policy. Milliseconds.");
  flags.add("status-interval-ms", &statusIntervalMs,
            "While changes keep coming, the least time between two status computations of a policy\n"
            "(each may write the status). Milliseconds.");
  flags.add("log-format", &logFormat, "json or text.");
  flags.add("log-level", &logLevel, "trace, debug, info, warn or error.");
  auto rest = flags.parse(args);
  if (!rest.ok()) {
    std::cerr << "saguard run: " << rest.error().message << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return 0;
  }
  if (!rest->empty()) {
    std::cerr << "saguard run: unexpected argument \"" << rest->front() << "\"\n";
    return 2;
  }
  auto format = parseLogFormat(logFormat);
  if (!format.ok()) return std::cerr << "saguard run: " << format.error().message << "\n", 2;
  if (Status st = setupLogging({*format, logLevel}); !st.ok()) {
    return std::cerr << "saguard run: " << st.error().message << "\n", 2;
  }
  if (workers < 1) return fail("--workers: must be at least 1");
  if (statusDelayMs < 0) return fail("--status-delay-ms: must not be negative");
  if (statusIntervalMs < 0) return fail("--status-interval-ms: must not be negative");
  auto metricsBind = metrics::parseBindAddress(metricsAddress);
  if (!metricsBind.ok()) return fail("--metrics-bind-address: " + metricsBind.error().message);
  auto probeBind = metrics::parseBindAddress(probeAddress);
  if (!probeBind.ok()) return fail("--health-probe-bind-address: " + probeBind.error().message);

  std::stop_source stop;
  std::jthread signals = signalWatcher(stop);

  // --- client
  kube::LoadOptions load{.kubeconfig = kubeconfig, .context = context};
  if (const char* dir = std::getenv("SAGUARD_SERVICEACCOUNT_DIR"); dir != nullptr && *dir != '\0') {
    // Tests and the demo run the binary "in-cluster" against a local API server.
    load.inCluster.tokenFile = std::string(dir) + "/token";
    load.inCluster.caFile = std::string(dir) + "/ca.crt";
    load.inCluster.namespaceFile = std::string(dir) + "/namespace";
  }
  auto config = kube::loadConfig(load);
  if (!config.ok()) return fail("configuration: " + config.error().describe());
  metrics::Metrics registry;
  metrics::PrometheusRequestObserver requestMetrics(registry, config->server);
  kube::ClientOptions clientOptions;
  clientOptions.observer = &requestMetrics;
  auto client = kube::makeRestClient(*config, clientOptions);
  if (!client.ok()) return fail("client: " + client.error().describe());
  spdlog::info("saguard {} talking to {}", SAGUARD_VERSION, config->server);

  // --- metrics and probes
  metrics::HealthChecks health;
  std::unique_ptr<metrics::MetricsServer> metricsServer;
  std::unique_ptr<metrics::HealthServer> healthServer;
  if (*metricsBind) {
    auto server = metrics::MetricsServer::start(registry, **metricsBind);
    if (!server.ok()) return fail("--metrics-bind-address " + metricsAddress + ": " + server.error().describe());
    metricsServer = std::move(*server);
    spdlog::info("serving /metrics on port {}", metricsServer->port());
  }

  // The probes answer from here on: /readyz says not ready until the controller exists
  // and its caches have synced.
  std::atomic<const reconcile::Controller*> running{nullptr};
  (void)health.addHealthCheck("ping", [] { return Status(); });
  (void)health.addReadyCheck("informers-synced", [&running]() -> Status {
    const reconcile::Controller* ctl = running.load();
    if (ctl != nullptr && ctl->hasSynced()) return {};
    return makeError(ErrorKind::Unavailable, "the informer caches have not synced yet");
  });
  if (*probeBind) {
    auto server = metrics::HealthServer::start(health, **probeBind);
    if (!server.ok()) return fail("--health-probe-bind-address " + probeAddress + ": " + server.error().describe());
    healthServer = std::move(*server);
    spdlog::info("serving /healthz and /readyz on port {}", healthServer->port());
  }

  // --- the controller
  auto selfAccount = selfServiceAccount(**client, stop.get_token());
  if (!selfAccount) {
    spdlog::info("stopped");
    return 0;
  }
  const auto& self = *selfAccount;
  if (!self.first.empty()) spdlog::info("running as ServiceAccount {}/{}", self.first, self.second);
  events::ClientEventSink sink(**client);
  reconcile::MetricsEventHooks eventMetrics(registry);
  events::RecorderOptions recorderOptions;
  const char* podName = std::getenv("POD_NAME");
  recorderOptions.reportingInstance = podName != nullptr && *podName != '\0' ? podName : hostName();
  recorderOptions.metrics = &eventMetrics;
  auto recorder = events::makeRecorder(sink, SteadyClock::instance(), recorderOptions);
  if (!recorder.ok()) return fail("events: " + recorder.error().describe());
  reconcile::EventNotifier notifier(**recorder);
  reconcile::ApiWriter writer(**client);
  reconcile::MetricsReconcileHooks reconcileMetrics(registry);
  registry.registerController(kControllerName, workers);
  metrics::PrometheusQueueMetrics queueMetrics(registry, kControllerName);
  metrics::PrometheusWorkerHooks workerHooks(registry, kControllerName, workers);

  std::unique_ptr<leader::LeaseElector> elector;
  reconcile::ControllerOptions options;
  options.workers = workers;
  options.policyDelay = std::chrono::milliseconds(statusDelayMs);
  options.policyInterval = std::chrono::milliseconds(statusIntervalMs);
  options.reconciler.selfNamespace = self.first;
  options.reconciler.selfName = self.second;
  options.reconciler.mayWrite = [&elector] { return !elector || elector->isLeader(); };
  options.queueMetrics = &queueMetrics;
  options.workerHooks = &workerHooks;
  options.wrapWork = [&workerHooks](queue::WorkFn fn) { return workerHooks.countActive(std::move(fn)); };
  options.reconcileHooks = &reconcileMetrics;
  auto controller = reconcile::Controller::create(**client, writer, notifier, options);
  if (!controller.ok()) return fail("controller: " + controller.error().describe());
  reconcile::Controller& ctl = **controller;
  // saguard_cache_objects{kind}, read from the stores at each scrape.
  for (const auto& [kind, count] : ctl.cacheObjectCounts()) registry.registerCacheKind(kind);
  auto cacheObjects = registry.onScrape([&registry, &ctl] {
    for (const auto& [kind, count] : ctl.cacheObjectCounts())
      registry.setCacheObjects(kind, static_cast<std::int64_t>(count));
  });

  running = &ctl;
  // Withdrawn before the controller is destroyed (declared after it).
  struct Withdraw {
    std::atomic<const reconcile::Controller*>& published;
    ~Withdraw() { published = nullptr; }
  } withdraw{running};

  ctl.startInformers();
  std::jthread trimmer = heapTrimmer(ctl);
  if (!leaderElect) {
    std::jthread workersThread([&ctl] { ctl.runWorkers(); });
    std::stop_callback onStop(stop.get_token(), [&ctl] { ctl.stop(); });
    workersThread.join();
  } else {
    if (leaseNamespace.empty()) leaseNamespace = config->namespace_.empty() ? "saguard-system" : config->namespace_;
    leader::KubeLeaseApi leases(**client);
    leader::LeaseElectorOptions electorOptions;
    electorOptions.leaseNamespace = leaseNamespace;
    electorOptions.leaseName = leaseId;
    registry.registerLeaderElection(leaseId);
    leader::LeaderCallbacks callbacks;
    callbacks.onStartedLeading = [&ctl](std::stop_token leading) {
      spdlog::info("became the leader: starting workers");
      std::stop_callback onStop(leading, [&ctl] { ctl.stop(); });
      ctl.runWorkers();
    };
    callbacks.onStoppedLeading = [] { spdlog::info("stopped leading"); };
    callbacks.onNewLeader = [](const std::string& identity) { spdlog::info("the leader is {}", identity); };
    callbacks.onLeadingChanged = [&registry](std::string_view name, bool leading) { registry.setLeader(name, leading); };
    auto made = leader::LeaseElector::create(electorOptions, callbacks, leases);
    if (!made.ok()) return fail("leader election: " + made.error().describe());
    elector = std::move(*made);
    Status ran = elector->run(stop.get_token());
    if (!ran.ok()) {
      // Lost the lease without being asked to stop: another replica may be writing
      // already. Exit at once, non-zero; the Deployment restarts this one as a standby.
      spdlog::error("leader election lost: {}; exiting", ran.error().describe());
      std::fflush(nullptr);
      std::_Exit(1);
    }
  }
  ctl.stop();
  spdlog::info("stopped");
  return 0;
}

int versionCommand() {
  std::cout << "saguard " << SAGUARD_VERSION << "\n";
  return 0;
}

void usage(std::ostream& out) {
  out << "saguard keeps service-account tokens out of pods that do not need them.\n\n"
         "Usage: saguard COMMAND [flags]\n\n"
         "Commands:\n"
         "  run       Run the controller (enforces ServiceAccountPolicies)\n"
         "  lint      Check manifests offline for tokens a policy disables (files, folders, -)\n"
         "  audit     List the pods that hold a token in a live cluster, and whether they need it\n"
         "  version   Print the version\n\n"
         "Run 'saguard COMMAND --help' for a command's flags.\n";
}

}  // namespace
}  // namespace saguard

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // glibc gives each thread that allocates an arena of its own (up to 8 per core) and
  // keeps freed memory in it. saguard's allocations are small and its threads few: one
  // arena, returned to the system above 64 KiB of free top, holds RSS near what the
  // caches hold (VmRSS 25 s after start against 10,000 pods: 28,652 kB against 49,864 kB
  // with glibc's defaults).
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    saguard::usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  // One I/O thread carries every connection of run and audit (see setIoThreads): each
  // request blocks its own caller, so the pool only completes socket and TLS work, and
  // more threads only wake each other. saguard run's CPU for the first 8 s against
  // 10,000 pods: 1.19-1.24 s with 1 thread, 1.47-1.61 s with 2, 1.60-1.89 s with 4.
  if (command == "run" || command == "audit") {
    if (auto st = saguard::kube::setIoThreads(1); !st.ok()) {
      std::cerr << "saguard: " << st.error().message << "\n";
      return 1;
    }
  }
  if (command == "run") return saguard::runCommand(args);
  if (command == "lint") return saguard::audit::runLint(args, std::cin, std::cout, std::cerr);
  if (command == "audit") return saguard::audit::runAudit(args, std::cout, std::cerr);
  if (command == "version" || command == "--version") return saguard::versionCommand();
  std::cerr << "saguard: unknown command \"" << command << "\"\n\n";
  saguard::usage(std::cerr);
  return 2;
}
