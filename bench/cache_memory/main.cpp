// Memory per cached Pod: how much the process's resident set grows when an informer
// holds N realistic pods (default 100,000). Not a test: a measurement, printed.
//
// The pods go through the production path: a kube::Client (here one that generates
// PodList pages on the fly, 500 pods each, about 3 KB of JSON per pod with
// managedFields, status, several volumes incl. the kube-api-access projected volume)
// -> kube::listPages -> codec's simdjson decoder -> the reflector -> the informer's
// store with its index of pods by account. Pages are generated when asked for and
// dropped after decoding, so the JSON is never all in memory at once.
//
// RSS is read from /proc/self/statm before (after a warm-up run that pages in the code
// and the allocator's arenas, then malloc_trim) and after the informer has synced and
// stopped (then malloc_trim, so freed JSON pages do not count).
//
//   cache_memory_bench [--pods N] [--namespaces N] [--accounts-per-namespace N]
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/intern.h"
#include "cache/kinds.h"
#include "kube/client.h"

namespace {

using namespace saguard;

struct Shape {
  std::int64_t pods = 100000;
  int namespaces = 200;
  int accountsPerNamespace = 4;
  std::int64_t pageSize = 500;
};

long residentBytes() {
  std::ifstream statm("/proc/self/statm");
  long sizePages = 0;
  long residentPages = 0;
  statm >> sizePages >> residentPages;
  return residentPages * sysconf(_SC_PAGESIZE);
}

const char* const kApps[] = {"checkout-api",   "payments-worker", "frontend",
                             "inventory-sync", "search-indexer",  "notifications",
                             "auth-gateway",   "reporting-batch"};
const char* const kTeams[] = {"shop", "core", "data", "platform"};

std::string randomId(std::mt19937_64& rng, int length) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < length; ++i) out += alphabet[rng() % (sizeof alphabet - 1)];
  return out;
}

std::string uuid(std::mt19937_64& rng) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 36; ++i)
    out += (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[rng() % 16];
  return out;
}

// One pod as the API server serializes it, about 3 KB.
void appendPod(std::string& out, std::int64_t index, const Shape& shape, std::mt19937_64& rng) {
  const int nsIndex = static_cast<int>(index % shape.namespaces);
  const std::string ns = "team-" + std::to_string(nsIndex);
  const char* app = kApps[index % 8];
  const char* team = kTeams[nsIndex % 4];
  const std::string hash = randomId(rng, 10);
  const std::string name = std::string(app) + "-" + hash + "-" + randomId(rng, 5);
  const int accountIndex =
      static_cast<int>((index / shape.namespaces) % shape.accountsPerNamespace);
  const std::string account =
      accountIndex == 0 ? "default" : std::string(app) + "-sa-" + std::to_string(accountIndex);
  const std::string uid = uuid(rng);
  const std::string rv = std::to_string(1000000 + index);
  const std::string node = "node-" + std::to_string(index % 97);
  const std::string ip = "10." + std::to_string(index % 250) + "." +
                         std::to_string((index / 250) % 250) + "." +
                         std::to_string(index % 200 + 2);
  out +=
      R"({"metadata":{"name":")" + name + R"(","generateName":")" + app + "-" + hash +
      R"(-","namespace":")" + ns + R"(","uid":")" + uid + R"(","resourceVersion":")" + rv +
      R"(","creationTimestamp":"2025-03-14T09:26:53Z","labels":{"app.kubernetes.io/name":")" + app +
      R"(","app.kubernetes.io/part-of":")" + team + R"(","pod-template-hash":")" + hash +
      R"("},"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-03-14T09:20:00Z","prometheus.io/scrape":"true","prometheus.io/port":"9090"},)"
      R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" +
      app + "-" + hash + R"(","uid":")" + uuid(rng) +
      R"(","controller":true,"blockOwnerDeletion":true}],)"
      R"("managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2025-03-14T09:26:53Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"LOG_LEVEL\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:resources":{".":{},"f:limits":{".":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}},"f:volumeMounts":{".":{},"k:{\"mountPath\":\"/etc/app\"}":{".":{},"f:mountPath":{},"f:name":{}}}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:serviceAccount":{},"f:serviceAccountName":{},"f:terminationGracePeriodSeconds":{},"f:volumes":{".":{},"k:{\"name\":\"config\"}":{".":{},"f:configMap":{".":{},"f:defaultMode":{},"f:name":{}},"f:name":{}}}}}}]},)";
  out +=
      R"("spec":{"volumes":[{"name":"config","configMap":{"name":")" + std::string(app) +
      R"(-config","defaultMode":420}},{"name":"cache","emptyDir":{"sizeLimit":"1Gi"}},)"
      R"({"name":"kube-api-access-)" +
      randomId(rng, 5) +
      R"(","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],)"
      R"("containers":[{"name":"app","image":"registry.example.com/)" +
      team + "/" + app +
      R"(:1.24.3","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],"env":[{"name":"LOG_LEVEL","value":"info"}],)"
      R"("resources":{"limits":{"memory":"512Mi"},"requests":{"cpu":"100m","memory":"256Mi"}},)"
      R"("volumeMounts":[{"name":"config","mountPath":"/etc/app"},{"name":"cache","mountPath":"/var/cache/app"},{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],)"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":")" +
      account + R"(","serviceAccount":")" + account + R"(","nodeName":")" + node +
      R"(","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},)";
  out +=
      R"("status":{"phase":"Running","conditions":[{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-03-14T09:27:01Z"},{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-03-14T09:27:05Z"},{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-03-14T09:27:05Z"},{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-03-14T09:26:53Z"}],)"
      R"("hostIP":"192.168.)" +
      std::to_string(index % 97) + R"(.10","podIP":")" + ip + R"(","podIPs":[{"ip":")" + ip +
      R"("}],"startTime":"2025-03-14T09:26:53Z","containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2025-03-14T09:27:04Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"registry.example.com/)" +
      team + "/" + app + R"(:1.24.3","imageID":"registry.example.com/)" + team + "/" + app +
      R"(@sha256:)" + randomId(rng, 64) + R"(","containerID":"containerd://)" + randomId(rng, 64) +
      R"(","started":true}],"qosClass":"Burstable"}})";
}

