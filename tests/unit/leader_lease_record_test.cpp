// The Lease record as read from and written into a Lease's JSON, MicroTime text, the
// in-memory Lease API's concurrency rules, and the default candidate identity.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "leader/lease_elector.h"
#include "leader/lease_record.h"
#include "support/memory_lease_api.h"

namespace saguard::leader {
namespace {

using nlohmann::json;
using namespace std::chrono;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  return system_clock::time_point(sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} +
                                  seconds{s} + microseconds{us});
}

TEST(LeaderMicroTime, FormatsUtcWithSixFractionDigits) {
  EXPECT_EQ(formatMicroTime(at(2024, 5, 1, 10, 0, 0, 123456)), "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(formatMicroTime(at(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59.000000Z");
  EXPECT_EQ(formatMicroTime(at(1999, 12, 31, 0, 0, 7, 5)), "1999-12-31T00:00:07.000005Z");
  // Truncated, not rounded, below the microsecond.
  EXPECT_EQ(formatMicroTime(at(2024, 5, 1, 10, 0, 0, 999999) + nanoseconds(999)),
            "2024-05-01T10:00:00.999999Z");
}

TEST(LeaderMicroTime, ParsesWhatItFormatsAndRfc3339Variants) {
  auto t = at(2024, 5, 1, 10, 0, 0, 123456);
  EXPECT_EQ(parseMicroTime(formatMicroTime(t)), t);
  EXPECT_EQ(parseMicroTime("2024-05-01T10:00:00Z"), at(2024, 5, 1, 10, 0, 0));
  EXPECT_EQ(parseMicroTime("2024-05-01T12:00:00.25+02:00"), at(2024, 5, 1, 10, 0, 0, 250000));
  EXPECT_EQ(parseMicroTime("2024-05-01T09:30:00.123456789-00:30"),
            at(2024, 5, 1, 10, 0, 0, 123456));
  EXPECT_EQ(parseMicroTime("2024-05-01t10:00:00z"), at(2024, 5, 1, 10, 0, 0));
}

TEST(LeaderMicroTime, RejectsMalformedText) {
  for (const char* bad :
       {"", "2024-05-01", "2024-05-01T10:00:00", "2024-02-30T10:00:00Z", "2023-02-29T10:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T10:60:00Z", "2024-05-01T10:00:00.Z",
        "2024-05-01T10:00:00.1234567890Z", "2024-05-01T10:00:00Zjunk", "2024-05-01 10:00:00Z",
        "2024-05-01T10:00:00+0200", "x024-05-01T10:00:00Z"}) {
    EXPECT_FALSE(parseMicroTime(bad).has_value()) << bad;
  }
}

TEST(LeaderLeaseRecord, ParsesTheSpecAndResourceVersion) {
  auto lease = parseLease(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"saguard","namespace":"saguard-system","resourceVersion":"42"},
      "spec":{"holderIdentity":"pod-a_1","leaseDurationSeconds":15,
              "acquireTime":"2024-05-01T10:00:00.000000Z","renewTime":"2024-05-01T10:00:04.500000Z",
              "leaseTransitions":3}})");
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_EQ(lease->resourceVersion, "42");
  EXPECT_EQ(lease->record, (LeaseRecord{"pod-a_1", 15, "2024-05-01T10:00:00.000000Z",
                                        "2024-05-01T10:00:04.500000Z", 3}));
}

TEST(LeaderLeaseRecord, AbsentAndNullFieldsReadAsEmpty) {
  auto lease = parseLease(R"({"metadata":{"name":"x"},"spec":{"holderIdentity":null}})");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->record, LeaseRecord{});
  EXPECT_EQ(lease->resourceVersion, "");
  auto noSpec = parseLease(R"({"metadata":{"name":"x"}})");
  ASSERT_TRUE(noSpec.ok());
  EXPECT_EQ(noSpec->record, LeaseRecord{});
}

TEST(LeaderLeaseRecord, RejectsWhatIsNotALease) {
  EXPECT_TRUE(parseLease("not json").is(ErrorKind::Internal));
  EXPECT_TRUE(parseLease("[1,2]").is(ErrorKind::Internal));
  EXPECT_TRUE(parseLease(R"({"spec":{"leaseDurationSeconds":"15"}})").is(ErrorKind::Internal));
}

