#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/intern.h"
#include "base/result.h"

namespace saguard {
namespace {

TEST(Result, CarriesValueOrError) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);

  Result<int> bad = makeError(ErrorKind::Conflict, "stale");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.is(ErrorKind::Conflict));
  EXPECT_FALSE(bad.is(ErrorKind::NotFound));
  EXPECT_EQ(bad.error().describe(), "Conflict: stale");
}

TEST(Error, RetriableFollowsKind) {
  EXPECT_TRUE(makeError(ErrorKind::TooManyRequests, "").retriable());
  EXPECT_TRUE(makeError(ErrorKind::Unavailable, "").retriable());
  EXPECT_FALSE(makeError(ErrorKind::NotFound, "").retriable());
  EXPECT_FALSE(makeError(ErrorKind::Forbidden, "").retriable());
  EXPECT_FALSE(makeError(ErrorKind::Invalid, "").retriable());
}

TEST(Error, DescribeNamesCodeAndCauses) {
  Error e = makeError(ErrorKind::Invalid, "bad policy");
  e.httpCode = 422;
  e.causes.push_back({"spec.mode", "Unsupported value"});
  EXPECT_EQ(e.describe(), "Invalid (422): bad policy; spec.mode: Unsupported value");
}

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad = makeError(ErrorKind::Gone, "expired");
  EXPECT_TRUE(bad.is(ErrorKind::Gone));
}

TEST(Symbol, EqualTextIsSamePointer) {
  Symbol a("kube-system");
  Symbol b(std::string("kube-") + "system");
  EXPECT_EQ(a, b);
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_NE(a, Symbol("default"));
  EXPECT_TRUE(Symbol().empty());
  EXPECT_EQ(Symbol(), Symbol(""));
}

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock;
  auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.now() - t0, std::chrono::seconds(3));
}

}  // namespace
}  // namespace saguard

namespace saguard {
namespace {

TEST(KindFromStatus, ReasonBeatsCode) {
  EXPECT_EQ(kindFromStatus(410, "Expired"), ErrorKind::Gone);
  EXPECT_EQ(kindFromStatus(410), ErrorKind::Gone);
  EXPECT_EQ(kindFromStatus(409, "AlreadyExists"), ErrorKind::AlreadyExists);
  EXPECT_EQ(kindFromStatus(409, "Conflict"), ErrorKind::Conflict);
  EXPECT_EQ(kindFromStatus(409), ErrorKind::Conflict);
  EXPECT_EQ(kindFromStatus(404), ErrorKind::NotFound);
  EXPECT_EQ(kindFromStatus(422, "Invalid"), ErrorKind::Invalid);
  EXPECT_EQ(kindFromStatus(429), ErrorKind::TooManyRequests);
  EXPECT_EQ(kindFromStatus(500, "InternalError"), ErrorKind::Unavailable);
  EXPECT_EQ(kindFromStatus(503), ErrorKind::Unavailable);
  EXPECT_EQ(kindFromStatus(504), ErrorKind::Timeout);
  EXPECT_EQ(kindFromStatus(401), ErrorKind::Unauthorized);
  EXPECT_EQ(kindFromStatus(403), ErrorKind::Forbidden);
  EXPECT_EQ(kindFromStatus(418), ErrorKind::Internal);
}

}  // namespace
}  // namespace saguard

#include "base/flags.h"
#include "base/logging.h"

namespace saguard {
namespace {

TEST(FlagSet, ParsesEveryForm) {
  FlagSet flags("saguard run", "Runs.");
  std::string kubeconfig;
  bool leaderElect = false;
  int workers = 2;
  std::vector<std::string> policies;
  flags.add("kubeconfig", &kubeconfig, "Path.");
  flags.add("leader-elect", &leaderElect, "Elect.");
  flags.add("workers", &workers, "Workers.");
  flags.add("policy", &policies, "Policy files.");
  flags.alias('w', "workers");
  auto rest = flags.parse({"--kubeconfig=/k", "--leader-elect", "-w", "4", "a", "--policy", "p1",
                           "--policy=p2", "--", "--not-a-flag"});
  ASSERT_TRUE(rest.ok()) << rest.error().describe();
  EXPECT_EQ(kubeconfig, "/k");
  EXPECT_TRUE(leaderElect);
  EXPECT_EQ(workers, 4);
  EXPECT_EQ(policies, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(*rest, (std::vector<std::string>{"a", "--not-a-flag"}));
}

TEST(FlagSet, ErrorsNameTheFlag) {
  FlagSet flags("x", "y");
  int workers = 1;
  bool b = false;
  flags.add("workers", &workers, "n");
  flags.add("b", &b, "b");
  auto bad = flags.parse({"--workers=two"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--workers"), std::string::npos);
  EXPECT_FALSE(flags.parse({"--nope"}).ok());
  EXPECT_FALSE(flags.parse({"--workers"}).ok());
  EXPECT_FALSE(flags.parse({"--b=maybe"}).ok());
  EXPECT_TRUE(flags.parse({"--b=false"}).ok());
  EXPECT_FALSE(b);
}

TEST(FlagSet, HelpListsFlagsWithDefaults) {
  FlagSet flags("saguard run", "Runs the controller.");
  std::string addr = ":8080";
  flags.add("metrics-bind-address", &addr, "Where /metrics listens.");
  auto r = flags.parse({"--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(flags.helpRequested());
  EXPECT_NE(flags.usage().find("--metrics-bind-address value"), std::string::npos);
  EXPECT_NE(flags.usage().find("(default \":8080\")"), std::string::npos);
}

TEST(Redact, RemovesTokensAndKeys) {
  EXPECT_EQ(redactSecrets("Authorization: Bearer abc.def-123 sent"),
            "Authorization: Bearer [REDACTED] sent");
  EXPECT_EQ(redactSecrets("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl end"),
            "token [REDACTED] end");
  EXPECT_EQ(redactSecrets(
                "key -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after"),
            "key [REDACTED] after");
  EXPECT_EQ(redactSecrets("plain eyJnot-a-jwt text"), "plain eyJnot-a-jwt text");
  EXPECT_EQ(redactSecrets("nothing secret here"), "nothing secret here");
}

TEST(Logging, RejectsUnknownFormatAndLevel) {
  EXPECT_TRUE(parseLogFormat("json").ok());
  EXPECT_FALSE(parseLogFormat("xml").ok());
  EXPECT_FALSE(setupLogging({LogFormat::Json, "loud"}).ok());
  EXPECT_TRUE(setupLogging({LogFormat::Text, "info"}).ok());
}

}  // namespace
}  // namespace saguard
