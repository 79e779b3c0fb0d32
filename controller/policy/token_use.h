// Evidence of token use: which audit events count, what is kept of them per account, and
// what `serviceAccounts.unusedFor` decides from it. Pure; evidence/ feeds it (the audit
// webhook, the log file, exported logs) and keeps the records.
//
//   if (auto use = tokenUseOf(view)) ledger.record(*use);        // evidence/ledger.h
//   AccountUse merged = persisted; mergeUse(merged, local);       // replicas, restarts
//   UseWithin w = useWithin(30 * 86400, evidenceOf(...), now);     // unusedFor's answer
//
// What counts (tokenUseOf): an event of a service-account user
// (`user.username = system:serviceaccount:<ns>:<name>`; impersonatedUser is not the token
// that was used, so it is ignored), at stage ResponseComplete; a watch also at
// ResponseStarted. A watch is logged when its response starts, and again at
// ResponseComplete when it ends, minutes later; an audit policy may omit ResponseStarted
// (omitStages), and then ResponseComplete is all there is of a controller that only
// watches. Both stages of a watch give the same use, timed when the request was received
// (the token was presented then, not when the watch ended), so folding both changes the
// record once: the second is a replay of the first, and writes nothing. endsAWatch() tells
// the watch's ResponseComplete apart so that the ingest's metrics can count a request once. A
// refused request (401/403) counts as use: the token was presented. Events of other users and other
// stages are ignored.
//
// Why records are max-merge and not counters: the same event can arrive twice (the
// webhook retries a batch it thinks failed; the log file is read again from its start
// after a restart; two replicas each see part of the stream and share what they saw).
// AccountUse keeps only "the latest time X was seen" for each X (the account, each of its
// last pods, each of its last verb+resource pairs), so folding an event or a whole record
// in twice changes nothing, in any order: replicas and restarts agree without
// coordination. The price: "top 10" verbs/resources are the 10 most recently seen, not
// the 10 most frequent (frequencies cannot be merged idempotently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objects/audit_event.h"
#include "objects/objects.h"

namespace saguard::policy {

// One use of an account's token, from one accepted audit event.
struct TokenUse {
  std::string namespace_;
  std::string account;
  std::string podName;  // empty for a token not bound to a pod (a TokenRequest of a user,
  std::string podUid;   // a legacy Secret token)
  std::string nodeName;
  std::string verb;
  // "configmaps", "deployments.apps", "pods/log"; a non-resource request keeps its path
  // ("/version").
  std::string resource;
  int code = 0;
  // Seconds: stageTimestamp, else requestReceivedTimestamp; for a watch (either stage)
  // requestReceivedTimestamp, else stageTimestamp.
  std::int64_t at = 0;
};

enum class AuditEventClass : std::uint8_t {
  Use,                // evidence: tokenUseOf() returns it
  NotServiceAccount,  // a human, a node, a controller with its own credentials
  OtherStage,         // RequestReceived, Panic, ResponseStarted of anything but a watch, ...
  NoTime,             // neither stageTimestamp nor requestReceivedTimestamp
};

const char* toString(AuditEventClass c);

AuditEventClass classify(const objects::AuditEventView& event);
// The use an event shows, or nullopt when classify() is not Use.
std::optional<TokenUse> tokenUseOf(const objects::AuditEventView& event);
// The ResponseComplete of a watch: a use (classify() says so), the same one as the watch's
// ResponseStarted when the audit policy logs that stage too.
bool endsAWatch(const objects::AuditEventView& event);

// A refused request: the token was presented, the API server said no.
inline bool refused(int code) {
  return code == 401 || code == 403;
}

// What is known of one account's use. Every list is newest first and bounded, so memory
// per account does not grow with the number of events.
struct AccountUse {
  struct Pod {
    std::string uid;
    std::string name;
    std::int64_t at = 0;
    friend bool operator==(const Pod&, const Pod&) = default;
  };
  struct Access {
    std::string verb;
    std::string resource;
    bool refused = false;  // the API server refused it (401/403)
    std::int64_t at = 0;
    friend bool operator==(const Access&, const Access&) = default;
  };
  static constexpr std::size_t kMaxPods = 5;
  static constexpr std::size_t kMaxAccesses = 10;