TEST(LeaderLeaseRecord, WithRecordKeepsEverythingElseAndClearsEmptyFields) {
  std::string original = R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"saguard","namespace":"ns","resourceVersion":"7","labels":{"team":"platform"}},
      "spec":{"holderIdentity":"old","leaseDurationSeconds":15,"acquireTime":"2024-05-01T10:00:00.000000Z",
              "renewTime":"2024-05-01T10:00:02.000000Z","leaseTransitions":1,"strategy":"OldestEmulationVersion"}})";
  auto released = withRecord(original, LeaseRecord{"", 1, "", "2024-05-01T10:00:09.000000Z", 1});
  ASSERT_TRUE(released.ok());
  json out = json::parse(*released);
  EXPECT_EQ(out["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(out["metadata"]["labels"]["team"], "platform");
  EXPECT_EQ(out["spec"]["strategy"], "OldestEmulationVersion");
  EXPECT_FALSE(out["spec"].contains("holderIdentity"));
  EXPECT_FALSE(out["spec"].contains("acquireTime"));
  EXPECT_EQ(out["spec"]["renewTime"], "2024-05-01T10:00:09.000000Z");
  EXPECT_EQ(out["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(out["spec"]["leaseTransitions"], 1);
  EXPECT_TRUE(withRecord("nope", LeaseRecord{}).is(ErrorKind::Internal));
}

TEST(LeaderLeaseRecord, NewLeaseIsACoordinationV1Lease) {
  LeaseRecord record{"me", 15, "2024-05-01T10:00:00.000000Z", "2024-05-01T10:00:00.000000Z", 0};
  json lease = json::parse(newLease("saguard-system", "saguard.io", record));
  EXPECT_EQ(lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(lease["kind"], "Lease");
  EXPECT_EQ(lease["metadata"]["name"], "saguard.io");
  EXPECT_EQ(lease["metadata"]["namespace"], "saguard-system");
  EXPECT_FALSE(lease["metadata"].contains("resourceVersion"));
  auto back = parseLease(lease.dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->record, record);
}

TEST(LeaderMemoryLeaseApi, FollowsTheServersConcurrencyRules) {
  MemoryLeaseApi api;
  const milliseconds t{0};
  EXPECT_TRUE(api.get("ns", "l", t).is(ErrorKind::NotFound));
  LeaseRecord record{"a", 15, "", "", 0};
  auto created = api.create("ns", newLease("ns", "l", record), t);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(api.create("ns", newLease("ns", "l", record), t).is(ErrorKind::AlreadyExists));
  auto first = parseLease(*created).value();

  record.holderIdentity = "b";
  auto updated = api.update("ns", "l", withRecord(first.json, record).value(), t);
  ASSERT_TRUE(updated.ok());
  EXPECT_NE(parseLease(*updated)->resourceVersion, first.resourceVersion);
  // A second write from the same, now stale, version loses.
  record.holderIdentity = "c";
  EXPECT_TRUE(
      api.update("ns", "l", withRecord(first.json, record).value(), t).is(ErrorKind::Conflict));
  EXPECT_EQ(api.record("ns", "l")->holderIdentity, "b");
  EXPECT_TRUE(
      api.update("ns", "other", newLease("ns", "other", record), t).is(ErrorKind::NotFound));
  EXPECT_EQ(api.calls(MemoryLeaseApi::Op::Update), 3);

  api.failNext(MemoryLeaseApi::Op::Get, makeError(ErrorKind::Unavailable, "etcd"), 2);
  EXPECT_TRUE(api.get("ns", "l", t).is(ErrorKind::Unavailable));
  EXPECT_TRUE(api.get("ns", "l", t).is(ErrorKind::Unavailable));
  EXPECT_TRUE(api.get("ns", "l", t).ok());
}

TEST(LeaderIdentity, IsHostnameUnderscoreRandomSuffix) {
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  auto a = defaultIdentity();
  auto b = defaultIdentity();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  const std::string prefix = std::string(host) + "_";
  EXPECT_EQ(a->rfind(prefix, 0), 0u) << *a;
  EXPECT_EQ(a->size(), prefix.size() + 36) << *a;  // a UUID
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace saguard::leader
