#include "policy/token_use.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "policy/bindings.h"

namespace saguard::policy {
namespace {

constexpr std::int64_t kDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// "deployments.apps", "pods/log", "/version": the names RBAC rules and kubectl use.
std::string resourceOf(const objects::AuditEventView& e) {
  if (e.resource.empty()) {
    const std::string_view path = e.requestUri.substr(0, e.requestUri.find('?'));
    return std::string(path);
  }
  std::string out(e.resource);
  if (!e.apiGroup.empty()) out.append(".").append(e.apiGroup);
  if (!e.subresource.empty()) out.append("/").append(e.subresource);
  return out;
}

// Newest first; ties by key so that truncation keeps the same entries in any order of
// folding (what makes mergeUse() commutative).
bool newerPod(const AccountUse::Pod& a, const AccountUse::Pod& b) {
  return std::tie(b.at, a.uid) < std::tie(a.at, b.uid);
}
bool newerAccess(const AccountUse::Access& a, const AccountUse::Access& b) {
  if (a.at != b.at) return a.at > b.at;
  return std::tie(a.verb, a.resource, a.refused) < std::tie(b.verb, b.resource, b.refused);
}

// Folds an entry into a bounded newest-first list: `isKey(e)` says whether `e` has the
// entry's key, `isNewerThan(e)` whether the entry (its key, `at`) sorts before `e`,
// `newer(a, b)` orders two listed entries, `make()` builds the entry. True when the list
// changed.
//
// The hot path (a pod or access already listed at a time not earlier, or too old for a
// full list) builds and allocates nothing. A change moves or inserts the one entry at its
// place: the list was sorted and only that entry changed, so the result is the list
// sorted by `newer` and cut at `cap`, exactly what sorting after each change gives. A
// list that is not sorted or over the cap (built by hand, not by this function) is sorted
// whole instead, with the same result as before.
template <typename T, typename IsKey, typename IsNewerThan, typename Newer, typename Make>
bool foldLatest(std::vector<T>& list, std::int64_t at, std::size_t cap, IsKey isKey,
                IsNewerThan isNewerThan, Newer newer, Make make) {
  auto it = std::find_if(list.begin(), list.end(), isKey);
  if (it != list.end() && it->at >= at) return false;
  if (it == list.end() && list.size() >= cap && !isNewerThan(list.back())) return false;
  const bool ordered = list.size() <= cap && std::is_sorted(list.begin(), list.end(), newer);
  if (ordered) {
    if (it != list.end()) {
      // It only moves forward, before the first entry it is now newer than.
      it->at = at;
      std::rotate(std::find_if(list.begin(), it, [&](const T& e) { return newer(*it, e); }), it,
                  it + 1);
    } else {
      list.insert(std::find_if(list.begin(), list.end(), isNewerThan), make());
      if (list.size() > cap) list.pop_back();
    }
    return true;
  }
  if (it != list.end()) {
    it->at = at;
  } else {
    list.push_back(make());
  }
  std::sort(list.begin(), list.end(), newer);
  if (list.size() > cap) list.resize(cap);
  return true;
}

// The same orders as newerPod/newerAccess, for an entry not built yet (its key as views).
bool podNewerThan(std::string_view uid, std::int64_t at, const AccountUse::Pod& e) {
  return at != e.at ? at > e.at : uid < e.uid;
}
bool accessNewerThan(std::string_view verb, std::string_view resource, bool refused,
                     std::int64_t at, const AccountUse::Access& e) {
  if (at != e.at) return at > e.at;
  if (verb != e.verb) return verb < e.verb;
  if (resource != e.resource) return resource < e.resource;
  return refused < e.refused;
}

bool foldPod(std::vector<AccountUse::Pod>& pods, std::string_view uid, std::string_view name,
             std::int64_t at) {
  return foldLatest(
      pods, at, AccountUse::kMaxPods, [&](const AccountUse::Pod& e) { return e.uid == uid; },
      [&](const AccountUse::Pod& e) { return podNewerThan(uid, at, e); }, newerPod,
      [&] {
        return AccountUse::Pod{std::string(uid), std::string(name), at};
      });
}

bool foldAccess(std::vector<AccountUse::Access>& accesses, std::string_view verb,
                std::string_view resource, bool refused, std::int64_t at) {
  return foldLatest(
      accesses, at, AccountUse::kMaxAccesses,
      [&](const AccountUse::Access& e) {
        return e.verb == verb && e.resource == resource && e.refused == refused;
      },
      [&](const AccountUse::Access& e) { return accessNewerThan(verb, resource, refused, at, e); },
      newerAccess,
      [&] {
        return AccountUse::Access{std::string(verb), std::string(resource), refused, at};
      });
}

bool raise(std::int64_t& into, std::int64_t value) {
  if (value <= into) return false;
  into = value;
  return true;
}

}  // namespace

const char* toString(AuditEventClass c) {
  switch (c) {
    case AuditEventClass::Use:
      return "Use";
    case AuditEventClass::NotServiceAccount:
      return "NotServiceAccount";
    case AuditEventClass::OtherStage:
      return "OtherStage";
    case AuditEventClass::NoTime:
      return "NoTime";
  }
  return "Unknown";
}

AuditEventClass classify(const objects::AuditEventView& event) {
  if (!serviceAccountOfUser(event.username)) return AuditEventClass::NotServiceAccount;
  const bool watch = event.verb == "watch";
  const bool complete = event.stage == "ResponseComplete";
  if (!complete && !(watch && event.stage == "ResponseStarted")) {
    return AuditEventClass::OtherStage;
  }
  if (event.stageTimestamp == 0 && event.requestReceivedTimestamp == 0) {
    return AuditEventClass::NoTime;
  }
  return AuditEventClass::Use;
}

bool endsAWatch(const objects::AuditEventView& event) {
  return event.verb == "watch" && event.stage == "ResponseComplete";
}

std::optional<TokenUse> tokenUseOf(const objects::AuditEventView& event) {
  if (classify(event) != AuditEventClass::Use) return std::nullopt;
  auto account = serviceAccountOfUser(event.username);
  TokenUse use;
  use.namespace_ = account->first;
  use.account = account->second;
  use.podName = event.podName;
  use.podUid = event.podUid;
  use.nodeName = event.nodeName;
  use.verb = event.verb;
  use.resource = resourceOf(event);
  use.code = event.code;
  // A watch's two stages are one use, when the request was received (see the header).
  const bool watch = event.verb == "watch";
  const std::int64_t first = watch ? event.requestReceivedTimestamp : event.stageTimestamp;
  const std::int64_t second = watch ? event.stageTimestamp : event.requestReceivedTimestamp;
  use.at = first != 0 ? first : second;
  return use;
}

bool recordUse(AccountUse& into, const TokenUse& use) {
  bool changed = raise(into.lastUsed, use.at);
  const bool wasRefused = refused(use.code);
  if (wasRefused) changed |= raise(into.lastRefused, use.at);
  if (!use.podUid.empty()) changed |= foldPod(into.pods, use.podUid, use.podName, use.at);
  changed |= foldAccess(into.accesses, use.verb, use.resource, wasRefused, use.at);
  return changed;
}

bool mergeUse(AccountUse& into, const AccountUse& from) {
  bool changed = raise(into.lastUsed, from.lastUsed);
  changed |= raise(into.lastRefused, from.lastRefused);
  for (const auto& pod : from.pods) changed |= foldPod(into.pods, pod.uid, pod.name, pod.at);
  for (const auto& access : from.accesses) {
    changed |= foldAccess(into.accesses, access.verb, access.resource, access.refused, access.at);
  }
  return changed;
}

std::optional<std::int64_t> endOfUseDay(std::string_view day) {
  // Exactly YYYY-MM-DD.
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return std::nullopt;
  auto digits = [&](std::size_t from, std::size_t count) -> std::optional<unsigned> {
    unsigned value = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      if (day[i] < '0' || day[i] > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(day[i] - '0');
    }
    return value;
  };
  auto y = digits(0, 4);
  auto m = digits(5, 2);
  auto d = digits(8, 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const unsigned monthDays = kDays[*m - 1] + (*m == 2 && leap(*y) ? 1 : 0);
  if (*d > monthDays) return std::nullopt;
  return daysFromCivil(*y, *m, *d) * kDay + kDay - 1;
}

std::string useDayOf(std::int64_t seconds) {
  // civil_from_days (H. Hinnant).
  std::int64_t z = (seconds >= 0 ? seconds : seconds - (kDay - 1)) / kDay + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buffer;
}

UseEvidence withUseDay(UseEvidence evidence, std::string_view day) {
  auto end = endOfUseDay(day);
  if (!end || evidence.lastUsed >= *end - (kDay - 1)) return evidence;
  evidence.lastUsed = *end;
  return evidence;
}

std::optional<std::string> useDayToRecord(const UseEvidence& observed, std::string_view annotated) {
  if (observed.lastUsed <= 0) return std::nullopt;
  std::string day = useDayOf(observed.lastUsed);
  // Valid days compare as strings; a malformed annotation is simply behind.
  if (endOfUseDay(annotated) && std::string_view(day) <= annotated) return std::nullopt;
  return day;
}

UseEvidence evidenceFor(UseEvidence observed, const objects::ServiceAccount& account) {
  UseEvidence evidence = withUseDay(observed, account.tokenLastUsed.view());
  if (evidence.observingSince != 0 && account.creationTimestamp > evidence.observingSince) {
    evidence.observingSince = account.creationTimestamp;
  }
  return evidence;
}

std::string describeUse(const UseEvidence& evidence) {
  if (evidence.lastUsed != 0) return "its token was last used on " + useDayOf(evidence.lastUsed);
  if (evidence.observingSince != 0) {
    return "no use of its token recorded since " + useDayOf(evidence.observingSince);
  }
  return {};
}

const char* toString(UseWithin w) {
  switch (w) {
    case UseWithin::Used:
      return "Used";
    case UseWithin::NotUsed:
      return "NotUsed";
    case UseWithin::Unknown:
      return "Unknown";
  }
  return "Unknown";
}

UseWithin useWithin(std::int64_t windowSeconds, const UseEvidence& evidence, std::int64_t now) {
  const std::int64_t windowStart = now - windowSeconds;
  if (evidence.lastUsed != 0 && evidence.lastUsed > windowStart) return UseWithin::Used;
  if (evidence.observingSince != 0 && evidence.observingSince <= windowStart) {
    return UseWithin::NotUsed;
  }
  return UseWithin::Unknown;
}

std::optional<std::int64_t> nextUseChange(std::int64_t windowSeconds, const UseEvidence& evidence,
                                          std::int64_t now) {
  switch (useWithin(windowSeconds, evidence, now)) {
    case UseWithin::Used:
      return evidence.lastUsed + windowSeconds;
    case UseWithin::Unknown:
      if (evidence.observingSince == 0) return std::nullopt;
      return evidence.observingSince + windowSeconds;
    case UseWithin::NotUsed:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace saguard::policy
