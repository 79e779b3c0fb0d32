#include <gtest/gtest.h>

#include "codec/rfc3339.h"

namespace saguard::codec {
namespace {

TEST(Rfc3339, KubernetesFormat) {
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseRfc3339("2024-05-01T10:00:00Z"), 1714557600);
  EXPECT_EQ(parseRfc3339("2000-01-01T00:00:00Z"), 946684800);
  EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59Z"), -1);
}

TEST(Rfc3339, LeapDayOnlyInLeapYears) {
  EXPECT_EQ(parseRfc3339("2024-02-29T23:59:59Z"), 1709251199);
  EXPECT_EQ(parseRfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parseRfc3339("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_TRUE(parseRfc3339("2000-02-29T00:00:00Z").has_value());
}

TEST(Rfc3339, FractionsAreDroppedAndOffsetsApplied) {
  EXPECT_EQ(parseRfc3339("2024-05-01T10:00:00.999999999Z"), 1714557600);
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00+02:00"), 1714557600);
  EXPECT_EQ(parseRfc3339("2024-05-01T05:30:00-04:30"), 1714557600);
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00.5+02:00"), 1714557600);
  EXPECT_EQ(parseRfc3339("2024-05-01t10:00:00z"), 1714557600);
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
  for (const char* bad : {"",
                          "2024-05-01",
                          "2024-05-01T10:00:00",
                          "2024-05-01 10:00:00Z",
                          "2024-5-01T10:00:00Z",
                          "2024-13-01T10:00:00Z",
                          "2024-00-01T10:00:00Z",
                          "2024-04-31T10:00:00Z",
                          "2024-05-01T24:00:00Z",
                          "2024-05-01T10:60:00Z",
                          "2024-05-01T10:00:61Z",
                          "2024-05-01T10:00:00.Z",
                          "2024-05-01T10:00:00+0200",
                          "2024-05-01T10:00:00+02",
                          "2024-05-01T10:00:00+24:00",
                          "2024-05-01T10:00:00Zjunk",
                          "2024-05-01T10:00:00ZZ",
                          "abcd-05-01T10:00:00Z",
                          "2024-05-01T10:00:00+02:00 ",
                          "null"}) {
    EXPECT_EQ(parseRfc3339(bad), std::nullopt) << bad;
  }
}

TEST(Rfc3339, FormatsWhatItParses) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(1765061408), "2025-12-06T22:50:08Z");
  for (std::int64_t t = -86400 * 3; t < std::int64_t{4102444800}; t += 7919 * 3607) {
    EXPECT_EQ(parseRfc3339(formatRfc3339(t)), t) << formatRfc3339(t);
  }
}

}  // namespace
}  // namespace saguard::codec
