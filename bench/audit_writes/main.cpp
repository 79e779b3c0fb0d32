// audit_writes_bench: how often the reconciler writes an account's saguard.io/token-last-used
// annotation, over weeks of simulated audit traffic. The issue's demand: at most one write per
// account per UTC day. A measurement with a verdict: it exits 1 when an account got more.
//
// What runs is the production code, single-threaded on a simulated clock:
//   use (objects::AuditEventView) → policy::tokenUseOf → evidence::Ledger::record
//     → onNewUseDay → queue::WorkQueue (the real one, on a FakeClock) → queue::processNextItem
//     → reconcile::Reconciler::reconcile (policy::useDayToRecord, the unusedFor verdict)
//     → reconcile::GatedWriter (leader::WriteGate) → the simulated API server below.
// What is simulated: the API server (applies each write as a JSON merge patch with the
// resourceVersion precondition would: a stale resourceVersion is a Conflict), the informer
// cache (sees each write `--cache-lag-ms` later and then queues the account, as the
// controller's ServiceAccount handler does), the evidence store between replicas (every
// replica publishes Ledger::takeChanged() every `--store-sync-ms` and merges what the others
// published, as evidence::Store does through its ConfigMaps) and the leader election (one
// replica's workers run; at a failover the old leader's gate closes and, a lease duration
// later, the other replica's workers start on its own queue).
//
//   audit_writes_bench [--accounts N] [--namespaces N] [--days N] [--replicas 1|2] [--seed S]
//                      [--cache-lag-ms MS] [--delivery-ms MS] [--store-sync-ms MS]
//                      [--resync-hours H] [--tick-ms MS]
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "evidence/ledger.h"
#include "leader/write_gate.h"
#include "objects/audit_event.h"
#include "objects/objects.h"
#include "objects/ref.h"
#include "policy/record.h"
#include "policy/token_use.h"
#include "queue/work_queue.h"
#include "queue/worker.h"
#include "reconcile/cluster_reader.h"
#include "reconcile/cluster_writer.h"
#include "reconcile/gated_writes.h"
#include "reconcile/keys.h"
#include "reconcile/notifier.h"
#include "reconcile/reconciler.h"

namespace saguard::bench {
namespace {

using SharedAccount = policy::Shared<objects::ServiceAccount>;
using policy::Shared;
constexpr std::int64_t kDayMs = 86'400'000;
// 2026-11-01T00:00:00Z: the simulation starts at a UTC midnight, so day i of the run is
// day i of the calendar.
constexpr std::int64_t kEpoch = 1'793'491'200;

struct Options {
  int accounts = 10'000;
  int namespaces = 100;
  int days = 30;
  int replicas = 1;
  std::uint64_t seed = 1;
  std::int64_t cacheLagMs = 500;      // a write reaches the informer cache this much later
  std::int64_t deliveryMs = 1'000;    // an event reaches the ledger up to this much later
  std::int64_t storeSyncMs = 10'000;  // evidence::Store's default interval
  std::int64_t resyncHours = 10;      // every account queued again (0: never)
  std::int64_t tickMs = 100;          // how often the workers take what is ready
};

// How an account is used, day by day.
enum class Profile : std::uint8_t { Hourly, Busy, Daily, Sporadic, Once, RefusedOnly, Never };
constexpr std::array<const char*, 7> kProfileNames = {"hourly", "busy",         "daily", "sporadic",
                                                      "once",   "refused-only", "never"};
// Share of accounts per profile, in percent (sums to 100).
constexpr std::array<int, 7> kProfileShare = {20, 20, 20, 15, 10, 5, 10};

struct Access {
  const char* verb;
  const char* group;
  const char* resource;
  const char* subresource;
};
constexpr std::array<Access, 8> kAccesses = {{{"get", "", "configmaps", ""},
                                              {"list", "", "pods", ""},
                                              {"watch", "", "pods", ""},
                                              {"get", "coordination.k8s.io", "leases", ""},
                                              {"update", "coordination.k8s.io", "leases", ""},
                                              {"create", "", "events", ""},
                                              {"get", "apps", "deployments", "scale"},
                                              {"list", "", "secrets", ""}}};

struct Account {
  std::string ns;
  std::string name;
  std::string key;       // "ns/name"
  std::string username;  // system:serviceaccount:ns:name
  std::vector<std::string> podNames;
  std::vector<std::string> podUids;
  Profile profile = Profile::Never;
  int sporadicEvery = 3;     // Sporadic: used on about one day in this many
  std::int64_t onceAt = -1;  // Once: the moment (ms into the run)
};

// One use of a token: when it happened (the event's stageTimestamp) and when it reaches a
// replica's ledger.
struct Use {
  std::int64_t arrivalMs;
  std::int64_t atMs;
  std::uint32_t account;
  std::uint8_t pod;
  std::uint8_t access;
  std::uint8_t replica;
  bool refused;
};

// The API server's ServiceAccounts, and the informer cache that sees them late.
class SimCluster {
 public:
  explicit SimCluster(std::int64_t cacheLagMs) : cacheLagMs_(cacheLagMs) {}

