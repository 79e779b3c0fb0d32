#include "evidence/store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/hash.h"
#include "codec/rfc3339.h"
#include "kube/resource.h"
#include "objects/ref.h"

namespace saguard::evidence {
namespace {

using nlohmann::json;

constexpr const char* kObservingSince = "saguard.io/observing-since";
constexpr const char* kObservedUntil = "saguard.io/observed-until";

std::int64_t timeAnnotation(const json& annotations, const char* name) {
  auto it = annotations.find(name);
  if (it == annotations.end() || !it->is_string()) return 0;
  return codec::parseRfc3339(it->get<std::string>()).value_or(0);
}

// "ns/name" <-> "ns.name" (a ConfigMap key allows [-._a-zA-Z0-9], at most 253 bytes).
std::optional<std::string> dataKeyOf(const std::string& accountKey) {
  std::string key = accountKey;
  const auto slash = key.find('/');
  if (slash == std::string::npos) return std::nullopt;
  key[slash] = '.';
  if (key.size() > 253) return std::nullopt;
  return key;
}

std::optional<std::string> accountKeyOf(const std::string& dataKey) {
  const auto dot = dataKey.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == dataKey.size()) return std::nullopt;
  return objects::objectKey(dataKey.substr(0, dot), dataKey.substr(dot + 1));
}

std::string encodeUse(const policy::AccountUse& use) {
  json pods = json::array();
  for (const auto& p : use.pods) pods.push_back(json::array({p.uid, p.name, p.at}));
  json accesses = json::array();
  for (const auto& a : use.accesses) {
    accesses.push_back(json::array({a.verb, a.resource, a.refused, a.at}));
  }
  return json{{"lastUsed", use.lastUsed},
              {"lastRefused", use.lastRefused},
              {"pods", std::move(pods)},
              {"accesses", std::move(accesses)}}
      .dump();
}

// Throws nlohmann::json exceptions on a wrong shape: the caller skips the entry.
policy::AccountUse decodeUse(const std::string& text) {
  const json j = json::parse(text);
  policy::AccountUse use;
  use.lastUsed = j.at("lastUsed").get<std::int64_t>();
  use.lastRefused = j.value("lastRefused", std::int64_t{0});
  for (const auto& p : j.value("pods", json::array())) {
    use.pods.push_back(
        {p.at(0).get<std::string>(), p.at(1).get<std::string>(), p.at(2).get<std::int64_t>()});
  }
  for (const auto& a : j.value("accesses", json::array())) {
    use.accesses.push_back({a.at(0).get<std::string>(), a.at(1).get<std::string>(),
                            a.at(2).get<bool>(), a.at(3).get<std::int64_t>()});
  }
  // Through mergeUse: whatever order or length the entry had, the record keeps its bounds.
  policy::AccountUse bounded;
  policy::mergeUse(bounded, use);
  return bounded;
}

Shard decodeShardJson(const json& cm, std::size_t* skipped) {
  Shard shard;
  const json& meta = cm.value("metadata", json::object());
  shard.resourceVersion = meta.value("resourceVersion", "");
  const json& annotations = meta.value("annotations", json::object());
  if (annotations.is_object()) {
    shard.observingSince = timeAnnotation(annotations, kObservingSince);
    shard.observedUntil = timeAnnotation(annotations, kObservedUntil);
  }
  const json& data = cm.value("data", json::object());
  if (!data.is_object()) return shard;
  for (const auto& [dataKey, value] : data.items()) {
    auto key = accountKeyOf(dataKey);
    try {
      if (!key || !value.is_string()) throw std::invalid_argument("bad entry");
      shard.accounts[*key] = decodeUse(value.get<std::string>());
    } catch (const std::exception&) {
      if (skipped != nullptr) ++*skipped;
    }
  }
  return shard;
}

}  // namespace

Shard decodeShard(std::string_view configMapJson, std::size_t* skipped) {
  const json cm = json::parse(configMapJson, nullptr, /*allow_exceptions=*/false);
  if (cm.is_discarded() || !cm.is_object()) {
    if (skipped != nullptr) ++*skipped;
    return {};
  }
  return decodeShardJson(cm, skipped);
}

