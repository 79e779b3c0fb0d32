// parseExposition: the reader tests (and e2e tests) use to check /metrics.
#include <gtest/gtest.h>

#include <cmath>

#include "support/exposition.h"

namespace saguard::metrics {
namespace {

TEST(ExpositionTest, ReadsFamiliesSamplesAndLabels) {
  const auto e = parseExposition(
      "# HELP workqueue_depth Keys waiting.\n"
      "# TYPE workqueue_depth gauge\n"
      "workqueue_depth{name=\"a\"} 3\n"
      "workqueue_depth{name=\"b\",} 0 1700000000000\n"
      "# a plain comment\n"
      "\n"
      "# TYPE up counter\n"
      "up 1e-08\r\n"
      "h_bucket{le=\"+Inf\",x=\"q\\\"uote\\\\back\\nline\"} +Inf\n"
      "nan_metric NaN\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->declared("workqueue_depth"));
  EXPECT_TRUE(e->declared("up"));
  EXPECT_FALSE(e->declared("h"));
  EXPECT_EQ(e->types.at("workqueue_depth"), "gauge");
  EXPECT_EQ(e->helps.at("workqueue_depth"), "Keys waiting.");
  EXPECT_EQ(e->value("workqueue_depth", {{"name", "a"}}), 3.0);
  EXPECT_EQ(e->value("workqueue_depth", {{"name", "b"}}), 0.0);
  EXPECT_FALSE(e->value("workqueue_depth").has_value());
  EXPECT_EQ(e->value("up"), 1e-08);
  EXPECT_EQ(e->series("workqueue_depth").size(), 2u);
  const auto h = e->value("h_bucket", {{"le", "+Inf"}, {"x", "q\"uote\\back\nline"}});
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(std::isinf(*h));
  EXPECT_TRUE(std::isnan(e->value("nan_metric").value_or(0)));
}

TEST(ExpositionTest, RejectsMalformedLines) {
  for (const char* bad :
       {"{x=\"1\"} 1", "m{x=1} 1", "m{x=\"1} 1", "m abc", "m", "m{=\"1\"} 1", "# TYPE  \n"}) {
    const auto e = parseExposition(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.kind(), ErrorKind::Invalid);
    EXPECT_NE(e.error().message.find("line 1"), std::string::npos) << e.error().message;
  }
}

}  // namespace
}  // namespace saguard::metrics
