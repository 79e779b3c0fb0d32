// Decode benchmark (issue #3): how fast a PodList of 20,000 realistic pods (about
// 3.5 KB each: managedFields, status with conditions and containerStatuses, several
// volumes including a kube-api-access projected volume, two containers with env and
// resources) becomes projected Pod records, against nlohmann/json's DOM parse of the
// same bytes measured in the same run. Not a test: it prints figures.
//
//   decode_bench [--pods N] [--iterations K] [--no-dom]
//   decode_bench --print-pod      (one generated pod, to see what is measured)
//
// Prints MB/s (best and median of K runs, by wall time and by this thread's CPU time:
// on a shared machine the CPU figure is the steadier one) for (a) a warm decoder,
// (a') a cold one and (b) nlohmann/json, and the ratio (a)/(b). The simdjson figures
// include everything a reflector pays: parsing, projection, interning and the vector
// of records. Exit status 1 if the decoded records do not match what was generated
// (a benchmark of a broken decoder is worthless), 2 on bad arguments.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/decoder.h"

namespace {

using saguard::codec::Decoder;
using saguard::codec::Kind;
using saguard::codec::kPadding;
using saguard::objects::TokenVolume;
using saguard::objects::Tristate;

// A deterministic generator, so every run measures the same bytes.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  std::string hex(int n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < n; ++i) out += digits[below(16)];
    return out;
  }
  std::string suffix(int n) {
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    std::string out;
    for (int i = 0; i < n; ++i) out += alphabet[below(sizeof(alphabet) - 1)];
    return out;
  }

 private:
  std::uint64_t state_;
};

struct Expected {
  std::size_t pods = 0;
  std::size_t projected = 0;
  std::size_t legacy = 0;
  std::size_t automountFalse = 0;
};

std::string uid(Rng& rng) {
  return rng.hex(8) + "-" + rng.hex(4) + "-" + rng.hex(4) + "-" + rng.hex(4) + "-" + rng.hex(12);
}

std::string timestamp(Rng& rng) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:%02d:%02dZ",
                1 + static_cast<int>(rng.below(12)), 1 + static_cast<int>(rng.below(28)),
                static_cast<int>(rng.below(24)), static_cast<int>(rng.below(60)),
                static_cast<int>(rng.below(60)));
  return buf;
}

std::string container(Rng& rng, const std::string& name, const std::string& tokenVolume,
                      bool withEnv) {
  std::string env;
  const int envCount = withEnv ? 2 : 0;
  for (int i = 0; i < envCount; ++i) {
    if (i) env += ",";
    if (i == 1) {
      env +=
          R"({"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}})";
    } else {
      env += R"({"name":"SETTING_)" + std::to_string(i) + R"(","value":")" + rng.hex(6) + R"("})";
    }
  }
  std::string mounts = R"({"mountPath":"/etc/)" + name + R"(","name":"config","readOnly":true})";
  if (!tokenVolume.empty()) {
    mounts += R"(,{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":")" +
              tokenVolume + R"(","readOnly":true})";
  }
  const std::string ports = withEnv ? R"("ports":[{"containerPort":)" +
                                          std::to_string(8000 + rng.below(1000)) +
                                          R"(,"name":"http","protocol":"TCP"}],)"
                                    : std::string();
  return R"({"env":[)" + env + R"(],"image":"registry.example.com/team/)" + name + ":1." +
         std::to_string(rng.below(50)) + R"(.0","imagePullPolicy":"IfNotPresent","name":")" + name +
         R"(",)" + ports +
         R"("resources":{"limits":{"memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},)"
         R"("volumeMounts":[)" +
         mounts + "]}";
}

