// Measures, from outside a controller, how fast it makes `default` ServiceAccounts
// compliant (automountServiceAccountToken: false). Two commands:
//
//   saguard-bench-latency wait-compliant --kubeconfig K [--pid-file F] [--timeout-seconds 1800]
//     Lists and watches every `default` ServiceAccount (kube-* namespaces excluded). Prints
//     `ready noncompliant=N` once it has listed (start the controller after that line), then
//     `compliant epoch_ms=T noncompliant_at_start=N` the moment the last one is seen with the
//     field false, followed, when F names a live process (the controller, written after
//     `ready`), by that moment's `cpu_seconds=` (utime+stime), `rss_kb=` and `hwm_kb=` of it.
//     Exit 0; 3 on timeout.
//
//   saguard-bench-latency react --kubeconfig K [--count 1000] [--rate 50] [--prefix bench-lat]
//                               [--samples FILE] [--timeout-seconds 120]
//     Creates `count` namespaces at a steady `rate` per second, each with its non-compliant
//     `default` ServiceAccount (created here right after the namespace, or by
//     kube-controller-manager if it comes first), while a separate watch on those
//     accounts records, for each, when the first version with the field false was seen.
//     Latency = that moment minus the account's creation (when our create call was
//     answered; when kube-controller-manager created it first, when its first version was
//     seen), both on this process's clock. Writes the raw samples (TSV, times in ms since
//     the tool started; latency_ms is column 7) and prints
//       latency: count=N seen=N compliant=N missing=M p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
//                mean_ms=.. writes_max=W
//     where writes_max is the largest number of versions an account went through after it
//     was first seen (1 = exactly one write). Exit 0; 3 when some account never became
//     compliant before the timeout (they count as missing, not in the percentiles).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/flags.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace {

using namespace saguard;
using Clock = std::chrono::steady_clock;
const Clock::time_point kStart = Clock::now();

double nowMs() {
  return std::chrono::duration<double, std::milli>(Clock::now() - kStart).count();
}

long long epochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool compliant(const nlohmann::json& sa) {
  auto it = sa.find("automountServiceAccountToken");
  return it != sa.end() && it->is_boolean() && !it->get<bool>();
}

// Splits a watch stream into lines and hands each decoded event to `onEvent`.
class EventFramer {
 public:
  using Handler = std::function<Status(const std::string& type, const nlohmann::json& object)>;
  explicit EventFramer(Handler onEvent) : onEvent_(std::move(onEvent)) {}

  Status feed(std::string_view chunk) {
    buffer_.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(buffer_.data() + start, nl - start);
      if (line.empty()) continue;
      auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_object()) return makeError(ErrorKind::Internal, "unparsable watch event");
      const std::string type = event.value("type", "");
      if (type == "ERROR") {
        const auto& status = event["object"];
        return makeError(kindFromStatus(status.value("code", 500), status.value("reason", "")),
                         "watch: " + status.value("message", std::string("error event")));
      }
      if (auto rv = event["object"]["metadata"].find("resourceVersion");
          rv != event["object"]["metadata"].end())
        resourceVersion = rv->get<std::string>();
      if (type != "BOOKMARK") {
        if (Status st = onEvent_(type, event["object"]); !st.ok()) return st;
      }
    }
    buffer_.erase(0, start);
    return {};
  }

  std::string resourceVersion;

 private:
  Handler onEvent_;
  std::string buffer_;
};

