// Fills a cluster with a realistic population for the benchmarks, fast: N namespaces,
// their ServiceAccounts (`default`, made by kube-controller-manager, plus three), pods with
// realistic specs and RoleBindings, created concurrently over several connections with
// saguard's own client (controller/kube). Prints objects/s per kind and in total.
//
//   saguard-bench-populate create --kubeconfig K --pods N [--pods-per-namespace 20]
//                                 [--connections 4] [--concurrency 16] [--prefix bench]
//   saguard-bench-populate reset  --kubeconfig K [--connections 4] [--concurrency 16]
//   saguard-bench-populate disable --kubeconfig K --write saguard|peer [--connections 4]
//                                  [--concurrency 16]
//
// `create` makes namespaces PREFIX-00000..., labelled bench.saguard.io/population=true.
// Per namespace: ServiceAccounts default (unless kube-controller-manager made it first),
// api, worker, deployer; N/namespaces pods (a quarter of
// them run as `default`, which gives them a token since the account is non-compliant at
// creation; one in eight opts out itself); RoleBindings deployer→edit, and default→view in
// every fifth namespace. No scheduler runs, so pods stay Pending: the API objects are what
// the controllers cache. The last line is machine-readable:
//   populate: objects=N seconds=S objects_per_s=R pods=P pods_per_s=Q
//
// `reset` makes every `default` ServiceAccount outside kube-* non-compliant again (a merge
// patch that removes automountServiceAccountToken) so that the next controller starts from
// the same state: `reset: patched=N seconds=S`.
//
// `disable` makes those same accounts compliant the way a controller does, with nothing
// else running, so that the API server's cost of the writes alone can be measured (issue 19,
// bench/writes/server_memory.sh): `--write saguard` sends saguard's own write (its
// reconcile::ApiWriter: a server-side apply with the account's uid, answer in protobuf),
// `--write peer` the peer's (controller-runtime's client.MergeFrom: a JSON merge patch
// {"automountServiceAccountToken":false}, answer in JSON). `disable: patched=N seconds=S`.
//
// Exit status: 0 done, 1 an object could not be created (after retries), 2 bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/flags.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "reconcile/api_writer.h"

namespace {

using namespace saguard;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string kubeconfig;
  int pods = 1000;
  int podsPerNamespace = 20;
  int connections = 4;
  int concurrency = 16;
  std::string prefix = "bench";
  std::string write;  // disable: saguard | peer
};

// How a task writes: create `body`, merge-patch `name` with it, or make `name` compliant
// with saguard's own write (ApiWriter::disableAutomount; `body` holds the account's uid).
enum class Write { Create, MergePatch, SaguardApply };

struct Task {
  const kube::Resource* resource;
  std::string ns;
  std::string body;
  std::string name{};
  Write write = Write::Create;
};

const char* const kApps[] = {"checkout-api",   "payments-worker", "frontend",
                             "inventory-sync", "search-indexer",  "notifications",
                             "auth-gateway",   "reporting-batch"};
const char* const kTeams[] = {"shop", "core", "data", "platform"};
const char* const kAccounts[] = {"api", "worker", "deployer"};

std::string nsName(const Options& o, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%05d", i);
  return o.prefix + buf;
}

std::string namespaceJson(const Options& o, int i) {
  nlohmann::json ns = {{"apiVersion", "v1"},
                       {"kind", "Namespace"},
                       {"metadata",
                        {{"name", nsName(o, i)},
                         {"labels",
                          {{"bench.saguard.io/population", "true"},
                           {"team", kTeams[i % 4]},
                           {"environment", i % 3 == 0 ? "production" : "staging"}}}}}};
  return ns.dump();
}

std::string accountJson(const std::string& ns, const char* name) {
  nlohmann::json sa = {{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata",
                        {{"name", name},
                         {"namespace", ns},
                         {"labels", {{"app.kubernetes.io/managed-by", "bench"}}}}}};
  return sa.dump();
}

std::string roleBindingJson(const std::string& ns, const std::string& name,
                            const std::string& account, const char* clusterRole) {
  nlohmann::json rb = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", clusterRole}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", account}, {"namespace", ns}}}}};
  return rb.dump();
}

