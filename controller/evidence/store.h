// The store: the ledger's records kept in the cluster, where every replica and every
// restart finds them. ConfigMaps in saguard's own namespace, `<prefix>-0` .. `<prefix>-N-1`
// (shards by a hash of the account's key), each holding one data entry per account:
//
//   metadata:
//     name: saguard-token-use-3
//     labels: {app.kubernetes.io/managed-by: saguard}
//     annotations: {saguard.io/observing-since: "2026-12-06T22:50:00Z"}
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
// merges again; nothing is lost, records are max-merge). The observing-since annotation
// is min-merged the same way. A replayed batch or a re-read log changes no record, so it
// writes nothing.
//
// A shard is kept under `maxShardBytes` (ConfigMaps are limited to 1 MiB): past it, the
// accounts with the oldest last use are dropped from the shard (logged), and their
// last-used day still lives on the accounts' annotations.
//
//   Store store(client, ledger, {.namespace_ = "saguard-system"});
//   std::jthread t([&](std::stop_token stop) { store.run(stop); });
//
// Thread-safe only as used: one thread runs sync()/run().
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>

#include "base/result.h"
#include "evidence/ledger.h"
#include "kube/client.h"

namespace saguard::evidence {

struct StoreOptions {
  std::string namespace_;  // required: saguard's own namespace
  std::string prefix = "saguard-token-use";
  int shards = 8;  // 1..64; every replica must agree
  std::chrono::milliseconds interval{10'000};
  std::size_t maxShardBytes = 900 * 1024;
};

// One shard's content, decoded (also what `saguard audit` reads).
struct Shard {
  std::map<std::string, policy::AccountUse> accounts;  // "ns/name" -> record
  std::int64_t observingSince = 0;                     // 0 = not recorded
  std::string resourceVersion;
};

// Decodes a ConfigMap of the store. Entries that do not parse are skipped (logged by the
// caller through `skipped`), so one bad entry does not hide the others.
Shard decodeShard(std::string_view configMapJson, std::size_t* skipped = nullptr);
// Every shard of the store in `ns`, merged; NotFound when there is none (no audit source
// has run), Forbidden when the caller may not read ConfigMaps there.
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
  std::string shardName(int index) const;
  int shardOf(const std::string& key) const;

  kube::Client& client_;
  Ledger& ledger_;
  StoreOptions options_;
  std::map<std::string, policy::AccountUse> pending_;  // changed, not yet written
  std::uint64_t writes_ = 0;
};

}  // namespace saguard::evidence
