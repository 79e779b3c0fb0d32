#include <gtest/gtest.h>

#include "metrics/bind_address.h"

namespace saguard::metrics {
namespace {

BindAddress parsed(std::string_view text) {
  auto r = parseBindAddress(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok() || !r.value()) {
    ADD_FAILURE() << text << " did not yield an address";
    return {};
  }
  return **r;
}

std::string errorOf(std::string_view text) {
  auto r = parseBindAddress(text);
  EXPECT_FALSE(r.ok()) << text << " was accepted";
  if (r.ok()) return {};
  EXPECT_EQ(r.kind(), ErrorKind::Invalid);
  return r.error().message;
}

TEST(BindAddressTest, ZeroDisables) {
  auto r = parseBindAddress("0");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(BindAddressTest, PortOnlyListensEverywhere) {
  BindAddress a = parsed(":8080");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.toString(), ":8080");
}

TEST(BindAddressTest, HostAndPort) {
  BindAddress a = parsed("127.0.0.1:8081");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8081);
  EXPECT_EQ(a.toString(), "127.0.0.1:8081");
  EXPECT_EQ(parsed("0.0.0.0:65535").port, 65535);
}

TEST(BindAddressTest, PortZeroAsksForAFreePort) {
  EXPECT_EQ(parsed(":0").port, 0);
  EXPECT_EQ(parsed("127.0.0.1:0").port, 0);
}

TEST(BindAddressTest, LocalhostIsLoopback) {
  EXPECT_EQ(parsed("localhost:9000").host, "127.0.0.1");
}

TEST(BindAddressTest, ToStringRoundTrips) {
  for (const char* text : {":8080", "10.1.2.3:443", ":0"})
    EXPECT_EQ(parsed(parsed(text).toString()).toString(), text);
}

TEST(BindAddressTest, Errors) {
  EXPECT_NE(errorOf("").find("empty"), std::string::npos);
  EXPECT_NE(errorOf("8080").find("did you mean \":8080\""), std::string::npos);
  EXPECT_NE(errorOf("localhost").find("missing port"), std::string::npos);
  EXPECT_NE(errorOf("127.0.0.1:").find("missing port"), std::string::npos);
  EXPECT_NE(errorOf(":http").find("\"http\" is not a number"), std::string::npos);
  EXPECT_NE(errorOf(":80a").find("not a number"), std::string::npos);
  EXPECT_NE(errorOf(":-1").find("not a number"), std::string::npos);
  EXPECT_NE(errorOf(":65536").find("out of range"), std::string::npos);
  EXPECT_NE(errorOf(":99999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(errorOf("example.com:80").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(errorOf("300.1.1.1:80").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(errorOf("[::1]:8080").find("IPv6"), std::string::npos);
  EXPECT_NE(errorOf("::1:8080").find("IPv6"), std::string::npos);
  // Every message quotes the value and says what is expected.
  const std::string message = errorOf("nonsense");
  EXPECT_NE(message.find("\"nonsense\""), std::string::npos);
  EXPECT_NE(message.find("\":PORT\""), std::string::npos);
}

}  // namespace
}  // namespace saguard::metrics
