// HealthChecks: what /healthz and /readyz answer, without a server (the server test
// checks the same answers over HTTP).
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "metrics/health.h"

namespace saguard::metrics {
namespace {

Status failing(std::string why = "caches not synced") {
  return makeError(ErrorKind::Unavailable, std::move(why));
}

TEST(HealthChecksTest, NoChecksMeansOk) {
  HealthChecks checks;
  for (const char* path : {"/healthz", "/readyz", "/readyz/"}) {
    const auto r = checks.handle(path, "");
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "ok") << path;
  }
}

TEST(HealthChecksTest, ReadyzFailsUntilEveryCheckPasses) {
  HealthChecks checks;
  std::atomic<bool> synced{false};
  ASSERT_TRUE(checks
                  .addReadyCheck("informers-synced",
                                 [&]() -> Status { return synced ? Status::Ok() : failing(); })
                  .ok());
  ASSERT_TRUE(checks.addReadyCheck("ping", [] { return Status::Ok(); }).ok());

  auto r = checks.handle("/readyz", "");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body,
            "[-]informers-synced failed: reason withheld\n[+]ping ok\nreadyz check failed\n");
  EXPECT_EQ(r.body.find("caches not synced"), std::string::npos) << "reasons are never served";

  synced = true;
  r = checks.handle("/readyz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST(HealthChecksTest, HealthzAndReadyzAreIndependent) {
  HealthChecks checks;
  ASSERT_TRUE(checks.addReadyCheck("informers-synced", [] { return failing(); }).ok());
  ASSERT_TRUE(checks.addHealthCheck("ping", [] { return Status::Ok(); }).ok());
  EXPECT_EQ(checks.handle("/healthz", "").status, 200);
  EXPECT_EQ(checks.handle("/readyz", "").status, 500);
  // The same name may be used once per probe.
  EXPECT_TRUE(checks.addHealthCheck("informers-synced", [] { return Status::Ok(); }).ok());
}

TEST(HealthChecksTest, VerboseListsEveryCheck) {
  HealthChecks checks;
  ASSERT_TRUE(checks.addHealthCheck("ping", [] { return Status::Ok(); }).ok());
  ASSERT_TRUE(checks.addHealthCheck("leader", [] { return Status::Ok(); }).ok());
  for (const char* query : {"verbose", "verbose=1", "x=y&verbose"}) {
    const auto r = checks.handle("/healthz", query);
    EXPECT_EQ(r.status, 200) << query;
    EXPECT_EQ(r.body, "[+]ping ok\n[+]leader ok\nhealthz check passed\n") << query;
  }
}

TEST(HealthChecksTest, ExcludeSkipsAndSaysSo) {
  HealthChecks checks;
  int runs = 0;
  ASSERT_TRUE(checks
                  .addReadyCheck("informers-synced",
                                 [&] {
                                   ++runs;
                                   return failing();
                                 })
                  .ok());
  ASSERT_TRUE(checks.addReadyCheck("ping", [] { return Status::Ok(); }).ok());
  auto r = checks.handle("/readyz", "exclude=informers-synced");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(runs, 0);

  r = checks.handle("/readyz", "verbose&exclude=informers%2Dsynced&exclude=nope");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      "[+]informers-synced excluded: ok\n[+]ping ok\nwarn: no check named \"nope\" to exclude\n"
      "readyz check passed\n");
}

TEST(HealthChecksTest, OneCheckBySubPath) {
  HealthChecks checks;
  ASSERT_TRUE(checks.addReadyCheck("informers-synced", [] { return failing(); }).ok());
  ASSERT_TRUE(checks.addReadyCheck("ping", [] { return Status::Ok(); }).ok());
  auto r = checks.handle("/readyz/ping", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  r = checks.handle("/readyz/informers-synced", "");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "[-]informers-synced failed: reason withheld\n");
  EXPECT_EQ(checks.handle("/readyz/nope", "").status, 404);
  EXPECT_EQ(checks.handle("/healthz/ping", "").status, 404);  // ping is a ready check only
}

TEST(HealthChecksTest, OtherPathsAreNotFound) {
  HealthChecks checks;
  for (const char* path : {"/", "/metrics", "/healthzz", "/readyzfoo", "/livez", ""}) {
    EXPECT_EQ(checks.handle(path, "").status, 404) << path;
  }
}

TEST(HealthChecksTest, AThrowingCheckFails) {
  HealthChecks checks;
  ASSERT_TRUE(
      checks.addHealthCheck("bug", []() -> Status { throw std::runtime_error("oops"); }).ok());
  ASSERT_TRUE(checks.addHealthCheck("odd", []() -> Status { throw 42; }).ok());
  const auto r = checks.handle("/healthz", "");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(
      r.body,
      "[-]bug failed: reason withheld\n[-]odd failed: reason withheld\nhealthz check failed\n");
}

TEST(HealthChecksTest, BadChecksAreRefused) {
  HealthChecks checks;
  auto ok = [] { return Status::Ok(); };
  EXPECT_TRUE(checks.addReadyCheck("informers-synced", ok).ok());
  const Status duplicate = checks.addReadyCheck("informers-synced", ok);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.kind(), ErrorKind::Invalid);
  EXPECT_NE(duplicate.error().message.find("already added"), std::string::npos);
  for (const char* name : {"", "a/b", "with space", "tab\t"}) {
    const Status s = checks.addHealthCheck(name, ok);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.kind(), ErrorKind::Invalid);
    EXPECT_NE(s.error().message.find("check name"), std::string::npos) << s.error().message;
  }
  const Status empty = checks.addHealthCheck("empty", HealthCheck{});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no function"), std::string::npos);
  EXPECT_TRUE(checks.addHealthCheck("Leader_election.v1", ok).ok());
}

}  // namespace
}  // namespace saguard::metrics