// A kube::Client that serves a PodList of shape.pods pods, generated page by page.
class GeneratedPods final : public kube::Client {
 public:
  explicit GeneratedPods(Shape shape) : shape_(shape) {}

  Result<std::string> list(const kube::Resource&, std::string_view,
                           const kube::ListOptions& options, const kube::CallOptions&) override {
    const std::int64_t limit = options.limit > 0 ? options.limit : shape_.pods;
    const std::int64_t first =
        options.continueToken.empty() ? 0 : std::stoll(options.continueToken);
    const std::int64_t end = std::min(shape_.pods, first + limit);
    std::mt19937_64 rng(static_cast<std::uint64_t>(first) * 7919 + 17);
    std::string page;
    page.reserve(static_cast<std::size_t>(end - first) * 3300 + 256);
    page += R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"99999999")";
    if (end < shape_.pods) page += R"(,"continue":")" + std::to_string(end) + '"';
    page += R"(},"items":[)";
    for (std::int64_t i = first; i < end; ++i) {
      if (i > first) page += ',';
      const std::size_t before = page.size();
      appendPod(page, i, shape_, rng);
      std::lock_guard lock(mu_);
      jsonBytes_ += page.size() - before;
    }
    page += "]}";
    return page;
  }

  Status watch(const kube::Resource&, std::string_view, const kube::WatchOptions&,
               const kube::ChunkSink&, std::stop_token stop) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, stop, [] { return false; });  // an idle watch until the informer stops
    return {};
  }

  Result<std::string> get(const kube::Resource&, std::string_view, std::string_view,
                          const kube::GetOptions&) override {
    return unsupported();
  }
  Result<std::string> create(const kube::Resource&, std::string_view, std::string_view,
                             const kube::WriteOptions&) override {
    return unsupported();
  }
  Result<std::string> createSubresource(const kube::Resource&, std::string_view, std::string_view,
                                        std::string_view, std::string_view,
                                        const kube::WriteOptions&) override {
    return unsupported();
  }
  Result<std::string> update(const kube::Resource&, std::string_view, std::string_view,
                             std::string_view, const kube::WriteOptions&) override {
    return unsupported();
  }
  Result<std::string> updateStatus(const kube::Resource&, std::string_view, std::string_view,
                                   std::string_view, const kube::WriteOptions&) override {
    return unsupported();
  }
  Result<std::string> patch(const kube::Resource&, std::string_view, std::string_view,
                            kube::PatchType, std::string_view, const kube::WriteOptions&) override {
    return unsupported();
  }
  Result<std::string> remove(const kube::Resource&, std::string_view, std::string_view,
                             const kube::DeleteOptions&) override {
    return unsupported();
  }
  Result<std::string> discover(std::string_view, std::string_view) override {
    return unsupported();
  }

  std::uint64_t jsonBytes() const {
    std::lock_guard lock(mu_);
    return jsonBytes_;
  }

 private:
  static Error unsupported() { return makeError(ErrorKind::Internal, "not used by the benchmark"); }

  Shape shape_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::uint64_t jsonBytes_ = 0;
};