std::string pod(Rng& rng, std::size_t index, Expected& expected) {
  const std::string ns = "team-" + std::to_string(index % 50);
  const std::string app = "app-" + std::to_string(index % 400);
  const std::string hash = rng.hex(10);
  const std::string name = app + "-" + hash + "-" + rng.suffix(5);
  const std::string account = index % 3 == 0 ? "default" : app;
  const std::string created = timestamp(rng);

  // 70% projected token, 10% legacy secret, 20% none (automount false).
  const auto kind = rng.below(10);
  std::string tokenVolume;
  std::string tokenVolumeJson;
  std::string automount;
  if (kind < 7) {
    tokenVolume = "kube-api-access-" + rng.suffix(5);
    tokenVolumeJson =
        R"({"name":")" + tokenVolume +
        R"(","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
        R"({"configMap":{"items":[{"key":"ca.crt","path":"ca.crt"}],"name":"kube-root-ca.crt"}},)"
        R"({"downwardAPI":{"items":[{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"},"path":"namespace"}]}}]}})";
    ++expected.projected;
  } else if (kind < 8) {
    tokenVolume = account + "-token-" + rng.suffix(5);
    tokenVolumeJson = R"({"name":")" + tokenVolume +
                      R"(","secret":{"defaultMode":420,"secretName":")" + tokenVolume + R"("}})";
    ++expected.legacy;
  } else {
    automount = R"("automountServiceAccountToken":false,)";
    ++expected.automountFalse;
  }
  std::string volumes = R"({"configMap":{"defaultMode":420,"name":")" + app +
                        R"(-config"},"name":"config"},)"
                        R"({"emptyDir":{"sizeLimit":"1Gi"},"name":"cache"})";
  if (!tokenVolumeJson.empty()) volumes += "," + tokenVolumeJson;

  const std::string rsUid = uid(rng);
  std::string out;
  out.reserve(3600);
  out +=
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":")" +
      timestamp(rng) + R"("},"creationTimestamp":")" + created + R"(","generateName":")" + app +
      "-" + hash + R"(-","labels":{"app.kubernetes.io/name":")" + app +
      R"(","pod-template-hash":")" + hash + R"("},"managedFields":[)";
  out +=
      R"({"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{},"f:ownerReferences":{".":{},)"
      R"("k:{\"uid\":\")" +
      rsUid +
      R"(\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"main\"}":{}}}},)"
      R"("manager":"kube-controller-manager","operation":"Update","time":")" +
      created + R"("},)";
  out +=
      R"({"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:phase":{}}},"manager":"kubelet",)"
      R"("operation":"Update","subresource":"status","time":")" +
      created + R"("}],)";
  out +=
      R"("name":")" + name + R"(","namespace":")" + ns +
      R"(","ownerReferences":[{"apiVersion":"apps/v1","blockOwnerDeletion":true,"controller":true,"kind":"ReplicaSet","name":")" +
      app + "-" + hash + R"(","uid":")" + rsUid + R"("}],"resourceVersion":")" +
      std::to_string(100000 + index) + R"(","uid":")" + uid(rng) + R"("},)";
  out +=
      R"("spec":{)" + automount + R"("containers":[)" + container(rng, "main", tokenVolume, true) +
      "," + container(rng, "sidecar", tokenVolume, false) +
      R"(],"dnsPolicy":"ClusterFirst","nodeName":"node-)" + std::to_string(rng.below(40)) +
      R"(","restartPolicy":"Always","schedulerName":"default-scheduler",)"
      R"("securityContext":{"runAsNonRoot":true},"serviceAccount":")" +
      account + R"(","serviceAccountName":")" + account +
      R"(","terminationGracePeriodSeconds":30,"tolerations":[{"effect":"NoExecute","key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":300}],"volumes":[)" +
      volumes + "]},";
  const std::string ip =
      "10.244." + std::to_string(rng.below(256)) + "." + std::to_string(rng.below(256));
  std::string statuses;
  for (const char* c : {"main", "sidecar"}) {
    if (!statuses.empty()) statuses += ",";
    statuses +=
        std::string(R"({"image":"registry.example.com/team/)") + c +
        R"(:1.0.0","lastState":{},"name":")" + c +
        R"(","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":")" +
        created + R"("}}})";
  }
  out += R"("status":{"conditions":[)";
  bool first = true;
  for (const char* type : {"Initialized", "Ready", "PodScheduled"}) {
    if (!first) out += ",";
    first = false;
    out += R"({"lastProbeTime":null,"lastTransitionTime":")" + created +
           R"(","status":"True","type":")" + type + R"("})";
  }
  out += R"(],"containerStatuses":[)" + statuses + R"(],"hostIP":"10.0.0.)" +
         std::to_string(rng.below(250)) + R"(","phase":"Running","podIP":")" + ip +
         R"(","podIPs":[{"ip":")" + ip + R"("}],"qosClass":"Burstable","startTime":")" + created +
         R"("}})";
  ++expected.pods;
  return out;
}

std::string podList(std::size_t count, Expected& expected) {
  Rng rng(0x5a6e1a2d);
  std::string out = R"({"apiVersion":"v1","items":[)";
  out.reserve(count * 3300);
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += ",";
    out += pod(rng, i, expected);
  }
  out += R"(],"kind":"PodList","metadata":{"resourceVersion":"987654"}})";
  return out;
}

// CPU time of this thread: on a shared machine, wall time also counts the time other
// processes held the core; both are reported.
double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// MB/s of a series of runs: best and median, by wall and by CPU time.
class Series {
 public:
  Series(std::string name, double megabytes) : name_(std::move(name)), megabytes_(megabytes) {}

  // Times one run of `f`; f returns false if its result is wrong.
  template <typename F>
  bool run(F&& f) {
    const double cpuStart = threadCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    const bool ok = f();
    wall_.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu_.push_back(threadCpuSeconds() - cpuStart);
    return ok;
  }

  bool empty() const { return wall_.empty(); }
  double bestWall() const { return rate(wall_, 0); }
  double medianWall() const { return rate(wall_, wall_.size() / 2); }
  double bestCpu() const { return rate(cpu_, 0); }
  double medianCpu() const { return rate(cpu_, cpu_.size() / 2); }

  void print() const {
    std::printf("%-46s %10.1f %10.1f %10.1f %10.1f\n", name_.c_str(), bestWall(), medianWall(),
                bestCpu(), medianCpu());
  }

