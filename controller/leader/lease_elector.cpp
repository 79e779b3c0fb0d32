#include "leader/lease_elector.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <random>
#include <thread>
#include <utility>

namespace saguard::leader {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr Clock::duration::rep kNotLeading = std::numeric_limits<Clock::duration::rep>::min();

Error invalid(std::string message) {
  return makeError(ErrorKind::Invalid, std::move(message));
}

// A call timeout that is never 0 (0 would mean "the client's default").
milliseconds atLeastOneMs(Clock::duration d) {
  return std::max(milliseconds(1), std::chrono::ceil<milliseconds>(d));
}

template <typename F, typename... Args>
void callQuietly(const char* what, const F& f, Args&&... args) {
  if (!f) return;
  try {
    f(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    spdlog::error("leader election: {} threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("leader election: {} threw", what);
  }
}

}  // namespace

Status LeaseElectorOptions::validate() const {
  using std::chrono::seconds;
  if (leaseNamespace.empty()) {
    return invalid("leaseNamespace (--leader-election-namespace) must not be empty");
  }
  if (leaseName.empty()) return invalid("leaseName (--leader-election-id) must not be empty");
  if (retryPeriod <= milliseconds::zero()) return invalid("retryPeriod must be > 0");
  const double jittered = static_cast<double>(retryPeriod.count()) * kJitterFactor;
  if (static_cast<double>(renewDeadline.count()) <= jittered) {
    return invalid("renewDeadline (" + std::to_string(renewDeadline.count()) +
                   " ms) must be greater than retryPeriod * 1.2 (" +
                   std::to_string(static_cast<long long>(jittered)) + " ms)");
  }
  if (leaseDuration <= renewDeadline) {
    return invalid("leaseDuration (" + std::to_string(leaseDuration.count()) +
                   " ms) must be greater than renewDeadline (" +
                   std::to_string(renewDeadline.count()) + " ms)");
  }
  if (leaseDuration % seconds(1) != milliseconds::zero()) {
    return invalid("leaseDuration (" + std::to_string(leaseDuration.count()) +
                   " ms) must be a whole number of seconds: the Lease stores leaseDurationSeconds");
  }
  if (leaseDuration / seconds(1) > std::numeric_limits<std::int32_t>::max()) {
    return invalid("leaseDuration is too long for leaseDurationSeconds (int32)");
  }
  return Status::Ok();
}

Result<std::string> defaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) {
    return makeError(
        ErrorKind::Internal,
        std::string("leader election identity: cannot read the hostname: ") + std::strerror(errno));
  }
  // A version-4 UUID: unique per process even when two replicas share a hostname.
  std::random_device device;
  std::mt19937_64 engine((static_cast<std::uint64_t>(device()) << 32) ^ device());
  std::uint64_t hi = engine(), lo = engine();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;            // version 4
  lo = (lo & ~(0x3ULL << 62)) | (0x2ULL << 62);  // RFC 4122 variant
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return std::string(host) + "_" + uuid;
}

Result<std::unique_ptr<LeaseElector>> LeaseElector::create(LeaseElectorOptions options,
                                                           LeaderCallbacks callbacks, LeaseApi& api,
                                                           ElectorDependencies deps) {
  if (Status s = options.validate(); !s.ok()) return s.error();
  if (!callbacks.onStartedLeading) return invalid("callbacks.onStartedLeading is required");
  if (!callbacks.onStoppedLeading) return invalid("callbacks.onStoppedLeading is required");
  if (options.identity.empty()) {
    auto identity = defaultIdentity();
    if (!identity.ok()) return identity.error();
    options.identity = std::move(identity).value();
  }
  return std::unique_ptr<LeaseElector>(
      new LeaseElector(std::move(options), std::move(callbacks), api, std::move(deps)));
}

LeaseElector::LeaseElector(LeaseElectorOptions options, LeaderCallbacks callbacks, LeaseApi& api,
                           ElectorDependencies deps)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      api_(api),
      clock_(deps.clock ? *deps.clock : SteadyClock::instance()),
      sleeper_(deps.sleeper ? *deps.sleeper : kube::RealSleeper::instance()),
      random_(deps.random ? std::move(deps.random) : kube::defaultRandomSource()),
      wallClock_(deps.wallClock ? std::move(deps.wallClock)
                                : [] { return std::chrono::system_clock::now(); }),
      deadline_(kNotLeading) {}

LeaseElector::~LeaseElector() = default;

bool LeaseElector::isLeader() const {
  const auto deadline = deadline_.load(std::memory_order_acquire);
  if (deadline == kNotLeading) return false;
  return clock_.now().time_since_epoch().count() < deadline;
}

std::string LeaseElector::observedLeader() const {
  std::lock_guard lock(mu_);
  return observedLeader_;
}

milliseconds LeaseElector::jittered(milliseconds period) {
  double r = std::clamp(random_(), 0.0, 1.0);
  return period + milliseconds(static_cast<long long>(
                      std::llround(static_cast<double>(period.count()) * r * kJitterFactor)));
}