// Lists `default` accounts, then watches them from the list's version, resuming after the
// server ends a stream and relisting after 410, until `stop`. `onList` gets each full
// listing (after a relist too); `onEvent` each change.
Status listAndWatch(kube::Client& api, std::stop_token stop,
                    const std::function<void(const nlohmann::json& items)>& onList,
                    const EventFramer::Handler& onEvent) {
  const std::string selector = "metadata.name=default";
  while (!stop.stop_requested()) {
    auto list = api.list(kube::resources::kServiceAccounts, "", {.fieldSelector = selector});
    if (!list.ok()) return list.error();
    auto doc = nlohmann::json::parse(*list, nullptr, false);
    if (!doc.is_object()) return makeError(ErrorKind::Internal, "unparsable ServiceAccountList");
    onList(doc["items"]);
    EventFramer framer(onEvent);
    framer.resourceVersion = doc["metadata"].value("resourceVersion", "");
    while (!stop.stop_requested()) {
      Status st = api.watch(
          kube::resources::kServiceAccounts, "",
          {.fieldSelector = selector,
           .resourceVersion = framer.resourceVersion,
           .allowWatchBookmarks = true,
           .timeoutSeconds = 300},
          [&](std::string_view chunk) { return framer.feed(chunk); }, stop);
      if (st.is(ErrorKind::Gone)) break;  // relist
      if (!st.ok() && !stop.stop_requested()) {
        std::cerr << "watch: " << st.error().describe() << " (retrying)\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
  return {};
}

std::unique_ptr<kube::Client> connect(const std::string& kubeconfig) {
  auto config = kube::loadConfig({.kubeconfig = kubeconfig});
  if (!config.ok()) {
    std::cerr << "latency: " << config.error().describe() << "\n";
    std::exit(2);
  }
  kube::ClientOptions options;
  options.userAgent = "saguard-bench-latency";
  auto client = kube::makeRestClient(*config, options);
  if (!client.ok()) {
    std::cerr << "latency: " << client.error().describe() << "\n";
    std::exit(2);
  }
  return std::move(*client);
}

// " cpu_seconds=.. rss_kb=.. hwm_kb=.." of the process whose id is in `pidFile`, or "".
std::string processFigures(const std::string& pidFile) {
  if (pidFile.empty()) return "";
  std::ifstream pidIn(pidFile);
  long pid = 0;
  if (!(pidIn >> pid) || pid <= 0) return "";
  std::ifstream statIn("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(statIn)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After the name: state(3) ... utime(14) stime(15), so fields 3..15 -> indices 0..12.
  for (int i = 0; i <= 12 && fields >> field; ++i) {
    if (i == 11) utime = std::stoull(field);
    if (i == 12) stime = std::stoull(field);
  }
  long rss = -1, hwm = -1;
  std::ifstream statusIn("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(statusIn, line);) {
    if (line.starts_with("VmRSS:")) rss = std::stol(line.substr(6));
    if (line.starts_with("VmHWM:")) hwm = std::stol(line.substr(6));
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, " cpu_seconds=%.3f rss_kb=%ld hwm_kb=%ld",
                static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK)), rss,
                hwm);
  return buf;
}

int waitCompliant(const std::string& kubeconfig, const std::string& pidFile, int timeoutSeconds) {
  auto api = connect(kubeconfig);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> noncompliant;
  bool listed = false;
  std::size_t atStart = 0;
  std::stop_source stop;
  auto track = [&](const std::string& type, const nlohmann::json& sa) {
    const std::string ns = sa["metadata"].value("namespace", "");
    if (ns.starts_with("kube-")) return;
    if (type == "DELETED" || compliant(sa)) {
      noncompliant.erase(ns);
    } else {
      noncompliant.insert(ns);
    }
  };
  std::jthread watcher([&] {
    Status st = listAndWatch(
        *api, stop.get_token(),
        [&](const nlohmann::json& items) {
          std::lock_guard lock(mu);
          noncompliant.clear();
          for (const auto& sa : items) track("ADDED", sa);
          if (!listed) atStart = noncompliant.size();
          listed = true;
          cv.notify_all();
        },
        [&](const std::string& type, const nlohmann::json& sa) -> Status {
          std::lock_guard lock(mu);
          track(type, sa);
          if (noncompliant.empty()) cv.notify_all();
          return {};
        });
    if (!st.ok()) std::cerr << "wait-compliant: " << st.error().describe() << "\n";
    std::lock_guard lock(mu);
    listed = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return listed; });
  std::printf("ready noncompliant=%zu\n", noncompliant.size());
  std::fflush(stdout);
  bool done =
      cv.wait_for(lock, std::chrono::seconds(timeoutSeconds), [&] { return noncompliant.empty(); });
  const long long at = epochMs();
  const std::string figures = done ? processFigures(pidFile) : "";
  const std::size_t left = noncompliant.size();
  lock.unlock();
  stop.request_stop();
  if (!done) {
    std::printf("timeout noncompliant=%zu\n", left);
    return 3;
  }
  std::printf("compliant epoch_ms=%lld noncompliant_at_start=%zu%s\n", at, atStart,
              figures.c_str());
  std::fflush(stdout);
  return 0;
}

struct Sample {
  double createSent = -1, createDone = -1, accountCreated = -1, seen = -1, compliant = -1;
  int versionsAfterSeen = 0;
};

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank.
  std::size_t rank = static_cast<std::size_t>(
      std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(sorted.size()))));
  return sorted[std::min(rank, sorted.size()) - 1];
}