 private:
  double rate(std::vector<double> runs, std::size_t rank) const {
    std::sort(runs.begin(), runs.end());
    return megabytes_ / runs[rank];
  }

  std::string name_;
  double megabytes_;
  std::vector<double> wall_;
  std::vector<double> cpu_;
};

// Decodes the list and checks the records against what was generated.
bool decodeAndCheck(Decoder& decoder, std::string& json, const Expected& expected) {
  auto page = decoder.list<Kind::Pod>(json);
  if (!page.ok()) {
    std::fprintf(stderr, "decode failed: %s\n", page.error().describe().c_str());
    return false;
  }
  std::size_t projected = 0, legacy = 0, automountFalse = 0;
  for (const auto& p : page->items) {
    projected += p.token == TokenVolume::Projected;
    legacy += p.token == TokenVolume::LegacySecret;
    automountFalse += p.automount == Tristate::False;
  }
  if (page->items.size() != expected.pods || projected != expected.projected ||
      legacy != expected.legacy || automountFalse != expected.automountFalse ||
      !page->skipped.empty() || page->meta.resourceVersion != "987654") {
    std::fprintf(stderr, "decoded records do not match the generated list\n");
    return false;
  }
  return true;
}

int usage(const char* self) {
  std::fprintf(stderr, "usage: %s [--pods N] [--iterations K] [--no-dom] | --print-pod\n", self);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t pods = 20000;
  int iterations = 10;
  bool withDom = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--print-pod" && argc == 2) {
      Expected ignored;
      Rng rng(0x5a6e1a2d);
      std::printf("%s\n", pod(rng, 0, ignored).c_str());
      return 0;
    } else if (arg == "--no-dom") {
      withDom = false;
    } else if (arg == "--pods" && i + 1 < argc) {
      pods = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::atoi(argv[++i]);
    } else {
      return usage(argv[0]);
    }
  }
  if (pods == 0 || iterations <= 0) return usage(argv[0]);

  Expected expected;
  std::string json = podList(pods, expected);
  const std::size_t size = json.size();
  const double megabytes = static_cast<double>(size) / 1e6;
  // The body as a client holds it: a std::string with room for the padding, which the
  // decoder pads in place (no copy).
  json.reserve(size + kPadding);
  std::printf(
      "PodList: %zu pods, %.1f MB (%.0f bytes per pod); tokens: %zu projected, %zu legacy secret, "
      "%zu none\n",
      pods, megabytes, static_cast<double>(size) / static_cast<double>(pods), expected.projected,
      expected.legacy, expected.pods - expected.projected - expected.legacy);

  // (a) simdjson On-Demand into projected Pods, by one decoder that keeps its parser
  // buffers between runs: the steady state of a reflector reading list pages or watch
  // events, and the like-for-like comparison with nlohmann, whose allocations are
  // served warm from malloc's free lists after the first run.
  Decoder::Options keep;
  keep.retainBytes = std::numeric_limits<std::size_t>::max();
  Decoder warm(keep);
  Series warmRuns("(a) simdjson -> projected Pods, warm decoder", megabytes);
  // (a') The same with a fresh decoder per run: parser buffers allocated and faulted
  // in each time (what one huge relist costs a decoder with the default retainBytes).
  Series coldRuns("(a') simdjson -> projected Pods, cold decoder", megabytes);
  // (b) nlohmann/json's DOM parse of the same bytes (the DOM alone, no projection; its
  // destruction is not timed).
  Series domRuns("(b) nlohmann/json DOM parse", megabytes);

  for (int i = 0; i < iterations; ++i) {
    if (!warmRuns.run([&] { return decodeAndCheck(warm, json, expected); })) return 1;
    Decoder cold;
    if (!coldRuns.run([&] { return decodeAndCheck(cold, json, expected); })) return 1;
    if (withDom) {
      nlohmann::json doc;
      if (!domRuns.run([&] {
            doc = nlohmann::json::parse(json);
            return doc["items"].size() == expected.pods;
          })) {
        std::fprintf(stderr, "nlohmann parse lost items\n");
        return 1;
      }
    }
  }

  std::printf("%-46s %10s %10s %10s %10s\n",
              ("MB/s, " + std::to_string(iterations) + " runs each").c_str(), "wall best",
              "wall med.", "cpu best", "cpu med.");
  warmRuns.print();
  coldRuns.print();
  if (!domRuns.empty()) {
    domRuns.print();
    std::printf("%-46s %9.1fx %9.1fx %9.1fx %9.1fx\n", "ratio (a)/(b)",
                warmRuns.bestWall() / domRuns.bestWall(),
                warmRuns.medianWall() / domRuns.medianWall(),
                warmRuns.bestCpu() / domRuns.bestCpu(), warmRuns.medianCpu() / domRuns.medianCpu());
  }
  std::printf("target (a) >= 1000 MB/s: %s (best wall time), %s (median CPU time)\n",
              warmRuns.bestWall() >= 1000 ? "met" : "NOT met",
              warmRuns.medianCpu() >= 1000 ? "met" : "NOT met");
  return 0;
}