// Lists `shape.pods` pods into a pod informer and returns it, synced and stopped.
std::unique_ptr<cache::PodInformer> fill(GeneratedPods& client, const Shape& shape) {
  cache::ReflectorOptions options;
  options.pageSize = shape.pageSize;
  auto informer = cache::makePodInformer(client, options);
  if (!informer.ok()) {
    std::fprintf(stderr, "cache_memory_bench: %s\n", informer.error().describe().c_str());
    std::exit(1);
  }
  (*informer)->start();
  if (!(*informer)->waitForSync(std::chrono::steady_clock::now() + std::chrono::minutes(10), {})) {
    std::fprintf(stderr, "cache_memory_bench: the informer did not sync\n");
    std::exit(1);
  }
  (*informer)->stop();
  return std::move(*informer);
}

std::int64_t parseFlag(int& i, int argc, char** argv) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "cache_memory_bench: %s needs a value\n", argv[i]);
    std::exit(2);
  }
  return std::atoll(argv[++i]);
}

}  // namespace

int main(int argc, char** argv) {
  Shape shape;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--pods") {
      shape.pods = parseFlag(i, argc, argv);
    } else if (flag == "--namespaces") {
      shape.namespaces = static_cast<int>(parseFlag(i, argc, argv));
    } else if (flag == "--accounts-per-namespace") {
      shape.accountsPerNamespace = static_cast<int>(parseFlag(i, argc, argv));
    } else {
      std::fprintf(
          stderr,
          "usage: cache_memory_bench [--pods N] [--namespaces N] [--accounts-per-namespace N]\n");
      return 2;
    }
  }
  if (shape.pods <= 0 || shape.namespaces <= 0 || shape.accountsPerNamespace <= 0) {
    std::fprintf(
        stderr,
        "cache_memory_bench: --pods, --namespaces and --accounts-per-namespace must be positive\n");
    return 2;
  }

  // Warm-up on a small list: pages in the code, starts and stops the threads once, and
  // grows the allocator's arenas, none of which is per-pod cost.
  {
    Shape small = shape;
    small.pods = std::min<std::int64_t>(shape.pods, 2000);
    GeneratedPods warmClient(small);
    auto warm = fill(warmClient, small);
  }
  malloc_trim(0);
  const long before = residentBytes();
  const std::size_t heapBefore = mallinfo2().uordblks;

  GeneratedPods client(shape);
  const auto started = std::chrono::steady_clock::now();
  auto informer = fill(client, shape);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  malloc_trim(0);
  const long after = residentBytes();
  const std::size_t heapAfter = mallinfo2().uordblks;

  const std::size_t stored = informer->store().size();
  if (stored != static_cast<std::size_t>(shape.pods)) {
    std::fprintf(stderr, "cache_memory_bench: %zu pods in the store, expected %" PRId64 "\n",
                 stored, shape.pods);
    return 1;
  }
  auto keys = informer->store().indexKeys(cache::kPodsByAccount);
  const double perPod = static_cast<double>(after - before) / static_cast<double>(shape.pods);
  std::printf("pods cached:           %zu (%d namespaces, %zu account index keys)\n", stored,
              shape.namespaces, keys.ok() ? keys->size() : 0);
  std::printf(
      "JSON listed:           %.1f MB (%.0f bytes per pod), in %.2f s (list + decode + store)\n",
      static_cast<double>(client.jsonBytes()) / 1e6,
      static_cast<double>(client.jsonBytes()) / static_cast<double>(shape.pods), seconds);
  std::printf("strings interned:      %zu in the process (namespaces, account names, ...)\n",
              internedCount());
  std::printf("RSS before / after:    %.1f MB / %.1f MB\n", static_cast<double>(before) / 1e6,
              static_cast<double>(after) / 1e6);
  std::printf(
      "heap in use per pod:   %.0f bytes (malloc'd chunks, without fragmentation or free pages)\n",
      (static_cast<double>(heapAfter) - static_cast<double>(heapBefore)) /
          static_cast<double>(shape.pods));
  std::printf("RSS growth per pod:    %.0f bytes (target <= 512)\n", perPod);
  return perPod <= 512.0 ? 0 : 3;
}