  void add(const std::string& key, objects::ServiceAccount sa) {
    sa.meta.setResourceVersion(std::to_string(++revision_));
    api_[key] = sa;
    cache_[key] = std::make_shared<const objects::ServiceAccount>(std::move(sa));
  }
  objects::ServiceAccount* apiObject(std::string_view key) {
    auto it = api_.find(std::string(key));
    return it == api_.end() ? nullptr : &it->second;
  }
  // The API server changed the object: bump its resourceVersion, and let the cache see it
  // cacheLagMs from now.
  void changed(const std::string& key, objects::ServiceAccount& sa, std::int64_t nowMs) {
    sa.meta.setResourceVersion(std::to_string(++revision_));
    pending_.push_back(
        {nowMs + cacheLagMs_, key, std::make_shared<const objects::ServiceAccount>(sa)});
  }
  // The watch events due by nowMs reach the cache; `onUpdate` gets each key (the handler).
  template <typename OnUpdate>
  void deliverWatch(std::int64_t nowMs, OnUpdate onUpdate) {
    std::size_t n = 0;
    while (n < pending_.size() && pending_[n].visibleAtMs <= nowMs) {
      cache_[pending_[n].key] = pending_[n].object;
      onUpdate(pending_[n].key);
      ++n;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  SharedAccount cached(std::string_view key) const {
    auto it = cache_.find(std::string(key));
    return it == cache_.end() ? nullptr : it->second;
  }
  const std::map<std::string, SharedAccount>& cache() const { return cache_; }

 private:
  struct Pending {
    std::int64_t visibleAtMs;
    std::string key;
    SharedAccount object;
  };
  std::int64_t cacheLagMs_;
  std::map<std::string, objects::ServiceAccount> api_;
  std::map<std::string, SharedAccount> cache_;
  std::vector<Pending> pending_;  // in order of visibility (the lag is constant)
  std::uint64_t revision_ = 1000;
};

// One replica's view: the shared informer cache and its own ledger.
class Reader final : public reconcile::ClusterReader {
 public:
  Reader(const SimCluster& cluster, const evidence::Ledger& ledger,
         const std::vector<policy::PolicyRecord>& policies, const std::int64_t& nowMs,
         const std::map<std::string, Shared<objects::Namespace>>& namespaces)
      : cluster_(cluster),
        ledger_(ledger),
        policies_(policies),
        nowMs_(nowMs),
        namespaces_(namespaces) {}

  SharedAccount serviceAccount(std::string_view ns, std::string_view name) const override {
    return cluster_.cached(objects::objectKey(ns, name));
  }
  std::vector<SharedAccount> serviceAccounts() const override {
    std::vector<SharedAccount> out;
    for (const auto& [key, sa] : cluster_.cache()) out.push_back(sa);
    return out;
  }
  std::vector<SharedAccount> serviceAccountsIn(std::string_view ns) const override {
    std::vector<SharedAccount> out;
    for (const auto& [key, sa] : cluster_.cache()) {
      if (sa->meta.namespace_.view() == ns) out.push_back(sa);
    }
    return out;
  }
  Shared<objects::Namespace> namespace_(std::string_view name) const override {
    auto it = namespaces_.find(std::string(name));
    return it == namespaces_.end() ? nullptr : it->second;
  }
  std::vector<Shared<objects::Pod>> podsOf(std::string_view, std::string_view) const override {
    return {};
  }
  std::vector<Shared<objects::Binding>> bindingsFor(std::string_view,
                                                    std::string_view) const override {
    return {};
  }
  std::vector<policy::PolicyRecord> policies() const override { return policies_; }
  std::optional<policy::PolicyRecord> policy(std::string_view name) const override {
    for (const auto& p : policies_) {
      if (p.name == name) return p;
    }
    return std::nullopt;
  }
  // As reconcile::CacheReader answers them, from the ledger.
  policy::UseEvidence observedUse(std::string_view ns, std::string_view name) const override {
    return ledger_.evidenceOf(ns, name);
  }
  policy::UseEvidence useOf(const objects::ServiceAccount& account) const override {
    return policy::evidenceFor(observedUse(account.meta.namespace_.view(), account.meta.name()),
                               account);
  }
  std::int64_t now() const override { return kEpoch + nowMs_ / 1000; }

 private:
  const SimCluster& cluster_;
  const evidence::Ledger& ledger_;
  const std::vector<policy::PolicyRecord>& policies_;
  const std::int64_t& nowMs_;
  const std::map<std::string, Shared<objects::Namespace>>& namespaces_;
};

// The API server's side of the writes: applies each as the real patch would, and counts.
class ApiWriter final : public reconcile::ClusterWriter {
 public:
  ApiWriter(SimCluster& cluster, const std::int64_t& nowMs, int accounts, int days,
            const std::unordered_map<std::string, std::uint32_t>& index)
      : cluster_(cluster),
        nowMs_(nowMs),
        days_(days + 2),  // writes after the last day (the final drain) count on extra days
        index_(index),
        perDay_(static_cast<std::size_t>(accounts) * static_cast<std::size_t>(days + 2), 0),
        dayValues_(static_cast<std::size_t>(accounts)) {}

  Result<std::string> disableAutomount(std::string_view ns, std::string_view name,
                                       std::string_view) override {
    const std::string key = objects::objectKey(ns, name);
    objects::ServiceAccount* sa = cluster_.apiObject(key);
    if (sa == nullptr) return makeError(ErrorKind::NotFound, "not found");
    sa->automount = objects::Tristate::False;
    cluster_.changed(key, *sa, nowMs_);
    ++automountPatches;
    return std::string(sa->meta.resourceVersion());
  }

  Status recordUseDay(std::string_view ns, std::string_view name, std::string_view day,
                      std::string_view resourceVersion) override {
    const std::string key = objects::objectKey(ns, name);
    objects::ServiceAccount* sa = cluster_.apiObject(key);
    if (sa == nullptr) return makeError(ErrorKind::NotFound, "not found");
    if (sa->meta.resourceVersion() != resourceVersion) {
      ++conflicts;
      return makeError(ErrorKind::Conflict, "the object has been modified");
    }
    if (!sa->tokenLastUsed.empty() && day <= sa->tokenLastUsed.view()) ++backwards;
    sa->tokenLastUsed = Symbol(day);
    cluster_.changed(key, *sa, nowMs_);
    const std::uint32_t account = index_.at(key);
    const std::int64_t wallDay = std::min<std::int64_t>(nowMs_ / kDayMs, days_ - 1);
    std::uint8_t& n =
        perDay_[account * static_cast<std::size_t>(days_) + static_cast<std::size_t>(wallDay)];
    if (n < 255) ++n;
    dayValues_[account].push_back({nowMs_, std::string(day)});
    ++writes;
    return {};
  }

  Status patchPolicyStatus(std::string_view, const std::string&) override { return {}; }

  std::uint8_t writesOn(std::uint32_t account, int day) const {
    return perDay_[account * static_cast<std::size_t>(days_) + static_cast<std::size_t>(day)];
  }
  int daysCounted() const { return static_cast<int>(days_); }
  struct Write {
    std::int64_t atMs;  // when (simulated)
    std::string day;    // the value written
  };
  const std::vector<Write>& writesOf(std::uint32_t account) const { return dayValues_[account]; }

  std::int64_t writes = 0;
  std::int64_t conflicts = 0;
  std::int64_t backwards = 0;  // a write that did not move the annotation forward
  std::int64_t automountPatches = 0;

 private:
  SimCluster& cluster_;
  const std::int64_t& nowMs_;
  std::int64_t days_;
  const std::unordered_map<std::string, std::uint32_t>& index_;
  std::vector<std::uint8_t> perDay_;  // [account][wall-clock day] -> annotation writes
  std::vector<std::vector<Write>> dayValues_;
};

class CountingNotifier final : public reconcile::Notifier {
 public:
  void notify(const objects::ObjectRef&, policy::Reason, const std::string&) override { ++events; }
  std::int64_t events = 0;
};

// One saguard replica: its ledger, its work queue, its reconciler, its gate.
struct Replica {
  Replica(const SimCluster& cluster, ApiWriter& api, reconcile::Notifier& notifier,
          const Clock& clock, const std::vector<policy::PolicyRecord>& policies,
          const std::int64_t& nowMs,
          const std::map<std::string, Shared<objects::Namespace>>& namespaces)
      : reader(cluster, ledger, policies, nowMs, namespaces),
        writer(api, gate),
        queue(clock),
        reconciler(reader, writer, notifier, reconcile::ReconcilerOptions{}) {
    // As reconcile::Controller wires it.
    ledger.onNewUseDay = [this](const std::string& key) {
      const objects::ObjectName account = objects::splitObjectKey(key);
      queue.add(reconcile::accountWorkKey(account.namespace_, account.name));
      ++newUseDays;
    };
  }

  evidence::Ledger ledger;
  Reader reader;
  leader::WriteGate gate;
  reconcile::GatedWriter writer;
  queue::WorkQueue queue;
  reconcile::Reconciler reconciler;
  bool leading = false;
  std::size_t storeCursor = 0;  // how much of the store's log this replica has merged
  std::int64_t newUseDays = 0;
  std::int64_t reconciles = 0;
  std::array<std::int64_t, 4> outcomes{};  // by queue::WorkResult
};

// evidence::Store's effect, without the ConfigMaps: each replica publishes its changed
// records and merges what the others published (max-merge: its own come back unchanged).
struct SharedStore {
  std::vector<std::pair<std::string, policy::AccountUse>> log;
};

std::int64_t flagValue(int& i, int argc, char** argv) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s needs a value\n", argv[i]);
    std::exit(2);
  }
  return std::strtoll(argv[++i], nullptr, 10);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--accounts") {
      o.accounts = static_cast<int>(flagValue(i, argc, argv));
    } else if (a == "--namespaces") {
      o.namespaces = static_cast<int>(flagValue(i, argc, argv));
    } else if (a == "--days") {
      o.days = static_cast<int>(flagValue(i, argc, argv));
    } else if (a == "--replicas") {
      o.replicas = static_cast<int>(flagValue(i, argc, argv));
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(flagValue(i, argc, argv));
    } else if (a == "--cache-lag-ms") {
      o.cacheLagMs = flagValue(i, argc, argv);
    } else if (a == "--delivery-ms") {
      o.deliveryMs = flagValue(i, argc, argv);
    } else if (a == "--store-sync-ms") {
      o.storeSyncMs = flagValue(i, argc, argv);
    } else if (a == "--resync-hours") {
      o.resyncHours = flagValue(i, argc, argv);
    } else if (a == "--tick-ms") {
      o.tickMs = flagValue(i, argc, argv);
    } else {
      std::fprintf(stderr,
                   "usage: audit_writes_bench [--accounts N] [--namespaces N] [--days N] "
                   "[--replicas 1|2] [--seed S] [--cache-lag-ms MS] [--delivery-ms MS] "
                   "[--store-sync-ms MS] [--resync-hours H] [--tick-ms MS]\n");
      std::exit(2);
    }
  }
  if (o.accounts < 1 || o.namespaces < 1 || o.namespaces > o.accounts || o.days < 1 ||
      (o.replicas != 1 && o.replicas != 2) || o.cacheLagMs < 0 || o.deliveryMs < 0 ||
      o.storeSyncMs < 1 || o.resyncHours < 0 || o.tickMs < 1) {
    std::fprintf(stderr, "audit_writes_bench: an option is out of range\n");
    std::exit(2);
  }
  return o;
}