// A pod as a Deployment's ReplicaSet would create it: an init container, the app and a
// sidecar, env from literals, the downward API and a ConfigMap, probes, resources, a
// ConfigMap, a Secret and an emptyDir volume. The ServiceAccount admission plugin adds the
// kube-api-access-* projected volume unless the account or the pod opts out.
std::string podJson(const std::string& ns, int nsIndex, int podIndex) {
  const char* app = kApps[(nsIndex + podIndex) % 8];
  const char* team = kTeams[nsIndex % 4];
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08x",
                static_cast<unsigned>(nsIndex * 7919 + podIndex * 104729) & 0x7fffffffU);
  const std::string name = std::string(app) + "-" + hash + "-" + std::to_string(podIndex);
  const std::string account = podIndex % 4 == 0 ? "default" : kAccounts[podIndex % 3];
  const std::string image = std::string("registry.example.com/") + team + "/" + app + ":1.24." +
                            std::to_string(podIndex % 7);
  nlohmann::json env = nlohmann::json::array(
      {{{"name", "LOG_LEVEL"}, {"value", "info"}},
       {{"name", "APP_NAME"}, {"value", app}},
       {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
       {{"name", "POD_NAMESPACE"},
        {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
       {{"name", "DATABASE_URL"},
        {"valueFrom",
         {{"configMapKeyRef", {{"name", std::string(app) + "-config"}, {"key", "database-url"}}}}}},
       {{"name", "GOMAXPROCS"},
        {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}}}}}}});
  nlohmann::json appContainer = {
      {"name", "app"},
      {"image", image},
      {"args", {"--listen=:8080", "--config=/etc/app/config.yaml"}},
      {"ports",
       {{{"name", "http"}, {"containerPort", 8080}},
        {{"name", "metrics"}, {"containerPort", 9090}}}},
      {"env", env},
      {"resources",
       {{"requests", {{"cpu", "100m"}, {"memory", "256Mi"}}},
        {"limits", {{"cpu", "1"}, {"memory", "512Mi"}}}}},
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", "http"}}}, {"periodSeconds", 10}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}}, {"initialDelaySeconds", 15}}},
      {"volumeMounts",
       {{{"name", "config"}, {"mountPath", "/etc/app"}, {"readOnly", true}},
        {{"name", "tls"}, {"mountPath", "/etc/tls"}, {"readOnly", true}},
        {{"name", "cache"}, {"mountPath", "/var/cache/app"}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}}};
  nlohmann::json sidecar = {
      {"name", "log-shipper"},
      {"image", "registry.example.com/platform/log-shipper:3.2.1"},
      {"env", {{{"name", "SHIP_TO"}, {"value", "logs.example.com:24224"}}}},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "32Mi"}}}, {"limits", {{"memory", "64Mi"}}}}},
      {"volumeMounts", {{{"name", "cache"}, {"mountPath", "/var/log/app"}, {"readOnly", true}}}}};
  nlohmann::json init = {
      {"name", "migrate"},
      {"image", image},
      {"command", {"/app/migrate", "--wait-for-db"}},
      {"envFrom", {{{"configMapRef", {{"name", std::string(app) + "-config"}}}}}}};
  nlohmann::json spec = {
      {"serviceAccountName", account},
      {"initContainers", {init}},
      {"containers", {appContainer, sidecar}},
      {"volumes",
       {{{"name", "config"}, {"configMap", {{"name", std::string(app) + "-config"}}}},
        {{"name", "tls"}, {"secret", {{"secretName", std::string(app) + "-tls"}}}},
        {{"name", "cache"}, {"emptyDir", {{"sizeLimit", "1Gi"}}}}}},
      {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 10001}, {"fsGroup", 10001}}},
      {"terminationGracePeriodSeconds", 30},
      {"nodeSelector", {{"kubernetes.io/os", "linux"}}},
      {"tolerations",
       {{{"key", "dedicated"}, {"operator", "Equal"}, {"value", team}, {"effect", "NoSchedule"}}}}};
  if (podIndex % 8 == 5) spec["automountServiceAccountToken"] = false;
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels",
         {{"app.kubernetes.io/name", app},
          {"app.kubernetes.io/part-of", team},
          {"app.kubernetes.io/version", "1.24"},
          {"pod-template-hash", hash},
          {"tier", podIndex % 2 == 0 ? "backend" : "frontend"}}},
        {"annotations", {{"prometheus.io/scrape", "true"}, {"prometheus.io/port", "9090"}}}}},
      {"spec", spec}};
  return pod.dump();
}

bool retriable(const Error& e) {
  switch (e.kind) {
    case ErrorKind::TooManyRequests:
    case ErrorKind::Unavailable:
    case ErrorKind::Timeout:
    case ErrorKind::Transport:
      return true;
    // A pod created before kube-controller-manager made its namespace's `default`
    // account is refused with 403 "error looking up service account": wait and retry.
    case ErrorKind::Forbidden:
      return e.message.find("service account") != std::string::npos;
    default:
      return false;
  }
}