void LeaseElector::setLeading(bool leading) {
  callQuietly("onLeadingChanged", callbacks_.onLeadingChanged, std::string_view(options_.leaseName),
              leading);
}

bool LeaseElector::holdingObserved() const {
  return observed_ && observed_->record.holderIdentity == options_.identity;
}

void LeaseElector::observe(ObservedLease lease) {
  if (!observed_ || observed_->record != lease.record) observedTime_ = clock_.now();
  const std::string holder = lease.record.holderIdentity;
  observed_ = std::move(lease);
  {
    std::lock_guard lock(mu_);
    observedLeader_ = holder;
  }
  if (!holder.empty() && holder != reportedLeader_) {
    reportedLeader_ = holder;
    if (holder != options_.identity) {
      spdlog::info("leader election: lease {}/{} is held by {}", options_.leaseNamespace,
                   options_.leaseName, holder);
    }
    callQuietly("onNewLeader", callbacks_.onNewLeader, holder);
  }
}

bool LeaseElector::adopt(const std::string& json, Error& error) {
  auto lease = parseLease(json);
  if (!lease.ok()) {
    error = lease.error();
    return false;
  }
  observe(std::move(lease).value());
  // Our own write: it is the freshest observation even when the record equals the
  // previous one byte for byte (a renewal within the same microsecond).
  observedTime_ = clock_.now();
  return true;
}

LeaseElector::Attempt LeaseElector::tryAcquireOrRenew(milliseconds timeout, Error& error) {
  const Clock::time_point start = clock_.now();
  const std::string now = formatMicroTime(wallClock_());
  const auto ourSeconds =
      static_cast<std::int32_t>(options_.leaseDuration / std::chrono::seconds(1));
  const auto renewed = [&] {
    deadline_.store((start + options_.renewDeadline).time_since_epoch().count(),
                    std::memory_order_release);
  };

  // Fast path: a leader whose view of the lease is still valid updates the record it
  // wrote last, without reading it first. Any failure falls back to the slow path.
  if (holdingObserved() && observedTime_ + options_.leaseDuration > start) {
    LeaseRecord record = observed_->record;
    record.renewTime = now;
    record.leaseDurationSeconds = ourSeconds;
    auto body = withRecord(observed_->json, record);
    if (body.ok()) {
      auto updated = api_.update(options_.leaseNamespace, options_.leaseName, *body, timeout);
      if (updated.ok() && adopt(*updated, error)) {
        renewed();
        return Attempt::Success;
      }
      spdlog::debug("leader election: optimistic renewal of {}/{} failed ({}); reading the lease",
                    options_.leaseNamespace, options_.leaseName,
                    updated.ok() ? error.describe() : updated.error().describe());
    }
  }

  auto got = api_.get(options_.leaseNamespace, options_.leaseName, timeout);
  if (got.is(ErrorKind::NotFound)) {
    LeaseRecord record{.holderIdentity = options_.identity,
                       .leaseDurationSeconds = ourSeconds,
                       .acquireTime = now,
                       .renewTime = now,
                       .leaseTransitions = 0};
    auto created =
        api_.create(options_.leaseNamespace,
                    newLease(options_.leaseNamespace, options_.leaseName, record), timeout);
    if (!created.ok()) {
      error = created.error();  // AlreadyExists: another candidate created it first
      return Attempt::Failed;
    }
    if (!adopt(*created, error)) return Attempt::Failed;
    renewed();
    return Attempt::Success;
  }
  if (!got.ok()) {
    error = got.error();
    return Attempt::Failed;
  }
  auto lease = parseLease(*got);
  if (!lease.ok()) {
    error = lease.error();
    return Attempt::Failed;
  }
  const LeaseRecord old = lease->record;
  observe(std::move(lease).value());

  if (!old.holderIdentity.empty() && old.holderIdentity != options_.identity) {
    // The holder's own duration counts; a record without one falls back to ours.
    const auto theirs = old.leaseDurationSeconds > 0
                            ? std::chrono::seconds(old.leaseDurationSeconds)
                            : duration_cast<std::chrono::seconds>(options_.leaseDuration);
    if (observedTime_ + theirs > start) return Attempt::HeldByOther;
  }

  LeaseRecord record{.holderIdentity = options_.identity,
                     .leaseDurationSeconds = ourSeconds,
                     .acquireTime = now,
                     .renewTime = now,
                     .leaseTransitions = old.leaseTransitions + 1};
  if (old.holderIdentity == options_.identity) {
    record.acquireTime = old.acquireTime;
    record.leaseTransitions = old.leaseTransitions;
  }
  auto body = withRecord(observed_->json, record);
  if (!body.ok()) {
    error = body.error();
    return Attempt::Failed;
  }
  auto updated = api_.update(options_.leaseNamespace, options_.leaseName, *body, timeout);
  if (!updated.ok()) {
    error = updated.error();  // Conflict: someone else wrote first
    return Attempt::Failed;
  }
  if (!adopt(*updated, error)) return Attempt::Failed;
  renewed();
  return Attempt::Success;
}

