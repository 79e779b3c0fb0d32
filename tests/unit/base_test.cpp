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