std::vector<Account> makeAccounts(const Options& o, std::mt19937_64& rng) {
  std::vector<Account> accounts(static_cast<std::size_t>(o.accounts));
  const int perNamespace = (o.accounts + o.namespaces - 1) / o.namespaces;
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> pods(1, 3);
  std::uniform_int_distribution<int> every(2, 5);
  std::uniform_int_distribution<std::int64_t> anytime(0, o.days * kDayMs - 1);
  for (int i = 0; i < o.accounts; ++i) {
    Account& a = accounts[static_cast<std::size_t>(i)];
    char ns[32];
    char name[32];
    std::snprintf(ns, sizeof ns, "team-%03d", i / perNamespace);
    std::snprintf(name, sizeof name, "app-%04d", i % perNamespace);
    a.ns = ns;
    a.name = name;
    a.key = objects::objectKey(a.ns, a.name);
    a.username = "system:serviceaccount:" + a.ns + ":" + a.name;
    for (int p = pods(rng); p > 0; --p) {
      a.podNames.push_back(a.name + "-7d9f-" + std::to_string(p));
      a.podUids.push_back("uid-" + std::to_string(i) + "-" + std::to_string(p));
    }
    int roll = percent(rng);
    std::size_t profile = 0;
    while (roll >= kProfileShare[profile]) roll -= kProfileShare[profile++];
    a.profile = static_cast<Profile>(profile);
    a.sporadicEvery = every(rng);
    if (a.profile == Profile::Once) a.onceAt = anytime(rng);
  }
  return accounts;
}