// Runs `tasks` on `concurrency` threads spread over `clients` (each its own connection
// pool). AlreadyExists counts as done, so a second run over the same prefix is harmless.
// Returns the number of tasks that failed.
int runTasks(std::vector<std::unique_ptr<kube::Client>>& clients, int concurrency,
             const std::vector<Task>& tasks) {
  std::atomic<std::size_t> next{0};
  std::atomic<int> failed{0};
  std::mutex logMu;
  std::vector<std::jthread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      kube::Client& api = *clients[static_cast<std::size_t>(t) % clients.size()];
      for (std::size_t i = next++; i < tasks.size(); i = next++) {
        const Task& task = tasks[i];
        for (int attempt = 0;; ++attempt) {
          Status st;
          switch (task.write) {
            case Write::Create: {
              auto r = api.create(*task.resource, task.ns, task.body,
                                  {.fieldManager = "bench-populate"});
              if (!r.ok() && !r.is(ErrorKind::AlreadyExists)) st = r.error();
              break;
            }
            case Write::MergePatch: {
              auto r = api.patch(*task.resource, task.ns, task.name, kube::PatchType::Merge,
                                 task.body, {.fieldManager = "bench-populate"});
              if (!r.ok() && !r.is(ErrorKind::NotFound)) st = r.error();
              break;
            }
            case Write::SaguardApply: {
              auto r = reconcile::ApiWriter(api).disableAutomount(task.ns, task.name, task.body);
              if (!r.ok() && !r.is(ErrorKind::NotFound)) st = r.error();
              break;
            }
          }
          if (st.ok()) break;
          if (!retriable(st.error()) || attempt >= 200) {
            std::lock_guard lock(logMu);
            std::cerr << "populate: " << task.resource->plural << " " << task.ns << "/" << task.name
                      << ": " << st.error().describe() << "\n";
            ++failed;
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (attempt + 1), 500)));
        }
      }
    });
  }
  threads.clear();  // joins
  return failed.load();
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int phase(std::vector<std::unique_ptr<kube::Client>>& clients, int concurrency, const char* what,
          const std::vector<Task>& tasks, std::size_t& total) {
  auto start = Clock::now();
  int failed = runTasks(clients, concurrency, tasks);
  double s = secondsSince(start);
  std::printf("populate: %-16s %7zu in %7.2f s = %8.0f /s%s\n", what, tasks.size(), s,
              s > 0 ? static_cast<double>(tasks.size()) / s : 0.0, failed ? " (FAILURES)" : "");
  std::fflush(stdout);
  total += tasks.size();
  return failed;
}

int createPopulation(std::vector<std::unique_ptr<kube::Client>>& clients, const Options& o) {
  const int namespaces = std::max(1, (o.pods + o.podsPerNamespace - 1) / o.podsPerNamespace);
  std::vector<Task> nsTasks, saTasks, podTasks;
  for (int i = 0; i < namespaces; ++i)
    nsTasks.push_back({&kube::resources::kNamespaces, "", namespaceJson(o, i)});
  for (int i = 0; i < namespaces; ++i) {
    const std::string ns = nsName(o, i);
    // `default` too, as kube-controller-manager would make it: its client is limited to 20
    // requests/s (shared with the kube-root-ca.crt ConfigMap it puts in every namespace), and
    // a pod that runs as an account that does not exist yet is refused. AlreadyExists (it
    // was first) is as good.
    saTasks.push_back(
        {&kube::resources::kServiceAccounts, ns,
         R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})"});
    for (const char* account : kAccounts)
      saTasks.push_back({&kube::resources::kServiceAccounts, ns, accountJson(ns, account)});
    saTasks.push_back({&kube::resources::kRoleBindings, ns,
                       roleBindingJson(ns, "deployer-edit", "deployer", "edit")});
    if (i % 5 == 0)
      saTasks.push_back({&kube::resources::kRoleBindings, ns,
                         roleBindingJson(ns, "default-view", "default", "view")});
  }
  // Pods interleaved across namespaces, as workloads roll out.
  podTasks.reserve(static_cast<std::size_t>(o.pods));
  for (int p = 0; p < o.pods; ++p) {
    const int nsIndex = p % namespaces;
    podTasks.push_back({&kube::resources::kPods, nsName(o, nsIndex),
                        podJson(nsName(o, nsIndex), nsIndex, p / namespaces)});
  }
  std::size_t total = 0;
  auto start = Clock::now();
  int failed = phase(clients, o.concurrency, "namespaces", nsTasks, total);
  failed += phase(clients, o.concurrency, "accounts+rbac", saTasks, total);
  auto podStart = Clock::now();
  failed += phase(clients, o.concurrency, "pods", podTasks, total);
  double podSeconds = secondsSince(podStart);
  double s = secondsSince(start);
  std::printf(
      "populate: objects=%zu seconds=%.2f objects_per_s=%.0f pods=%d pods_per_s=%.0f "
      "namespaces=%d\n",
      total, s, static_cast<double>(total) / s, o.pods, o.pods / podSeconds, namespaces);
  return failed ? 1 : 0;
}

