// saguard-bench-list: how much CPU saguard's client spends to list a collection from a
// live API server, page by page, as a reflector does (bytes only: no decoding, which
// bench/decode measures). A measurement, not a test.
//
//   saguard-bench-list --kubeconfig K [--resource pods] [--page-size 500] [--repeat 3]
//                      [--stream-seconds S]
//
// Prints, per listing: items' bytes, wall seconds, this process's CPU seconds
// (getrusage: user + system, all threads, the client's I/O thread included) and MB per
// CPU second. --stream-seconds S: a streaming list instead, as the reflector syncs (a
// watch with sendInitialEvents=true, resourceVersionMatch=NotOlderThan, bookmarks, in
// protobuf), which the server ends after S seconds (timeoutSeconds): give it enough for
// the initial events; the wait after them costs no CPU. "pages" is then the number of
// pieces the transport handed over.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "base/flags.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "kube/resource.h"
#include "kube/rest_client.h"

namespace {

using namespace saguard;

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig;
  std::string resourceName = "pods";
  int pageSize = 500;
  int repeat = 3;
  int streamSeconds = 0;
  FlagSet flags("saguard-bench-list",
                "Lists a collection through saguard's client and prints its CPU cost.");
  flags.add("kubeconfig", &kubeconfig, "Path to a kubeconfig.");
  flags.add("resource", &resourceName, "pods, serviceaccounts or rolebindings.");
  flags.add("page-size", &pageSize, "Items per page (the reflector's limit).");
  flags.add("repeat", &repeat, "How many listings.");
  flags.add("stream-seconds", &streamSeconds,
            "A streaming list (watch) that the server ends after this many seconds.");
  auto rest = flags.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!rest.ok() || !rest->empty()) {
    std::cerr << "saguard-bench-list: "
              << (rest.ok() ? "unexpected argument" : rest.error().message) << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return 0;
  }
  const kube::Resource* resource =
      resourceName == "pods"              ? &kube::resources::kPods
      : resourceName == "serviceaccounts" ? &kube::resources::kServiceAccounts
      : resourceName == "rolebindings"    ? &kube::resources::kRoleBindings
                                          : nullptr;
  if (resource == nullptr) {
    std::cerr << "saguard-bench-list: --resource: pods, serviceaccounts or rolebindings\n";
    return 2;
  }
  if (Status st = kube::setIoThreads(1); !st) {
    std::cerr << "saguard-bench-list: " << st.error().describe() << "\n";
    return 2;
  }
  auto config = kube::loadConfig({.kubeconfig = kubeconfig});
  if (!config.ok()) {
    std::cerr << "saguard-bench-list: " << config.error().describe() << "\n";
    return 2;
  }
  kube::ClientOptions options;
  options.userAgent = "saguard-bench-list";
  auto client = kube::makeRestClient(*config, options);
  if (!client.ok()) {
    std::cerr << "saguard-bench-list: " << client.error().describe() << "\n";
    return 2;
  }
  for (int i = 0; i < repeat; ++i) {
    std::size_t bytes = 0;
    int pages = 0;
    const double cpu0 = cpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    Status st;
    if (streamSeconds > 0) {
      kube::WatchOptions watch;
      watch.sendInitialEvents = true;
      watch.resourceVersionMatch = "NotOlderThan";
      watch.timeoutSeconds = streamSeconds;
      watch.accept = "application/vnd.kubernetes.protobuf;stream=watch";
      st = (*client)->watch(*resource, "", watch, [&](std::string_view chunk) -> Status {
        bytes += chunk.size();
        ++pages;
        return {};
      });
    } else {
      kube::ListOptions list;
      list.limit = pageSize;
      st = kube::listPages(**client, *resource, "", list, [&](const kube::Page& page) -> Status {
        bytes += page.body.size();
        ++pages;
        return {};
      });
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double cpu = cpuSeconds() - cpu0;
    if (!st) {
      std::cerr << "saguard-bench-list: " << st.error().describe() << "\n";
      return 1;
    }
    std::printf("%s: pages=%d bytes=%zu wall_s=%.3f cpu_s=%.3f mb_per_cpu_s=%.1f\n",
                resourceName.c_str(), pages, bytes, wall, cpu,
                static_cast<double>(bytes) / 1e6 / cpu);
  }
  return 0;
}