int react(const std::string& kubeconfig, int count, double rate, const std::string& prefix,
          const std::string& samplesPath, int timeoutSeconds) {
  auto watchApi = connect(kubeconfig);
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Sample> samples;  // by namespace
  for (int i = 0; i < count; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "-%05d", i);
    samples[prefix + buf] = {};
  }
  int compliantCount = 0;
  bool listed = false;
  std::stop_source stop;
  std::jthread watcher([&] {
    Status st = listAndWatch(
        *watchApi, stop.get_token(),
        [&](const nlohmann::json&) {
          std::lock_guard lock(mu);
          listed = true;
          cv.notify_all();
        },
        [&](const std::string& type, const nlohmann::json& sa) -> Status {
          const double t = nowMs();
          if (type == "DELETED") return {};
          std::lock_guard lock(mu);
          auto it = samples.find(sa["metadata"].value("namespace", ""));
          if (it == samples.end()) return {};
          Sample& s = it->second;
          if (s.seen < 0) {
            s.seen = t;
          } else {
            ++s.versionsAfterSeen;
          }
          if (s.compliant < 0 && compliant(sa)) {
            s.compliant = t;
            ++compliantCount;
            cv.notify_all();
          }
          return {};
        });
    if (!st.ok()) std::cerr << "react: watch: " << st.error().describe() << "\n";
  });
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return listed; })) {
      std::cerr << "react: could not list ServiceAccounts\n";
      stop.request_stop();
      return 2;
    }
  }

  // Creators: namespace i is due at i / rate seconds; 16 threads so that a slow create
  // does not hold the next one back.
  constexpr int kCreators = 16;
  std::vector<std::unique_ptr<kube::Client>> clients;
  for (int c = 0; c < kCreators; ++c) clients.push_back(connect(kubeconfig));
  std::atomic<int> failures{0};
  const auto due0 = Clock::now() + std::chrono::milliseconds(100);
  {
    std::vector<std::jthread> creators;
    for (int c = 0; c < kCreators; ++c) {
      creators.emplace_back([&, c] {
        for (int i = c; i < count; i += kCreators) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "-%05d", i);
          const std::string ns = prefix + buf;
          std::this_thread::sleep_until(
              due0 + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate)));
          nlohmann::json body = {
              {"apiVersion", "v1"},
              {"kind", "Namespace"},
              {"metadata", {{"name", ns}, {"labels", {{"bench.saguard.io/latency", "true"}}}}}};
          const double sent = nowMs();
          auto made = clients[static_cast<std::size_t>(c)]->create(
              kube::resources::kNamespaces, "", body.dump(), {.fieldManager = "bench-latency"});
          const double done = nowMs();
          double accountCreated = -1;
          if (!made.ok()) {
            std::cerr << "react: create namespace " << ns << ": " << made.error().describe()
                      << "\n";
            ++failures;
          } else {
            // The account itself, at once, rather than when kube-controller-manager gets to
            // it (its client is limited to 20 requests/s, shared with the ConfigMaps it
            // publishes into every new namespace): the accounts must appear at a steady rate.
            // AlreadyExists = the controller manager was first, as good.
            auto account = clients[static_cast<std::size_t>(c)]->create(
                kube::resources::kServiceAccounts, ns,
                R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})",
                {.fieldManager = "bench-latency"});
            if (account.ok()) accountCreated = nowMs();
            if (!account.ok() && !account.is(ErrorKind::AlreadyExists)) {
              std::cerr << "react: create " << ns << "/default: " << account.error().describe()
                        << "\n";
              ++failures;
            }
          }
          std::lock_guard lock(mu);
          samples[ns].createSent = sent;
          samples[ns].createDone = done;
          samples[ns].accountCreated = accountCreated;
        }
      });
    }
  }
  const double createdAll = nowMs();
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(timeoutSeconds),
                [&] { return compliantCount >= count; });
  }
  stop.request_stop();
  watcher.join();

  std::vector<double> latencies;
  int seen = 0, writesMax = 0;
  double sum = 0;
  std::ofstream out;
  if (!samplesPath.empty()) {
    out.open(samplesPath);
    out << "namespace\tcreate_sent_ms\tcreate_done_ms\taccount_created_ms\tseen_ms\tcompliant_"
           "ms\tlatency_ms\t"
           "versions_after_seen\n";
  }
  for (const auto& [ns, s] : samples) {
    if (s.seen >= 0) ++seen;
    // From the account's creation (our create call answered) when we made it; from its
    // first version on the watch when kube-controller-manager was first.
    const double origin = s.accountCreated >= 0 ? s.accountCreated : s.seen;
    const double latency =
        origin >= 0 && s.compliant >= 0 ? std::max(0.0, s.compliant - origin) : -1;
    if (latency >= 0) {
      latencies.push_back(latency);
      sum += latency;
      writesMax = std::max(writesMax, s.versionsAfterSeen);
    }
    if (out) {
      out << ns << '\t' << s.createSent << '\t' << s.createDone << '\t' << s.accountCreated << '\t'
          << s.seen << '\t' << s.compliant << '\t' << latency << '\t' << s.versionsAfterSeen
          << '\n';
    }
  }
  std::sort(latencies.begin(), latencies.end());
  const int missing = count - static_cast<int>(latencies.size());
  std::printf(
      "latency: count=%d seen=%d compliant=%zu missing=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f "
      "max_ms=%.2f "
      "mean_ms=%.2f writes_max=%d create_failures=%d create_seconds=%.2f\n",
      count, seen, latencies.size(), missing, percentile(latencies, 50), percentile(latencies, 90),
      percentile(latencies, 99), latencies.empty() ? 0.0 : latencies.back(),
      latencies.empty() ? 0.0 : sum / static_cast<double>(latencies.size()), writesMax,
      failures.load(), createdAll / 1000.0);
  return missing > 0 || failures > 0 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* usage =
      "usage: saguard-bench-latency wait-compliant|react --kubeconfig K [flags]; --help for "
      "flags\n";
  if (args.empty() || (args[0] != "wait-compliant" && args[0] != "react")) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  std::string kubeconfig, prefix = "bench-lat", samplesPath, pidFile;
  int count = 1000, timeoutSeconds = command == "react" ? 120 : 1800;
  std::string rateText = "50";
  FlagSet flags("saguard-bench-latency " + command,
                "Reaction latency of a ServiceAccount controller.");
  flags.add("kubeconfig", &kubeconfig, "Path to a kubeconfig.");
  flags.add(
      "pid-file", &pidFile,
      "wait-compliant: file with the controller's process id (read at the compliant moment).");
  flags.add("timeout-seconds", &timeoutSeconds,
            "Give up after this long (react: after the last creation).");
  flags.add("count", &count, "react: how many namespaces (so `default` accounts) to create.");
  flags.add("rate", &rateText, "react: creations per second.");
  flags.add("prefix", &prefix, "react: namespace name prefix.");
  flags.add("samples", &samplesPath, "react: where to write the raw samples (TSV).");
  auto rest = flags.parse(args);
  if (!rest.ok() || !rest->empty()) {
    std::cerr << (rest.ok() ? "unexpected argument" : rest.error().message) << "\n" << usage;
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return 0;
  }
  double rate = 0;
  try {
    rate = std::stod(rateText);
  } catch (...) {
  }
  if (rate <= 0 || count < 1 || timeoutSeconds < 1) {
    std::cerr << "latency: --rate > 0, --count >= 1 and --timeout-seconds >= 1\n";
    return 2;
  }
  if (command == "wait-compliant") return waitCompliant(kubeconfig, pidFile, timeoutSeconds);
  return react(kubeconfig, count, rate, prefix, samplesPath, timeoutSeconds);
}
