// The store: the ledger's records kept in the cluster, where every replica and every
// restart finds them. ConfigMaps in saguard's own namespace, `<prefix>-0` .. `<prefix>-N-1`
// (shards by a hash of the account's key), each holding one data entry per account:
//
//   metadata:
//     name: saguard-token-use-3
//     labels: {app.kubernetes.io/managed-by: saguard}
//     annotations: {saguard.io/observing-since: "2026-12-06T22:50:00Z",   # shard 0 only
//                   saguard.io/observed-until: "2026-12-07T13:05:00Z"}
//   data:
//     team-a.web: '{"lastUsed":1765061400,"lastRefused":0,"pods":[["<uid>","web-7d9f",1765061400]],
//                   "accesses":[["list","configmaps",false,1765061400]]}'
//
// (The key is "<namespace>.<name>": namespaces have no dots, so the first dot splits it.)
// Why ConfigMaps in one namespace rather than annotations on each account: a record
// changes with every use, and the accounts are not saguard's; the day of the last use,
// which changes at most once a day, is what goes on the account (the reconciler's
// saguard.io/token-last-used). Why not a CRD: nothing but saguard reads the records, and
// `kubectl get configmap -o yaml` shows them to anyone allowed to read them.
//
// sync(), every `interval` on every replica (leader or not: evidence reaches whichever
// replica the API server's webhook Service picked): for each shard, GET it (creating it
// when absent), merge what it holds into the ledger (other replicas' evidence, and ours
// from before a restart), merge the ledger's changed records into it, and PUT it only
// when that changed its content, with the resourceVersion read (a Conflict: the next sync
// merges again; nothing is lost, records are max-merge). A replayed batch or a re-read
// log changes no record, so it writes nothing.
//
// The observation period (evidence/observation.h: why, and the numbers) lives on shard 0
// alone, so that keeping it costs one ConfigMap write per heartbeat (5 minutes) for the
// whole store: observing-since and observed-until. Each sync merges the stored period with
// this replica's own, [the ledger's observingSince, now], and sets the ledger's
// observingSince from the result (resetObservingSince): a stored until more than the gap
// tolerance (15 minutes) behind the replica's since means nobody observed in between, so
// observing-since becomes this replica's start. A replica counts its own observation as
// unbroken while it reaches the store: when its last round that read shard 0 is more than
// the tolerance ago (the API server unreachable, the process stopped), it cannot show that
// it observed in between, and its own period restarts now (another replica's heartbeat
// still bridges the time, by the union). Shard 0 is written when the merged since differs
// from the stored one, or the stored until is a heartbeat old, or its data changed anyway
// (the until rides along). A replica whose ledger has no observingSince (no source
// started; saguard run sets it at start) claims nothing, writes no period and leaves the
// ledger's observingSince alone. A store written before observed-until
// existed (observing-since on every shard, no until) is taken as running until now, as
// its writer took it; its first write by this version adds the until, and the other
// shards lose their copies of observing-since as they are next written.
//
// A shard is kept under `maxShardBytes` (ConfigMaps are limited to 1 MiB): past it, the
// accounts with the oldest last use are dropped from the shard (logged), and their
// last-used day still lives on the accounts' annotations. What is kept is always the
// newest records, a prefix of the shard's accounts by last use: every record kept was used
// after every record dropped, even where a smaller, older record would still fit.
//
//   Store store(client, ledger, {.namespace_ = "saguard-system"});
//   std::jthread t([&](std::stop_token stop) { store.run(stop); });
//
// Thread-safe only as used: one thread runs sync()/run().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>

#include "base/result.h"
#include "evidence/ledger.h"
#include "evidence/observation.h"
#include "kube/client.h"

namespace saguard::evidence {

struct StoreOptions {
  std::string namespace_;  // required: saguard's own namespace
  std::string prefix = "saguard-token-use";
  int shards = 8;  // 1..64; every replica must agree
  std::chrono::milliseconds interval{10'000};
  std::size_t maxShardBytes = 900 * 1024;
  // The observation period (evidence/observation.h). The tolerance is raised to at least
  // heartbeat + 2 intervals (logged): the recorded until may lag that much behind a
  // running store. (Readers without a Store, `saguard audit`, use kGapToleranceSeconds:
  // with an interval over 5 minutes they may take a running saguard for a stopped one.)
  std::chrono::seconds heartbeat{kHeartbeatSeconds};
  std::chrono::seconds gapTolerance{kGapToleranceSeconds};
  // Wall clock for the period. Default: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> wallClock{};
};

// One shard's content, decoded (also what `saguard audit` reads).
struct Shard {
  std::map<std::string, policy::AccountUse> accounts;  // "ns/name" -> record
  std::int64_t observingSince = 0;                     // 0 = not recorded
  std::int64_t observedUntil = 0;                      // 0 = not recorded
  std::string resourceVersion;

  ObservationPeriod period() const { return {observingSince, observedUntil}; }
};

// Decodes a ConfigMap of the store. Entries that do not parse are skipped (logged by the
// caller through `skipped`), so one bad entry does not hide the others.
Shard decodeShard(std::string_view configMapJson, std::size_t* skipped = nullptr);
// Every shard of the store in `ns`, merged; NotFound when there is none (no audit source
// has run), Forbidden when the caller may not read ConfigMaps there. The period is shard
// 0's when it has observed-until; else (a store written before observed-until existed)
// the earliest observing-since of any shard, with observedUntil 0. The caller decides
// what it may use of it at its `now` (observingSinceAt()).
Result<Shard> readStore(kube::Client& client, const std::string& ns,
                        const std::string& prefix = "saguard-token-use", int shards = 8);

class Store {
 public:
  Store(kube::Client& client, Ledger& ledger, StoreOptions options);

  // One round over every shard (see above). The first error is returned after the round;
  // the records of a shard that failed stay pending for the next round.
  Status sync();
  // sync() every interval until stopped; errors are logged (at most once a minute).
  void run(std::stop_token stop);

  std::uint64_t writes() const { return writes_; }

 private:
  Status syncShard(int index, std::map<std::string, policy::AccountUse>& pending);
  // Shard 0's period merged with this replica's, into `shard` and the ledger; true when
  // the shard must be written for it.
  bool syncObservation(Shard& shard);
  std::int64_t nowSeconds() const;
  std::string shardName(int index) const;
  int shardOf(const std::string& key) const;

  kube::Client& client_;
  Ledger& ledger_;
  StoreOptions options_;
  std::map<std::string, policy::AccountUse> pending_;  // changed, not yet written
  std::uint64_t writes_ = 0;
  std::int64_t now_ = 0;          // the wall clock at the start of the current round
  std::int64_t lastReached_ = 0;  // the last round that read shard 0 (construction at first)
};

}  // namespace saguard::evidence