// The uses of one simulated day, in order of arrival.
std::vector<Use> usesOfDay(const Options& o, const std::vector<Account>& accounts, int day,
                           std::mt19937_64& rng) {
  std::vector<Use> uses;
  const std::int64_t start = day * kDayMs;
  std::uniform_int_distribution<std::int64_t> inDay(0, kDayMs - 1);
  std::uniform_int_distribution<std::int64_t> inHour(0, 3'600'000 - 1'000);  // a burst stays in it
  std::uniform_int_distribution<std::int64_t> delay(0, o.deliveryMs);
  std::uniform_int_distribution<int> burst(1, 5);
  std::uniform_int_distribution<int> busy(20, 200);
  std::uniform_int_distribution<int> few(1, 4);
  std::uniform_int_distribution<int> replica(0, o.replicas - 1);
  std::uniform_int_distribution<int> access(0, static_cast<int>(kAccesses.size()) - 1);
  for (std::uint32_t i = 0; i < accounts.size(); ++i) {
    const Account& a = accounts[i];
    auto use = [&](std::int64_t atMs, bool refused) {
      std::uniform_int_distribution<int> pod(0, static_cast<int>(a.podUids.size()) - 1);
      uses.push_back({atMs + delay(rng), atMs, i, static_cast<std::uint8_t>(pod(rng)),
                      static_cast<std::uint8_t>(access(rng)),
                      static_cast<std::uint8_t>(replica(rng)), refused});
    };
    switch (a.profile) {
      case Profile::Hourly:
        for (int h = 0; h < 24; ++h) {
          const std::int64_t at = start + h * 3'600'000 + inHour(rng);
          for (int n = burst(rng); n > 0; --n) use(at + n * 50, false);
        }
        break;
      case Profile::Busy:
        for (int n = busy(rng); n > 0; --n) use(start + inDay(rng), false);
        break;
      case Profile::Daily:
        use(start + inDay(rng), false);
        break;
      case Profile::Sporadic:
        if (std::uniform_int_distribution<int>(0, a.sporadicEvery - 1)(rng) == 0) {
          for (int n = few(rng); n > 0; --n) use(start + inDay(rng), false);
        }
        break;
      case Profile::Once:
        if (a.onceAt >= start && a.onceAt < start + kDayMs) use(a.onceAt, false);
        break;
      case Profile::RefusedOnly:
        for (int n = few(rng); n > 0; --n) use(start + inDay(rng), true);
        break;
      case Profile::Never:
        break;
    }
  }
  std::sort(uses.begin(), uses.end(),
            [](const Use& a, const Use& b) { return a.arrivalMs < b.arrivalMs; });
  return uses;
}

int run(const Options& o) {
  std::mt19937_64 rng(o.seed);
  const std::vector<Account> accounts = makeAccounts(o, rng);
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t i = 0; i < accounts.size(); ++i) index.emplace(accounts[i].key, i);

  // Every account in the cluster from the start, created a year before.
  SimCluster cluster(o.cacheLagMs);
  std::map<std::string, Shared<objects::Namespace>> namespaces;
  for (std::uint32_t i = 0; i < accounts.size(); ++i) {
    const Account& a = accounts[i];
    if (!namespaces.count(a.ns)) {
      objects::Namespace ns;
      ns.meta.setName(a.ns);
      ns.phase = Symbol("Active");
      namespaces.emplace(a.ns, std::make_shared<const objects::Namespace>(std::move(ns)));
    }
    objects::ServiceAccount sa;
    sa.meta.namespace_ = Symbol(a.ns);
    sa.meta.setName(a.name);
    sa.meta.setUid("uid-sa-" + std::to_string(i));
    sa.creationTimestamp = kEpoch - 365 * 86400;
    cluster.add(a.key, std::move(sa));
  }
  // Two unusedFor policies, so that the reconciler also requeues accounts for the moment
  // their last use leaves a window, and patches automount (a resourceVersion the pending
  // annotation write must then not overwrite): an Audit one over every namespace, and an
  // Enforce one over half of them.
  std::vector<policy::PolicyRecord> policies;
  for (const char* json : {R"({"metadata":{"name":"audit-unused-3d","generation":1},
            "spec":{"mode":"Audit","serviceAccounts":{"unusedFor":"72h"}}})",
                           R"({"metadata":{"name":"enforce-unused-10d","generation":1},
            "spec":{"mode":"Enforce","namespaces":{"exclude":["team-00?","team-01?","team-02?","team-03?","team-04?"]},
                    "serviceAccounts":{"unusedFor":"240h"}}})"}) {
    auto record = policy::policyRecordFromJson(std::string_view(json));
    if (!record.ok() || !record->policy) {
      std::fprintf(stderr, "policy does not parse: %s\n",
                   record.ok() ? record->invalid->message.c_str() : record.error().message.c_str());
      return 2;
    }
    policies.push_back(*record);
  }

  FakeClock clock(Clock::time_point{} + std::chrono::hours(24));
  std::int64_t nowMs = 0;
  ApiWriter api(cluster, nowMs, o.accounts, o.days, index);
  CountingNotifier notifier;
  std::vector<std::unique_ptr<Replica>> replicas;
  for (int r = 0; r < o.replicas; ++r) {
    replicas.push_back(
        std::make_unique<Replica>(cluster, api, notifier, clock, policies, nowMs, namespaces));
    // Both observe from the start (the store min-merges observing-since).
    replicas.back()->ledger.observedSince(kEpoch);
  }
  replicas[0]->leading = true;
  // The controller's initial list: every account is queued once (on every replica).
  for (auto& replica : replicas) {
    for (const Account& a : accounts) replica->queue.add(reconcile::accountWorkKey(a.ns, a.name));
  }
  // The failover (two replicas): halfway, plus an hour, so that it is mid-day; the old
  // leader stops writing at once, the new one starts a lease duration (15 s) later.
  const std::int64_t failoverMs = (o.days / 2) * kDayMs + 3'600'000 + 12'345;
  const std::int64_t takeoverMs = failoverMs + 15'000;
  bool failedOver = false;
  bool tookOver = false;

  SharedStore store;
  std::int64_t nextStoreSync = o.storeSyncMs;
  const std::int64_t resyncMs = o.resyncHours * 3'600'000;
  std::int64_t nextResync = resyncMs > 0 ? resyncMs : INT64_MAX;
  std::int64_t nextTick = 0;
  std::int64_t resyncs = 0;

  auto drain = [&](Replica& r) {
    r.queue.releaseReady();
    while (r.queue.len() > 0) {
      queue::WorkResult result = queue::WorkResult::Success;
      queue::processNextItem(r.queue, [&](const std::string& key) {
        queue::Outcome outcome = r.reconciler.reconcile(key);
        result = outcome.result();
        return outcome;
      });
      ++r.reconciles;
      ++r.outcomes[static_cast<std::size_t>(result)];
    }
  };
  auto storeSync = [&] {
    for (auto& r : replicas) {
      for (auto& [key, use] : r->ledger.takeChanged()) store.log.emplace_back(key, use);
    }
    for (auto& r : replicas) {
      for (; r->storeCursor < store.log.size(); ++r->storeCursor) {
        r->ledger.merge(store.log[r->storeCursor].first, store.log[r->storeCursor].second);
      }
    }
  };
  // Moves the simulated time to `t`, running everything that falls due on the way.
  auto advanceTo = [&](std::int64_t t) {
    while (nextTick <= t) {
      const std::int64_t step = nextTick - nowMs;
      if (step > 0) clock.advance(std::chrono::milliseconds(step));
      nowMs = nextTick;
      if (o.replicas == 2 && !failedOver && nowMs >= failoverMs) {
        replicas[0]->leading = false;
        replicas[0]->gate.close();
        failedOver = true;
      }
      if (o.replicas == 2 && !tookOver && nowMs >= takeoverMs) {
        replicas[1]->leading = true;
        tookOver = true;
      }
      cluster.deliverWatch(nowMs, [&](const std::string& key) {
        const objects::ObjectName name = objects::splitObjectKey(key);
        for (auto& r : replicas)
          r->queue.add(reconcile::accountWorkKey(name.namespace_, name.name));
      });
      if (o.replicas == 2 && nowMs >= nextStoreSync) {
        storeSync();
        nextStoreSync += o.storeSyncMs;
      }
      if (nowMs >= nextResync) {
        for (auto& r : replicas) {
          for (const Account& a : accounts) r->queue.add(reconcile::accountWorkKey(a.ns, a.name));
        }
        ++resyncs;
        nextResync += resyncMs;
      }
      for (auto& r : replicas) {
        if (r->leading) drain(*r);
      }
      nextTick += o.tickMs;
    }
    if (t > nowMs) {
      clock.advance(std::chrono::milliseconds(t - nowMs));
      nowMs = t;
    }
  };

  // Which (account, day) pairs saw a use, and the latest use of each account.
  std::vector<std::uint8_t> usedOn(accounts.size() * static_cast<std::size_t>(o.days), 0);
  std::vector<std::int64_t> lastUse(accounts.size(), 0);
  std::int64_t uses = 0;
  std::int64_t refusedUses = 0;
  std::int64_t counted = 0;
  const auto wallStart = std::chrono::steady_clock::now();
  for (int day = 0; day < o.days; ++day) {
    for (const Use& u : usesOfDay(o, accounts, day, rng)) {
      advanceTo(u.arrivalMs);
      const Account& a = accounts[u.account];
      const Access& x = kAccesses[u.access];
      objects::AuditEventView view;
      view.stage = std::string_view(x.verb) == "watch" ? "ResponseStarted" : "ResponseComplete";
      view.verb = x.verb;
      view.username = a.username;
      view.podName = a.podNames[u.pod];
      view.podUid = a.podUids[u.pod];
      view.nodeName = "node-1";
      view.apiGroup = x.group;
      view.resource = x.resource;
      view.subresource = x.subresource;
      view.code = u.refused ? 403 : 200;
      view.stageTimestamp = kEpoch + u.atMs / 1000;
      if (auto use = policy::tokenUseOf(view)) {
        replicas[u.replica]->ledger.record(*use);
        ++counted;
      }
      ++uses;
      refusedUses += u.refused ? 1 : 0;
      usedOn[u.account * static_cast<std::size_t>(o.days) +
             static_cast<std::size_t>(u.atMs / kDayMs)] = 1;
      lastUse[u.account] = std::max(lastUse[u.account], kEpoch + u.atMs / 1000);
    }
  }
  // A last minute for the stragglers (deliveries, store syncs, the cache).
  advanceTo(o.days * kDayMs + 60'000);
  const double wallSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();

  // --- figures
  std::int64_t accountDaysWithUse = 0;
  for (std::uint8_t u : usedOn) accountDaysWithUse += u;
  int maxPerDay = 0;
  std::int64_t over = 0;  // (account, day) pairs with more than one write
  std::vector<std::string> overExamples;
  for (std::uint32_t i = 0; i < accounts.size(); ++i) {
    for (int d = 0; d < api.daysCounted(); ++d) {
      const int n = api.writesOn(i, d);
      maxPerDay = std::max(maxPerDay, n);
      if (n > 1) {
        ++over;
        if (overExamples.size() < 5) {
          std::string writes;
          for (const auto& w : api.writesOf(i)) {
            if (w.atMs / kDayMs != d) continue;
            const std::int64_t ms = w.atMs % kDayMs;
            char line[96];
            std::snprintf(
                line, sizeof line, "%s%s at %02lld:%02lld:%02lld.%03lld",
                writes.empty() ? "" : ", ", w.day.c_str(), static_cast<long long>(ms / 3'600'000),
                static_cast<long long>(ms / 60'000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
            writes += line;
          }
          overExamples.push_back(accounts[i].key + " (" +
                                 kProfileNames[static_cast<std::size_t>(accounts[i].profile)] +
                                 ") on " + policy::useDayOf(kEpoch + d * 86400) + ": " + writes);
        }
      }
    }
  }
  // Every used account's annotation must end at the day of its last use.
  std::int64_t behind = 0;
  std::int64_t usedAccounts = 0;
  for (std::uint32_t i = 0; i < accounts.size(); ++i) {
    if (lastUse[i] == 0) continue;
    ++usedAccounts;
    const SharedAccount sa = cluster.cached(accounts[i].key);
    if (sa->tokenLastUsed.view() != policy::useDayOf(lastUse[i])) ++behind;
  }

  std::printf(
      "audit_writes_bench: %d accounts in %d namespaces, %d days, %d replica%s, seed %llu\n",
      o.accounts, o.namespaces, o.days, o.replicas, o.replicas == 1 ? "" : "s",
      static_cast<unsigned long long>(o.seed));
  std::printf("  cache lag %lld ms, delivery delay 0-%lld ms, resync every %lld h, tick %lld ms\n",
              static_cast<long long>(o.cacheLagMs), static_cast<long long>(o.deliveryMs),
              static_cast<long long>(o.resyncHours), static_cast<long long>(o.tickMs));
  if (o.replicas == 2) {
    std::printf("  store sync %lld ms; failover at day %d +%lld ms, takeover 15 s later\n",
                static_cast<long long>(o.storeSyncMs), o.days / 2,
                static_cast<long long>(failoverMs % kDayMs));
  }
  int shares[7] = {};
  for (const Account& a : accounts) ++shares[static_cast<int>(a.profile)];
  std::printf("  profiles:");
  for (std::size_t p = 0; p < kProfileNames.size(); ++p) {
    std::printf(" %s %d%s", kProfileNames[p], shares[p], p + 1 < kProfileNames.size() ? "," : "\n");
  }
  std::printf(
      "uses delivered                 %lld (%lld refused 403; %lld counted by tokenUseOf)\n",
      static_cast<long long>(uses), static_cast<long long>(refusedUses),
      static_cast<long long>(counted));
  std::printf("accounts with use              %lld of %d\n", static_cast<long long>(usedAccounts),
              o.accounts);
  std::printf("account-days with use          %lld of %lld\n",
              static_cast<long long>(accountDaysWithUse),
              static_cast<long long>(accounts.size()) * o.days);
  for (std::size_t r = 0; r < replicas.size(); ++r) {
    const Replica& x = *replicas[r];
    std::printf(
        "replica %zu: onNewUseDay %lld, reconciles %lld (success %lld, requeue_after %lld, "
        "error %lld, terminal %lld)\n",
        r, static_cast<long long>(x.newUseDays), static_cast<long long>(x.reconciles),
        static_cast<long long>(x.outcomes[0]), static_cast<long long>(x.outcomes[1]),
        static_cast<long long>(x.outcomes[2]), static_cast<long long>(x.outcomes[3]));
  }
  std::printf("resyncs                        %lld\n", static_cast<long long>(resyncs));
  std::printf("annotation writes              %lld\n", static_cast<long long>(api.writes));
  std::printf("  refused: conflicts           %lld (stale resourceVersion, retried)\n",
              static_cast<long long>(api.conflicts));
  std::printf("  not moving forward           %lld\n", static_cast<long long>(api.backwards));
  std::printf("automount patches              %lld\n",
              static_cast<long long>(api.automountPatches));
  std::printf(
      "writes per account per day     max %d, mean %.4f (over all %lld account-days), "
      "%.4f per account-day with use\n",
      maxPerDay,
      static_cast<double>(api.writes) /
          (static_cast<double>(accounts.size()) * static_cast<double>(o.days)),
      static_cast<long long>(accounts.size()) * o.days,
      accountDaysWithUse == 0
          ? 0.0
          : static_cast<double>(api.writes) / static_cast<double>(accountDaysWithUse));
  std::printf("annotations behind at the end  %lld of %lld used accounts\n",
              static_cast<long long>(behind), static_cast<long long>(usedAccounts));
  std::printf("simulation took                %.1f s\n", wallSeconds);
  for (const auto& e : overExamples) std::printf("  OVER: %s\n", e.c_str());
  bool ok = true;
  if (maxPerDay > 1) {
    std::printf("FAIL: %lld account-days with more than one write\n", static_cast<long long>(over));
    ok = false;
  }
  if (behind > 0 || api.backwards > 0) {
    std::printf("FAIL: an annotation is not the day of the last use, or moved backwards\n");
    ok = false;
  }
  if (ok) std::printf("OK: at most one write per account per UTC day\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace saguard::bench

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // the reconciler logs each patch at info
  return saguard::bench::run(saguard::bench::parseOptions(argc, argv));
}
