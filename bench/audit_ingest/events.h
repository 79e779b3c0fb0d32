// Realistic audit events for the benchmarks (bench/audit_ingest, bench/audit_webhook): what a
// busy cluster's API server writes at the Metadata level, deterministic for a seed.
//
//   Generator generator(Shape{}, 0x5eed1);
//   Expected expected;
//   std::string batch;
//   openList(batch);                     // an EventList, what the webhook backend POSTs
//   for (int i = 0; i < 400; ++i) {
//     if (i) batch += ',';
//     generator.append(batch, expected);  // one event, about 1.3 KB
//   }
//   batch += "]}";
//
// 80% of the events come from service accounts (2,000 accounts in 100 namespaces, 20,000
// pods with bound tokens whose extra carries pod-name, pod-uid, node-name, node-uid and
// credential-id; a pod is replaced now and then), 20% from other users (nodes, the
// controller manager, the scheduler, a human through OIDC). Verbs, resources, stages and
// codes are mixed as a busy cluster logs them: get/list/watch most, some writes; core and
// group resources, subresources, a few non-resource paths; 403s, 404s; a watch logged at
// ResponseStarted and again at ResponseComplete; some RequestReceived stages for audit
// policies that keep them. Expected counts what policy::classify should take as uses, so a
// benchmark can check that it measured a working path.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace saguard::bench {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed | 1) {}
  std::uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(double p) { return static_cast<double>(next() % 1000000) < p * 1e6; }
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
  std::string uuid() {
    return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-8" + hex(3) + "-" + hex(12);
  }

 private:
  std::uint64_t state_;
};

struct Shape {
  std::size_t events = 200000;
  int namespaces = 100;
  int accountsPerNamespace = 20;  // 2,000 accounts
  int podsPerAccount = 10;        // 20,000 pods
  double serviceAccountShare = 0.8;
  std::int64_t start = 1796515200;  // 2026-12-06T00:00:00Z
  std::int64_t microsPerEvent = 5000;
};

struct Access {
  const char* verb;
  const char* group;  // "" for the core group
  const char* resource;
  const char* subresource;
  bool named;  // the request names an object (get, update, ...), not a collection
  int weight;
};

// What service accounts do, by weight.
inline const Access kAccesses[] = {
    {"get", "", "configmaps", "", true, 14},
    {"list", "", "configmaps", "", false, 6},
    {"watch", "", "configmaps", "", false, 6},
    {"get", "", "secrets", "", true, 10},
    {"list", "", "pods", "", false, 6},
    {"watch", "", "pods", "", false, 6},
    {"get", "", "pods", "", true, 5},
    {"get", "coordination.k8s.io", "leases", "", true, 8},
    {"update", "coordination.k8s.io", "leases", "", true, 8},
    {"list", "", "services", "", false, 3},
    {"watch", "", "endpoints", "", false, 3},
    {"list", "discovery.k8s.io", "endpointslices", "", false, 3},
    {"watch", "discovery.k8s.io", "endpointslices", "", false, 3},
    {"create", "", "events", "", false, 4},
    {"patch", "", "events", "", true, 2},
    {"get", "apps", "deployments", "", true, 3},
    {"patch", "apps", "deployments", "scale", true, 1},
    {"update", "apps", "deployments", "status", true, 1},
    {"get", "", "pods", "log", true, 1},
    {"create", "", "pods", "exec", true, 1},
    {"create", "authorization.k8s.io", "selfsubjectaccessreviews", "", false, 1},
    {"get", "", "", "", false, 2},  // non-resource: /version, /healthz, /api, /apis
};
inline const char* const kNonResource[] = {"/version", "/healthz", "/api", "/apis",
                                           "/openapi/v2?timeout=32s"};
inline const char* const kApps[] = {"web",    "api",       "worker", "billing", "search",
                                    "ingest", "scheduler", "cache",  "gateway", "reports"};

struct Pod {
  std::string name;
  std::string uid;
  std::string node;
  std::string jti;
};

struct Account {
  std::string ns;
  std::string name;
  std::string username;
  std::vector<Pod> pods;
};

// What the generated events should decode to.
struct Expected {
  std::size_t events = 0;
  std::size_t uses = 0;  // events classify() takes as a use
};

class Generator {
 public:
  Generator(const Shape& shape, std::uint64_t seed) : shape_(shape), rng_(seed) {
    for (int n = 0; n < shape.namespaces; ++n) {
      for (int a = 0; a < shape.accountsPerNamespace; ++a) {
        Account account;
        account.ns = "team-" + std::to_string(n);
        account.name = std::string(kApps[a % 10]) + (a >= 10 ? "-batch" : "");
        account.username = "system:serviceaccount:" + account.ns + ":" + account.name;
        for (int p = 0; p < shape.podsPerAccount; ++p) account.pods.push_back(newPod(account));
        accounts_.push_back(std::move(account));
      }
    }
    for (const auto& a : kAccesses) totalWeight_ += a.weight;
    micros_ = shape.start * 1000000;
  }