Result<Shard> readStore(kube::Client& client, const std::string& ns, const std::string& prefix,
                        int shards) {
  Shard merged;
  bool found = false;
  ObservationPeriod head;  // shard 0's, when it has observed-until
  for (int i = 0; i < shards; ++i) {
    auto got = client.get(kube::resources::kConfigMaps, ns, prefix + "-" + std::to_string(i));
    if (!got.ok()) {
      if (got.is(ErrorKind::NotFound)) continue;
      return got.error();
    }
    found = true;
    Shard shard = decodeShard(*got);
    for (auto& [key, use] : shard.accounts) policy::mergeUse(merged.accounts[key], use);
    if (i == 0 && shard.observedUntil != 0 && shard.observingSince != 0) head = shard.period();
    if (shard.observingSince != 0 &&
        (merged.observingSince == 0 || shard.observingSince < merged.observingSince)) {
      merged.observingSince = shard.observingSince;  // the legacy reading, unless shard 0 has one
    }
  }
  if (!head.empty()) {
    merged.observingSince = head.since;
    merged.observedUntil = head.until;
  }
  if (!found) {
    return makeError(ErrorKind::NotFound, "no evidence of token use in namespace " + ns +
                                              " (ConfigMaps " + prefix + "-*)");
  }
  return merged;
}

Store::Store(kube::Client& client, Ledger& ledger, StoreOptions options)
    : client_(client), ledger_(ledger), options_(std::move(options)) {
  options_.shards = std::clamp(options_.shards, 1, 64);
  if (!options_.wallClock) options_.wallClock = [] { return std::chrono::system_clock::now(); };
  // The recorded until lags the truth by up to a heartbeat and two syncs (one lost to a
  // Conflict), and a replica reaches the store once per sync: a tolerance below that would
  // see a gap in every pause between two syncs.
  const auto floor = std::chrono::duration_cast<std::chrono::seconds>(
      options_.heartbeat + 2 * std::chrono::ceil<std::chrono::seconds>(options_.interval));
  if (options_.gapTolerance < floor) {
    spdlog::warn(
        "evidence store: a gap tolerance of {} s is shorter than a heartbeat and two syncs; "
        "using {} s",
        options_.gapTolerance.count(), floor.count());
    options_.gapTolerance = floor;
  }
  lastReached_ = nowSeconds();
}

std::int64_t Store::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(options_.wallClock().time_since_epoch())
      .count();
}

std::string Store::shardName(int index) const {
  return options_.prefix + "-" + std::to_string(index);
}

int Store::shardOf(const std::string& key) const {
  // The basis the store has always used (one digit short of FNV's): another one would move
  // every account to another shard of the ConfigMaps already in clusters.
  constexpr std::uint64_t kShardBasis = 1469598103934665603ULL;
  return static_cast<int>(fnv1a64(key, kShardBasis) % static_cast<std::uint64_t>(options_.shards));
}

Status Store::sync() {
  for (auto& [key, use] : ledger_.takeChanged()) policy::mergeUse(pending_[key], use);
  now_ = nowSeconds();
  Status first;
  for (int i = 0; i < options_.shards; ++i) {
    Status status = syncShard(i, pending_);
    if (!status.ok() && first.ok()) first = status;
  }
  return first;
}

