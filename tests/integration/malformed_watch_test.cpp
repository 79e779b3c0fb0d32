// Malformed objects from the API, fed to saguard's reflector through a REAL watch (and
// a real list): they are logged with their namespace/name and skipped, the watch goes
// on, and the valid objects around them reach the cache. Never a crash.
//
// The API server validates Pods and RoleBindings, so it never serves one with a string
// for spec.volumes. A CustomResourceDefinition with the same kind names ("Pod",
// "RoleBinding", group malformed.saguard.io) and a schema that keeps unknown fields
// stores whatever it is given; the informers under test read those resources with the
// decoders of the real kinds (codecDecoding<Kind::Pod>, <Kind::RoleBinding>). The seam
// is ReflectorOptions::resource: no controller change is needed.
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/decoding.h"
#include "cache/informer.h"
#include "cache/kinds.h"
#include "integration/support/admin_client.h"
#include "integration/support/controlplane_env.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace saguard::cache {
namespace {

namespace cp = saguard::testing;
using cp::adminClient;
using namespace std::chrono_literals;

const kube::Resource kFakePods{"malformed.saguard.io", "v1", "pods", true};
const kube::Resource kFakeRoleBindings{"malformed.saguard.io", "v1", "rolebindings", true};

// Collects what saguard logs (the reflector reports skipped objects through spdlog).
class CapturingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines(const std::string& needle) {
    std::lock_guard lock(linesMu_);
    std::vector<std::string> out;
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) out.push_back(l);
    }
    return out;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(linesMu_);
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::mutex linesMu_;
  std::vector<std::string> lines_;
};

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()), sink_(std::make_shared<CapturingSink>()) {
    auto logger = std::make_shared<spdlog::logger>("malformed-watch-test", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  CapturingSink& sink() { return *sink_; }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<CapturingSink> sink_;
};

std::string crd(const std::string& kind, const std::string& plural) {
  return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  "
         "name: " +
         plural +
         ".malformed.saguard.io\nspec:\n  group: malformed.saguard.io\n  scope: Namespaced\n  "
         "names:\n    kind: " +
         kind + "\n    plural: " + plural +
         "\n    singular: " + plural.substr(0, plural.size() - 1) +
         "\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      "
         "openAPIV3Schema:\n"
         "        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";
}

// Creates an object by POSTing JSON straight to the API (no kubectl: it would parse
// the 1 MiB and deeply nested documents itself first). Returns the HTTP status.
int post(const kube::Resource& resource, const std::string& ns, const std::string& body) {
  const auto& plane = cp::controlPlane();
  char path[] = "/tmp/saguard-malformed-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  close(fd);
  std::ofstream(path, std::ios::binary) << body;
  auto r = cp::run("curl -s -o /dev/null -w '%{http_code}' --cacert " + plane.caFile + " --cert " +
                   plane.adminCertFile + " --key " + plane.adminKeyFile +
                   " -H 'Content-Type: application/json' -X POST --data-binary @" + path + " " +
                   plane.apiServerUrl + "/apis/" + resource.group + "/" + resource.version +
                   "/namespaces/" + ns + "/" + resource.plural);
  std::remove(path);
  return std::atoi(r.out.c_str());
}

std::string pod(const std::string& ns, const std::string& name, const std::string& specJson,
                const std::string& extra = "") {
  return R"({"apiVersion":"malformed.saguard.io/v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"("},"spec":)" + specJson + extra + "}";
}

std::string nested(int depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

struct Case {
  std::string name;
  std::string body;
  bool valid;
};

std::vector<Case> podCases(const std::string& ns) {
  const std::string projected =
      R"({"serviceAccountName":"builder","volumes":[{"name":"t","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}]})";
  return {
      {"valid-first", pod(ns, "valid-first", projected), true},
      {"volumes-a-string", pod(ns, "volumes-a-string", R"({"volumes":"not a list"})"), false},
      {"automount-yes", pod(ns, "automount-yes", R"({"automountServiceAccountToken":"yes"})"),
       false},
      {"account-a-number", pod(ns, "account-a-number", R"({"serviceAccountName":42})"), false},
      {"sources-a-map",
       pod(ns, "sources-a-map", R"({"volumes":[{"name":"t","projected":{"sources":{"a":1}}}]})"),
       false},
      // 1 MiB where a name belongs: over the decoder's 64 KiB field limit.
      {"huge-account",
       pod(ns, "huge-account", R"({"serviceAccountName":")" + std::string(1 << 20, 'x') + R"("})"),
       false},
      // 1 MiB in a field the decoder skips: harmless.
      {"huge-skipped",
       pod(ns, "huge-skipped", R"({"nodeName":"n"})",
           R"(,"status":{"message":")" + std::string(1 << 20, 'y') + R"("})"),
       true},
      // 1000 levels where the decoder reads (volumes[0] must be an object)...
      {"deep-volumes", pod(ns, "deep-volumes", R"({"volumes":)" + nested(1000) + "}"), false},
      // ...and 1000 levels in a field it skips.
      {"deep-skipped",
       pod(ns, "deep-skipped", R"({"serviceAccountName":"deep"})",
           R"(,"status":{"x":)" + nested(1000) + "}"),
       true},
      // 5000 levels (the API server accepts up to 10000; simdjson's default depth limit is 1024).
      {"deeper-volumes", pod(ns, "deeper-volumes", R"({"volumes":)" + nested(5000) + "}"), false},
      {"deeper-skipped",
       pod(ns, "deeper-skipped", R"({})", R"(,"status":{"x":)" + nested(5000) + "}"), true},
      // Missing fields: no spec at all is a pod of account "default" without a token.
      {"no-spec",
       R"({"apiVersion":"malformed.saguard.io/v1","kind":"Pod","metadata":{"name":"no-spec","namespace":")" +
           ns + R"("}})",
       true},
      {"null-volumes",
       pod(ns, "null-volumes", R"({"volumes":null,"automountServiceAccountToken":null})"), true},
      {"volume-without-name-fields",
       pod(ns, "volume-without-name-fields", R"({"volumes":[{}, {"secret":{}}]})"), true},
      {"valid-last", pod(ns, "valid-last", R"({"automountServiceAccountToken":false})"), true},
  };
}