  std::size_t accounts() const { return accounts_.size(); }
  std::size_t pods() const {
    return accounts_.size() * static_cast<std::size_t>(shape_.podsPerAccount);
  }

  // Appends one event (no newline).
  void append(std::string& out, Expected& expected) {
    micros_ += static_cast<std::int64_t>(
        rng_.below(static_cast<std::uint64_t>(2 * shape_.microsPerEvent)));
    ++expected.events;
    if (rng_.chance(shape_.serviceAccountShare)) {
      appendAccountEvent(out, expected);
    } else {
      appendOtherEvent(out);
    }
  }

 private:
  Pod newPod(const Account& account) {
    Pod pod;
    pod.name = account.name + "-" + rng_.hex(10) + "-" + rng_.suffix(5);
    pod.uid = rng_.uuid();
    pod.node = "node-" + std::to_string(rng_.below(60));
    pod.jti = rng_.uuid();
    return pod;
  }

  const Access& pickAccess() {
    int w = static_cast<int>(rng_.below(static_cast<std::uint64_t>(totalWeight_)));
    for (const auto& a : kAccesses) {
      if (w < a.weight) return a;
      w -= a.weight;
    }
    return kAccesses[0];
  }

  static std::string time(std::int64_t micros) {
    const time_t seconds = static_cast<time_t>(micros / 1000000);
    struct tm tm {};
    gmtime_r(&seconds, &tm);
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(micros % 1000000));
    return buffer;
  }

  // Appends the start of an event, every kind alike: up to the opening quote of its
  // requestURI's value.
  void appendHead(std::string& out, const char* stage) {
    out += R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":")";
    out += rng_.uuid();
    out += R"(","stage":")";
    out += stage;
    out += R"(","requestURI":")";
  }

  void appendAccountEvent(std::string& out, Expected& expected) {
    Account& account = accounts_[rng_.below(accounts_.size())];
    const std::size_t podIndex = rng_.below(account.pods.size());
    // Pods are replaced now and then (a rollout): new name, uid and token.
    if (rng_.chance(0.0005)) account.pods[podIndex] = newPod(account);
    const Pod& pod = account.pods[podIndex];
    const Access& access = pickAccess();
    const bool watch = std::string_view(access.verb) == "watch";

    std::string uri;
    std::string objectRef;
    if (access.resource[0] == '\0') {
      uri = kNonResource[rng_.below(std::size(kNonResource))];
    } else {
      const bool core = access.group[0] == '\0';
      uri = core ? "/api/v1" : std::string("/apis/") + access.group + "/v1";
      uri += "/namespaces/" + account.ns + "/" + access.resource;
      const std::string object = account.name + (access.named ? "-" + rng_.suffix(5) : "");
      if (access.named) uri += "/" + object;
      if (access.subresource[0] != '\0') uri += std::string("/") + access.subresource;
      if (std::string_view(access.verb) == "list") uri += "?limit=500&resourceVersion=0";
      if (watch) {
        uri += "?allowWatchBookmarks=true&resourceVersion=" +
               std::to_string(100000 + rng_.below(900000)) + "&timeout=7m" +
               std::to_string(rng_.below(60)) +
               "s&timeoutSeconds=" + std::to_string(300 + rng_.below(300)) + "&watch=true";
      }
      objectRef = std::string(R"(,"objectRef":{"resource":")") + access.resource +
                  R"(","namespace":")" + account.ns + "\"";
      if (access.named) objectRef += R"(,"name":")" + object + "\"";
      if (!core) objectRef += std::string(R"(,"apiGroup":")") + access.group + "\"";
      objectRef += R"(,"apiVersion":"v1")";
      if (access.subresource[0] != '\0')
        objectRef += std::string(R"(,"subresource":")") + access.subresource + "\"";
      objectRef += "}";
    }

    // Stages: a watch is logged when it starts and when it ends; 5% of requests also
    // show their RequestReceived stage.
    const char* stage = "ResponseComplete";
    if (watch) {
      stage = rng_.chance(0.6) ? "ResponseStarted" : "ResponseComplete";
    } else if (rng_.chance(0.05)) {
      stage = "RequestReceived";
    }
    const bool counted =
        std::string_view(stage) == (watch ? "ResponseStarted" : "ResponseComplete");
    if (counted) ++expected.uses;

    int code = std::string_view(access.verb) == "create" ? 201 : 200;
    if (rng_.chance(0.04))
      code = 403;
    else if (access.named && rng_.chance(0.03))
      code = 404;

    const std::int64_t received = micros_ - static_cast<std::int64_t>(rng_.below(3000));
    appendHead(out, stage);
    out += uri;
    out += R"(","verb":")";
    out += access.verb;
    out += R"(","user":{"username":")";
    out += account.username;
    out += R"(","uid":")";
    out += pod.jti.substr(0, 8) + "-" + pod.uid.substr(9);
    out += R"(","groups":["system:serviceaccounts","system:serviceaccounts:)";
    out += account.ns;
    out +=
        R"(","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=)";
    out += pod.jti;
    out += R"("],"authentication.kubernetes.io/node-name":[")";
    out += pod.node;
    out += R"("],"authentication.kubernetes.io/node-uid":[")";
    out += pod.uid.substr(0, 24) + "0000" + pod.node.substr(pod.node.size() - 1) + "0000000";
    out += R"("],"authentication.kubernetes.io/pod-name":[")";
    out += pod.name;
    out += R"("],"authentication.kubernetes.io/pod-uid":[")";
    out += pod.uid;
    out += R"("]}},"sourceIPs":["10.244.)";
    out += std::to_string(rng_.below(256)) + "." + std::to_string(rng_.below(256));
    out += R"("],"userAgent":")";
    out += account.name;
    out += R"(/v1.)" + std::to_string(rng_.below(20)) + R"(.0 (linux/amd64) kubernetes/)" +
           rng_.hex(7);
    out += "\"";
    out += objectRef;
    appendStatus(out, code, stage);
    out += R"(,"requestReceivedTimestamp":")";
    out += time(received);
    out += R"(","stageTimestamp":")";
    out += time(micros_);
    out += R"(","annotations":{"authorization.k8s.io/decision":")";
    if (code == 403) {
      out += R"(forbid","authorization.k8s.io/reason":""}})";
    } else {
      out += R"(allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \")";
      out += account.name + "-role/" + account.ns;
      out += R"(\" of Role \")";
      out += account.name + "-role";
      out += R"(\" to ServiceAccount \")";
      out += account.name + "/" + account.ns;
      out += R"(\""}})";
    }
  }

  static void appendStatus(std::string& out, int code, std::string_view stage) {
    if (stage == "RequestReceived" || stage == "ResponseStarted") {
      if (stage == "ResponseStarted") out += R"(,"responseStatus":{"metadata":{},"code":200})";
      return;
    }
    out += R"(,"responseStatus":{"metadata":{},)";
    if (code == 403) {
      out +=
          R"("status":"Failure","message":"forbidden: the request is not allowed","reason":"Forbidden","details":{},)";
    } else if (code == 404) {
      out += R"("status":"Failure","message":"not found","reason":"NotFound","details":{},)";
    }
    out += R"("code":)" + std::to_string(code) + "}";
  }

  void appendOtherEvent(std::string& out) {
    static const char* const kUsers[] = {"system:node:", "system:kube-controller-manager",
                                         "system:kube-scheduler", "alice@example.com"};
    const std::size_t who = rng_.below(std::size(kUsers));
    std::string username = kUsers[who];
    std::string groups = R"("system:authenticated")";
    if (who == 0) {
      username += "node-" + std::to_string(rng_.below(60));
      groups = R"("system:nodes","system:authenticated")";
    } else if (who == 3) {
      groups = R"("oidc:platform-team","system:authenticated")";
    }
    const char* verbs[] = {"get", "list", "watch", "update", "patch"};
    const char* verb = verbs[rng_.below(5)];
    const bool watch = std::string_view(verb) == "watch";
    const std::string ns =
        "team-" + std::to_string(rng_.below(static_cast<std::uint64_t>(shape_.namespaces)));
    const char* resources[] = {"pods", "nodes", "leases", "configmaps", "events"};
    const char* resource = resources[rng_.below(5)];
    const char* stage = watch ? "ResponseStarted" : "ResponseComplete";
    const std::int64_t received = micros_ - static_cast<std::int64_t>(rng_.below(3000));
    appendHead(out, stage);
    out += "/api/v1/namespaces/";
    out += ns + "/" + resource +
           (watch ? "?allowWatchBookmarks=true&resourceVersion=4812345&timeout=8m21s&"
                    "timeoutSeconds=501&watch=true"
                  : "");
    out += R"(","verb":")";
    out += verb;
    out += R"(","user":{"username":")";
    out += username;
    out += R"(","groups":[)";
    out += groups;
    out += R"(]},"sourceIPs":["10.0.0.)";
    out += std::to_string(rng_.below(250));
    out += R"("],"userAgent":")";
    out += who == 3 ? "kubectl/v1.34.4 (linux/amd64) kubernetes/a1b2c3d"
                    : "kubelet/v1.34.4 (linux/amd64) kubernetes/a1b2c3d";
    out += R"(","objectRef":{"resource":")";
    out += resource;
    out += R"(","namespace":")";
    out += ns;
    out +=
        R"(","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":")";
    out += time(received);
    out += R"(","stageTimestamp":")";
    out += time(micros_);
    out +=
        R"(","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:)";
    out += who == 0 ? "node" : "controller";
    out += R"(\" of ClusterRole \"system:)";
    out += who == 0 ? "node" : "controller";
    out += R"(\" to Group \"system:authenticated\""}})";
  }

  Shape shape_;
  Rng rng_;
  std::vector<Account> accounts_;
  int totalWeight_ = 0;
  std::int64_t micros_ = 0;
};

// Starts an EventList in `out` (replacing what it held); close it with "]}".
inline void openList(std::string& out) {
  out = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)";
}

}  // namespace saguard::bench