Status LeaseElector::run(std::stop_token stop) {
  if (ran_.exchange(true)) return invalid("LeaseElector::run() may be called only once");
  setLeading(false);
  spdlog::info("leader election: {} is a candidate for lease {}/{}", options_.identity,
               options_.leaseNamespace, options_.leaseName);
  for (;;) {
    if (stop.stop_requested()) return Status::Ok();
    Error error;
    Attempt attempt = tryAcquireOrRenew(atLeastOneMs(options_.renewDeadline), error);
    if (attempt == Attempt::Success) break;
    if (attempt == Attempt::Failed) {
      spdlog::info("leader election: cannot acquire lease {}/{}: {}", options_.leaseNamespace,
                   options_.leaseName, error.describe());
    }
    if (!sleeper_.sleepFor(jittered(options_.retryPeriod), stop)) return Status::Ok();
  }
  return lead(std::move(stop));
}

Status LeaseElector::lead(const std::stop_token& stop) {
  spdlog::info("leader election: {} acquired lease {}/{}", options_.identity,
               options_.leaseNamespace, options_.leaseName);
  setLeading(true);

  std::stop_source work;      // requested when leadership ends
  std::stop_source workDone;  // requested when onStartedLeading has returned
  std::thread worker([this, token = work.get_token(), workDone]() mutable {
    callQuietly("onStartedLeading", callbacks_.onStartedLeading, token);
    workDone.request_stop();
  });

  const auto deadline = [this] {
    return Clock::time_point(Clock::duration(deadline_.load(std::memory_order_acquire)));
  };
  bool draining = false;
  std::optional<Error> lost;
  Error lastError = makeError(ErrorKind::Timeout, "no renewal attempt finished");
  for (;;) {
    if (clock_.now() >= deadline()) {
      lost =
          makeError(ErrorKind::Timeout,
                    "could not renew lease " + options_.leaseNamespace + "/" + options_.leaseName +
                        " within renewDeadline; last error: " + lastError.describe());
      break;
    }
    // Wake no later than the deadline so the loop sees it on time.
    const auto wait = std::min<Clock::duration>(options_.retryPeriod, deadline() - clock_.now());
    const bool slept =
        sleeper_.sleepFor(atLeastOneMs(wait), draining ? workDone.get_token() : stop);
    if (!draining && !slept && stop.stop_requested()) {
      spdlog::info(
          "leader election: stop requested; waiting for the leader's work to finish, still "
          "renewing");
      draining = true;
      work.request_stop();
      continue;
    }
    if (draining && workDone.get_token().stop_requested()) break;
    if (clock_.now() >= deadline()) continue;  // reported at the top of the loop

    Error error;
    Attempt attempt = tryAcquireOrRenew(atLeastOneMs(deadline() - clock_.now()), error);
    if (attempt == Attempt::HeldByOther) {
      lost = makeError(ErrorKind::Conflict, "lease " + options_.leaseNamespace + "/" +
                                                options_.leaseName + " was taken over by " +
                                                observedLeader());
      break;
    }
    if (attempt == Attempt::Failed) {
      lastError = error;
      spdlog::warn("leader election: renewal of lease {}/{} failed: {}", options_.leaseNamespace,
                   options_.leaseName, error.describe());
    }
  }

  // The guard goes first: from here on no write may start.
  deadline_.store(kNotLeading, std::memory_order_release);
  work.request_stop();
  if (lost) {
    spdlog::error("leader election: {} lost leadership: {}", options_.identity, lost->message);
    setLeading(false);
    if (options_.releaseOnCancel) release();
    callQuietly("onStoppedLeading", callbacks_.onStoppedLeading);
    worker.join();
    return *lost;
  }
  worker.join();
  if (options_.releaseOnCancel) release();
  setLeading(false);
  callQuietly("onStoppedLeading", callbacks_.onStoppedLeading);
  return Status::Ok();
}

void LeaseElector::release() {
  if (!holdingObserved()) return;
  const std::string now = formatMicroTime(wallClock_());
  LeaseRecord record{.holderIdentity = "",
                     .leaseDurationSeconds = 1,
                     .acquireTime = now,
                     .renewTime = now,
                     .leaseTransitions = observed_->record.leaseTransitions};
  auto body = withRecord(observed_->json, record);
  if (!body.ok()) return;
  auto updated = api_.update(options_.leaseNamespace, options_.leaseName, *body,
                             atLeastOneMs(options_.renewDeadline));
  if (!updated.ok()) {
    spdlog::warn("leader election: could not release lease {}/{}: {}", options_.leaseNamespace,
                 options_.leaseName, updated.error().describe());
    return;
  }
  Error error;
  (void)adopt(*updated, error);
  spdlog::info("leader election: {} released lease {}/{}", options_.identity,
               options_.leaseNamespace, options_.leaseName);
}

}  // namespace saguard::leader