  std::int64_t lastUsed = 0;     // latest use, allowed or refused; 0 = none recorded
  std::int64_t lastRefused = 0;  // latest refused use; 0 = none
  std::vector<Pod> pods;         // the last kMaxPods pods whose token was used (by uid)
  std::vector<Access> accesses;  // the last kMaxAccesses distinct (verb, resource, refused)

  friend bool operator==(const AccountUse&, const AccountUse&) = default;
};

// Folds one use in. True when the record changed.
bool recordUse(AccountUse& into, const TokenUse& use);
// Folds a whole record in (another replica's, the persisted one). Commutative and
// idempotent. True when `into` changed.
bool mergeUse(AccountUse& into, const AccountUse& from);

// Everything saguard knows about an account's use, from all its sources.
struct UseEvidence {
  std::int64_t lastUsed = 0;  // latest recorded use (seconds; 0 = none)
  // Since when use has been observed (the first audit event any replica received,
  // persisted); 0 = no audit source, nothing is known.
  std::int64_t observingSince = 0;
};

// A day as the last-used annotation and Kubernetes' legacy-token label write it
// ("2026-12-06", UTC): the last second of that day, the latest moment the day can stand
// for (so a day-granular record never makes a use look older than it was). nullopt when
// it does not parse.
std::optional<std::int64_t> endOfUseDay(std::string_view day);
// The day (UTC, "YYYY-MM-DD") of a time in seconds.
std::string useDayOf(std::int64_t seconds);

// `evidence` with a day-granular record folded in: the account's
// saguard.io/token-last-used annotation, or a legacy token Secret's
// kubernetes.io/legacy-token-last-used label ("" or malformed: nothing to fold). When the
// evidence already holds a use on that day or later, it is the more precise and is kept;
// otherwise the day counts as a use at its last second (endOfUseDay()).
UseEvidence withUseDay(UseEvidence evidence, std::string_view day);

// The day to write into an account's saguard.io/token-last-used annotation, or nullopt
// when the annotation already says that day or a later one: the annotation moves forward
// only, at most once a day (like Kubernetes' own legacy-token-last-used label).
// `observed` is the ledger's evidence alone (not the annotation folded in); `annotated` is
// the annotation's current value ("" when absent; a malformed one is replaced).
std::optional<std::string> useDayToRecord(const UseEvidence& observed, std::string_view annotated);

// Everything known of `account`'s use: `observed` (the ledger's), its last-used annotation
// folded in (withUseDay), and observation counted from the account's creation at the
// earliest: an account created an hour ago has been unused for an hour at most, however
// long saguard has been observing. Without that, a new account (a Helm install creating an
// account and its Deployment) would look unused for every window at once and lose its token
// before its pods ever called.
UseEvidence evidenceFor(UseEvidence observed, const objects::ServiceAccount& account);

// The evidence in words for a finding's message, "" when nothing is known:
// "its token was last used on 2026-12-06" or "no use of its token recorded since
// 2026-11-01". Days, not times: a status message that changed with every use would
// rewrite the status with every use.
std::string describeUse(const UseEvidence& evidence);

enum class UseWithin : std::uint8_t {
  Used,     // a use was recorded within the window
  NotUsed,  // observation covers the whole window and no use was recorded in it
  Unknown,  // observation does not cover the window yet (or there is no audit source)
};

const char* toString(UseWithin w);

// What `unusedFor: window` decides for an account at `now`.
UseWithin useWithin(std::int64_t windowSeconds, const UseEvidence& evidence, std::int64_t now);
// When useWithin() may next change its answer for this evidence (seconds; nullopt when
// it cannot change by time alone): a used account becomes unused once its last use leaves
// the window, an unknown one once observation covers it. The reconciler looks again then.
std::optional<std::int64_t> nextUseChange(std::int64_t windowSeconds, const UseEvidence& evidence,
                                          std::int64_t now);

}  // namespace saguard::policy