std::vector<Case> bindingCases(const std::string& ns) {
  auto binding = [&](const std::string& name, const std::string& rest) {
    return R"({"apiVersion":"malformed.saguard.io/v1","kind":"RoleBinding","metadata":{"name":")" +
           name + R"(","namespace":")" + ns + R"("})" + rest + "}";
  };
  return {
      {"rb-valid",
       binding(
           "rb-valid",
           R"(,"roleRef":{"kind":"ClusterRole","name":"view","apiGroup":"rbac.authorization.k8s.io"},"subjects":[{"kind":"ServiceAccount","name":"a","namespace":"x"}])"),
       true},
      {"rb-no-roleref",
       binding("rb-no-roleref", R"(,"subjects":[{"kind":"ServiceAccount","name":"a"}])"), false},
      {"rb-subject-without-name",
       binding(
           "rb-subject-without-name",
           R"(,"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount"}])"),
       false},
      {"rb-subjects-a-string",
       binding("rb-subjects-a-string",
               R"(,"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":"everyone")"),
       false},
      {"rb-roleref-name-a-list",
       binding("rb-roleref-name-a-list", R"(,"roleRef":{"kind":"ClusterRole","name":["view"]})"),
       false},
      {"rb-valid-last", binding("rb-valid-last", R"(,"roleRef":{"kind":"Role","name":"r"})"), true},
  };
}

class MalformedWatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto [kind, plural] :
         {std::pair{"Pod", "pods"}, std::pair{"RoleBinding", "rolebindings"}}) {
      auto r = cp::kubectl("apply -f -", crd(kind, plural));
      ASSERT_EQ(r.exitCode, 0) << r.err;
      auto w = cp::kubectl(std::string("wait --for=condition=Established --timeout=60s crd/") +
                           plural + ".malformed.saguard.io");
      ASSERT_EQ(w.exitCode, 0) << w.err;
    }
    // Discovery of a new CRD takes a moment even after Established.
    ASSERT_TRUE(cp::eventually(
        30'000, [] { return cp::kubectl("get pods.malformed.saguard.io -A").exitCode == 0; }));
  }

  static ReflectorOptions options(const kube::Resource& resource, const std::string& ns) {
    ReflectorOptions o;
    o.resource = resource;
    o.name = "malformed-" + resource.plural;
    o.namespace_ = ns;
    o.backoff.max = 2s;
    return o;
  }

  // Every case through a watch, then all of them again through a list.
  template <typename R, codec::Kind K>
  void check(const kube::Resource& resource, const std::string& prefix,
             std::vector<Case> (*cases)(const std::string& ns)) {
    LogCapture capture;
    auto client = adminClient();
    ASSERT_NE(client, nullptr);
    const std::string ns = cp::freshNamespace(prefix);
    auto watched = Informer<R>::create(*client, codecDecoding<K>(),
                                       {.reflector = options(resource, ns), .indexers = {}});
    ASSERT_TRUE(watched.ok()) << watched.error().describe();
    auto& informer = **watched;
    informer.start();
    ASSERT_TRUE(informer.waitForSync(std::chrono::steady_clock::now() + 60s, {}));

    std::size_t bad = 0;
    for (const auto& c : cases(ns)) {
      const int code = post(resource, ns, c.body);
      ASSERT_EQ(code, 201) << c.name << ": the API server did not store it (" << code << ")";
      if (!c.valid) ++bad;
    }
    // The last case is valid: once it is in the cache, the watch got past every bad one.
    const std::string last = cases(ns).back().name;
    ASSERT_TRUE(cp::eventually(60'000, [&] { return informer.store().get(ns, last) != nullptr; }))
        << "the watch did not get past the malformed objects; skipped " << informer.stats().skipped
        << ", failures " << informer.stats().failures
        << (informer.stats().lastFailure ? ": " + informer.stats().lastFailure->describe() : "");
    EXPECT_TRUE(cp::eventually(10'000, [&] { return informer.stats().skipped >= bad; }));
    for (const auto& c : cases(ns)) {
      if (c.valid) {
        EXPECT_NE(informer.store().get(ns, c.name), nullptr)
            << c.name << " is valid and should be cached";
      } else {
        EXPECT_EQ(informer.store().get(ns, c.name), nullptr)
            << c.name << " is malformed and should be skipped";
        auto logged =
            capture.sink().lines("skipping malformed watch event for " + ns + "/" + c.name + ":");
        EXPECT_EQ(logged.size(), 1u) << c.name << ": logged " << logged.size() << " times";
        for (const auto& line : logged)
          std::printf("[malformed] %s\n", line.substr(0, 300).c_str());
      }
    }
    ReflectorStats stats = informer.stats();
    EXPECT_EQ(stats.skipped, bad);
    EXPECT_EQ(stats.failures, 0u) << (stats.lastFailure ? stats.lastFailure->describe() : "");
    EXPECT_EQ(stats.relists, 0u);
    EXPECT_EQ(stats.watches, 1u) << "the watch was restarted";

    // A malformed object fixed later arrives; one deleted while malformed is a skipped
    // event too, never a failure.
    const std::string fixedName = cases(ns)[1].name;
    ASSERT_EQ(cp::kubectl("delete " + resource.plural + ".malformed.saguard.io " + fixedName +
                          " -n " + ns)
                  .exitCode,
              0);
    std::string fixedBody = cases(ns).front().body;
    const std::string firstName = cases(ns).front().name;
    fixedBody.replace(fixedBody.find(firstName), firstName.size(), fixedName);
    ASSERT_EQ(post(resource, ns, fixedBody), 201);
    EXPECT_TRUE(
        cp::eventually(30'000, [&] { return informer.store().get(ns, fixedName) != nullptr; }));
    EXPECT_EQ(informer.stats().failures, 0u);

    // The same objects through a list: a second informer that starts now.
    auto listed = Informer<R>::create(*client, codecDecoding<K>(),
                                      {.reflector = options(resource, ns), .indexers = {}});
    ASSERT_TRUE(listed.ok());
    (*listed)->start();
    ASSERT_TRUE((*listed)->waitForSync(std::chrono::steady_clock::now() + 60s, {}));
    std::size_t badListed = 0;
    for (const auto& c : cases(ns)) {
      if (c.name == fixedName) continue;
      if (c.valid) {
        EXPECT_NE((*listed)->store().get(ns, c.name), nullptr) << c.name << " (list)";
      } else {
        ++badListed;
        EXPECT_EQ((*listed)->store().get(ns, c.name), nullptr) << c.name << " (list)";
        auto logged =
            capture.sink().lines("skipping malformed object " + ns + "/" + c.name + " (list item");
        EXPECT_EQ(logged.size(), 1u) << c.name << ": logged " << logged.size() << " times (list)";
      }
    }
    EXPECT_NE((*listed)->store().get(ns, fixedName), nullptr);
    EXPECT_EQ((*listed)->stats().skipped, badListed);
    EXPECT_EQ((*listed)->stats().failures, 0u);
    std::printf(
        "[malformed] %s: %zu malformed skipped by the watch, %zu by the list; %zu valid cached\n",
        resource.plural.c_str(), static_cast<std::size_t>(stats.skipped),
        static_cast<std::size_t>((*listed)->stats().skipped), informer.store().size());
    (*listed)->stop();
    informer.stop();
  }
};

TEST_F(MalformedWatchTest, MalformedPodsAreLoggedAndSkippedAndTheWatchGoesOn) {
  check<objects::Pod, codec::Kind::Pod>(kFakePods, "malformed-pods", podCases);
}

TEST_F(MalformedWatchTest, MalformedBindingsAreLoggedAndSkippedAndTheWatchGoesOn) {
  check<objects::Binding, codec::Kind::RoleBinding>(kFakeRoleBindings, "malformed-bindings",
                                                    bindingCases);
}

// Labels that are not a map of strings: the API server refuses them for any kind
// (metadata is ObjectMeta even in a custom resource), so no watch can carry them.
TEST_F(MalformedWatchTest, TheApiServerRefusesLabelsThatAreNotAMap) {
  const std::string ns = cp::freshNamespace("malformed-labels");
  int code = post(
      kFakePods, ns,
      R"({"apiVersion":"malformed.saguard.io/v1","kind":"Pod","metadata":{"name":"labels-a-list","namespace":")" +
          ns + R"(","labels":["a","b"]},"spec":{}})");
  EXPECT_EQ(code, 400);
}

}  // namespace
}  // namespace saguard::cache