// Lists every `default` ServiceAccount outside kube-* and patches those whose field is set
// (`reset`: back to non-compliant) or not set (`disable`: compliant, by `o.write`).
int patchDefaults(std::vector<std::unique_ptr<kube::Client>>& clients, const std::string& command,
                  const Options& o) {
  const bool reset = command == "reset";
  auto start = Clock::now();
  std::vector<Task> tasks;
  Status st = kube::listPages(
      *clients[0], kube::resources::kServiceAccounts, "",
      {.fieldSelector = "metadata.name=default", .limit = 2000},
      [&](const kube::Page& page) -> Status {
        if (page.index == 0) tasks.clear();
        auto list = nlohmann::json::parse(page.body, nullptr, false);
        if (!list.is_object()) return makeError(ErrorKind::Internal, "unparsable list");
        for (const auto& item : list["items"]) {
          const auto& meta = item["metadata"];
          std::string ns = meta.value("namespace", "");
          if (ns.starts_with("kube-") || item.contains("automountServiceAccountToken") != reset)
            continue;
          if (reset)
            tasks.push_back({&kube::resources::kServiceAccounts, ns,
                             R"({"automountServiceAccountToken":null})", "default",
                             Write::MergePatch});
          else if (o.write == "peer")
            tasks.push_back({&kube::resources::kServiceAccounts, ns,
                             R"({"automountServiceAccountToken":false})", "default",
                             Write::MergePatch});
          else
            tasks.push_back({&kube::resources::kServiceAccounts, ns, meta.value("uid", ""),
                             "default", Write::SaguardApply});
        }
        return {};
      });
  if (!st.ok()) {
    std::cerr << command << ": listing ServiceAccounts: " << st.error().describe() << "\n";
    return 1;
  }
  int failed = runTasks(clients, o.concurrency, tasks);
  std::printf("%s: patched=%zu seconds=%.2f\n", command.c_str(), tasks.size(), secondsSince(start));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* usage =
      "usage: saguard-bench-populate create|reset|disable --kubeconfig K [--pods N] "
      "[--write saguard|peer] [flags]; --help for flags\n";
  if (args.empty() || (args[0] != "create" && args[0] != "reset" && args[0] != "disable")) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  Options o;
  FlagSet flags("saguard-bench-populate " + command,
                "Creates (or resets) the benchmark population.");
  flags.add("kubeconfig", &o.kubeconfig, "Path to an admin kubeconfig.");
  flags.add("pods", &o.pods, "How many pods.");
  flags.add("pods-per-namespace", &o.podsPerNamespace,
            "Pods per namespace (namespaces = pods / this).");
  flags.add("connections", &o.connections, "Clients (each its own connection pool).");
  flags.add("concurrency", &o.concurrency, "Requests in flight.");
  flags.add("prefix", &o.prefix, "Namespace name prefix.");
  flags.add("write", &o.write,
            "disable: whose write, saguard (server-side apply) or peer (merge patch).");
  auto rest = flags.parse(args);
  if (!rest.ok() || !rest->empty()) {
    std::cerr << (rest.ok() ? "unexpected argument" : rest.error().message) << "\n" << usage;
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return 0;
  }
  if (o.pods < 0 || o.podsPerNamespace < 1 || o.connections < 1 || o.concurrency < 1) {
    std::cerr
        << "populate: --pods >= 0, --pods-per-namespace, --connections and --concurrency >= 1\n";
    return 2;
  }
  if ((command == "disable") != (o.write == "saguard" || o.write == "peer")) {
    std::cerr << "populate: disable needs --write saguard or --write peer (and only disable takes "
                 "--write)\n";
    return 2;
  }
  auto config = kube::loadConfig({.kubeconfig = o.kubeconfig});
  if (!config.ok()) {
    std::cerr << "populate: " << config.error().describe() << "\n";
    return 2;
  }
  std::vector<std::unique_ptr<kube::Client>> clients;
  for (int i = 0; i < o.connections; ++i) {
    kube::ClientOptions options;
    options.userAgent = "saguard-bench-populate";
    auto client = kube::makeRestClient(*config, options);
    if (!client.ok()) {
      std::cerr << "populate: " << client.error().describe() << "\n";
      return 2;
    }
    clients.push_back(std::move(*client));
  }
  return command == "create" ? createPopulation(clients, o) : patchDefaults(clients, command, o);
}