Status Store::syncShard(int index, std::map<std::string, policy::AccountUse>& pending) {
  const std::string name = shardName(index);
  auto got = client_.get(kube::resources::kConfigMaps, options_.namespace_, name);
  json cm;
  bool exists = true;
  if (!got.ok()) {
    if (!got.is(ErrorKind::NotFound)) return got.error();
    exists = false;
    cm = {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", name},
            {"namespace", options_.namespace_},
            {"labels", {{"app.kubernetes.io/managed-by", "saguard"}}}}},
          {"data", json::object()}};
  } else {
    cm = json::parse(*got, nullptr, /*allow_exceptions=*/false);
    if (cm.is_discarded() || !cm.is_object()) {
      return makeError(ErrorKind::Invalid, "ConfigMap " + name + ": not JSON");
    }
  }
  std::size_t skipped = 0;
  Shard shard = decodeShardJson(cm, &skipped);
  if (skipped > 0) {
    spdlog::warn(
        "evidence store: {} unreadable entries in ConfigMap {}/{} (rewritten from the "
        "ledger when those accounts are used again)",
        skipped, options_.namespace_, name);
  }

  // Theirs into ours: other replicas' evidence, and ours from before a restart.
  for (const auto& [key, use] : shard.accounts) ledger_.merge(key, use);
  bool changed = !exists;
  if (index == 0) changed |= syncObservation(shard);

  // Ours into theirs.
  std::vector<std::string> mine;
  for (const auto& [key, use] : pending) {
    if (shardOf(key) != index) continue;
    mine.push_back(key);
    changed |= policy::mergeUse(shard.accounts[key], use);
  }
  auto settle = [&] {
    for (const auto& key : mine) pending.erase(key);
  };
  if (!changed) {
    settle();
    return {};
  }

  // Newest first (ties by key, so every replica cuts the same list), kept while they fit:
  // from the first record that does not fit on, every older one is left out too. Packing
  // smaller, older records into the room a bigger, newer one left would keep records older
  // than one that was dropped, and a reader could no longer tell from the shard what it
  // lacks: "every record kept was used after every record left out" is what the comment of
  // store.h promises, and what the accounts' last-used annotations are the fallback for.
  std::vector<std::pair<std::string, const policy::AccountUse*>> order;
  for (const auto& [key, use] : shard.accounts) order.emplace_back(key, &use);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.second->lastUsed != b.second->lastUsed) return a.second->lastUsed > b.second->lastUsed;
    return a.first < b.first;
  });
  json data = json::object();
  std::size_t bytes = 0;
  std::size_t dropped = 0;
  for (const auto& [key, use] : order) {
    auto dataKey = dataKeyOf(key);
    if (!dataKey) continue;
    if (dropped > 0) {
      ++dropped;
      continue;
    }
    std::string value = encodeUse(*use);
    if (bytes + dataKey->size() + value.size() + 8 > options_.maxShardBytes) {
      ++dropped;
      continue;
    }
    bytes += dataKey->size() + value.size() + 8;
    data[*dataKey] = std::move(value);
  }
  if (dropped > 0) {
    spdlog::warn(
        "evidence store: ConfigMap {}/{} is full; the records of {} accounts with the "
        "oldest use were left out (their last-used day stays on the accounts)",
        options_.namespace_, name, dropped);
  }
  cm["data"] = std::move(data);
  // The period lives on shard 0; the other shards lose the copies of observing-since that
  // stores written before observed-until existed kept on every shard. No start known yet (no
  // source has run): no annotation. formatRfc3339(0) would say observation began in 1970,
  // which anyone reading the ConfigMap would take as "covers every window".
  json& meta = cm["metadata"];
  if (index != 0) {
    if (meta.contains("annotations") && meta["annotations"].is_object()) {
      meta["annotations"].erase(kObservingSince);
      meta["annotations"].erase(kObservedUntil);
      if (meta["annotations"].empty()) meta.erase("annotations");
    }
  } else if (shard.observingSince != 0) {
    meta["annotations"][kObservingSince] = codec::formatRfc3339(shard.observingSince);
    if (shard.observedUntil != 0) {
      meta["annotations"][kObservedUntil] = codec::formatRfc3339(shard.observedUntil);
    }
  }
  Result<std::string> written =
      exists ? client_.update(kube::resources::kConfigMaps, options_.namespace_, name, cm.dump())
             : client_.create(kube::resources::kConfigMaps, options_.namespace_, cm.dump());
  if (!written.ok()) return written.error();  // Conflict / AlreadyExists: next round merges
  ++writes_;
  settle();
  return {};
}

bool Store::syncObservation(Shard& shard) {
  const std::int64_t now = now_;
  const std::int64_t tolerance = options_.gapTolerance.count();
  const ObservationPeriod stored = storedPeriodAt(shard.period(), now);
  std::int64_t since = ledger_.observingSince();
  // Out of touch with the store for longer than the tolerance: this replica cannot show that
  // it observed in between (and its heartbeats did not say so): its own period starts again.
  if (since != 0 && now - lastReached_ > tolerance) since = now;
  lastReached_ = now;
  if (since == 0) return false;  // no source of ours has started: no claim, no period
  const ObservationPeriod merged = mergeObservation(stored, {since, now}, tolerance);
  ledger_.resetObservingSince(observingSinceAt(merged, now, tolerance));
  const bool write = merged.since != shard.observingSince || shard.observedUntil == 0 ||
                     merged.until - shard.observedUntil >= options_.heartbeat.count();
  shard.observingSince = merged.since;
  shard.observedUntil = merged.until;
  return write;
}

void Store::run(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any wake;
  auto lastLogged = std::chrono::steady_clock::time_point{};
  while (!stop.stop_requested()) {
    Status status = sync();
    if (!status.ok()) {
      const auto now = std::chrono::steady_clock::now();
      if (now - lastLogged >= std::chrono::minutes(1)) {
        lastLogged = now;
        spdlog::warn("evidence store: sync failed (retried every {} ms): {}",
                     options_.interval.count(), status.error().describe());
      }
    }
    std::unique_lock lock(mu);
    wake.wait_for(lock, stop, options_.interval, [] { return false; });
  }
  (void)sync();  // what arrived since the last round, before the process goes
}

}  // namespace saguard::evidence
