// Answers to values: metav1.Status bodies to Errors (kind, message, causes,
// retry-after), Retry-After headers, and a List's metadata read without its items.
#include <gtest/gtest.h>

#include "kube/api_status.h"

namespace saguard::kube {
namespace {

const char* kServer = "https://127.0.0.1:6443";

TEST(ErrorFromResponse, NotFound) {
  auto e =
      errorFromResponse(404,
                        R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)J"
                        R"J("message":"serviceaccounts \"x\" not found","reason":"NotFound",)J"
                        R"J("details":{"name":"x","kind":"serviceaccounts"},"code":404})J",
                        "", kServer, "/api/v1/namespaces/a/serviceaccounts/x");
  EXPECT_EQ(e.kind, ErrorKind::NotFound);
  EXPECT_EQ(e.httpCode, 404);
  EXPECT_EQ(e.message, "serviceaccounts \"x\" not found");
  EXPECT_FALSE(e.retryAfter.has_value());
}

TEST(ErrorFromResponse, ConflictAndAlreadyExistsShare409) {
  auto conflict = errorFromResponse(
      409, R"J({"kind":"Status","reason":"Conflict","message":"modified","code":409})J", "",
      kServer, "/p");
  EXPECT_EQ(conflict.kind, ErrorKind::Conflict);
  auto exists = errorFromResponse(
      409, R"J({"kind":"Status","reason":"AlreadyExists","message":"already exists","code":409})J",
      "", kServer, "/p");
  EXPECT_EQ(exists.kind, ErrorKind::AlreadyExists);
}

TEST(ErrorFromResponse, ExpiredIsGone) {
  auto e = errorFromResponse(
      410,
      R"J({"kind":"Status","reason":"Expired","message":"too old resource version: 1 (200)","code":410})J",
      "", kServer, "/p");
  EXPECT_EQ(e.kind, ErrorKind::Gone);
}

TEST(ErrorFromResponse, InvalidCarriesCauses) {
  auto e = errorFromResponse(422, R"J({"kind":"Status","status":"Failure",
      "message":"ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value",
      "reason":"Invalid","details":{"name":"Bad_Name","kind":"ConfigMap","causes":[
        {"reason":"FieldValueInvalid","message":"Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain","field":"metadata.name"},
        {"reason":"FieldValueRequired","message":"Required value"},
        "junk"]},"code":422})J",
                             "", kServer, "/p");
  EXPECT_EQ(e.kind, ErrorKind::Invalid);
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(e.causes[0].field, "metadata.name");
  EXPECT_EQ(e.causes[0].message, "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain");
  EXPECT_EQ(e.causes[1].field, "");
  EXPECT_EQ(e.causes[1].message, "Required value");
}

TEST(ErrorFromResponse, UnauthorizedNamesTheServer) {
  auto e = errorFromResponse(
      401, R"J({"kind":"Status","message":"Unauthorized","reason":"Unauthorized","code":401})J", "",
      kServer, "/api/v1/namespaces");
  EXPECT_EQ(e.kind, ErrorKind::Unauthorized);
  EXPECT_NE(e.message.find(kServer), std::string::npos);
  EXPECT_NE(e.message.find("Unauthorized"), std::string::npos);
}

TEST(ErrorFromResponse, ForbiddenKeepsTheApiMessage) {
  auto e = errorFromResponse(
      403,
      R"J({"kind":"Status","message":"pods is forbidden: User \"system:serviceaccount:a:b\" cannot list resource \"pods\"","reason":"Forbidden","code":403})J",
      "", kServer, "/api/v1/pods");
  EXPECT_EQ(e.kind, ErrorKind::Forbidden);
  EXPECT_NE(e.message.find("cannot list resource"), std::string::npos);
}

TEST(ErrorFromResponse, RetryAfterFromHeaderThenDetails) {
  auto header = errorFromResponse(429, R"J({"kind":"Status","reason":"TooManyRequests","code":429,
      "details":{"retryAfterSeconds":9}})J",
                                  "2", kServer, "/p");
  EXPECT_EQ(header.kind, ErrorKind::TooManyRequests);
  EXPECT_EQ(header.retryAfter, std::chrono::milliseconds(2000));
  auto details =
      errorFromResponse(503, R"J({"kind":"Status","reason":"ServiceUnavailable","code":503,
      "details":{"retryAfterSeconds":7}})J",
                        "", kServer, "/p");
  EXPECT_EQ(details.kind, ErrorKind::Unavailable);
  EXPECT_EQ(details.retryAfter, std::chrono::milliseconds(7000));
}

TEST(ErrorFromResponse, NonStatusBodyGivesSnippetAndCodeKind) {
  std::string html = "<html>\r\n<body>Bad Gateway</body></html>" + std::string(500, 'x');
  auto e = errorFromResponse(502, html, "", kServer, "/api/v1/pods");
  EXPECT_EQ(e.kind, ErrorKind::Unavailable);
  EXPECT_NE(e.message.find("HTTP 502 from /api/v1/pods"), std::string::npos);
  EXPECT_NE(e.message.find("<html>  <body>Bad Gateway"), std::string::npos) << e.message;
  EXPECT_LT(e.message.size(), 300u);
  EXPECT_EQ(errorFromResponse(404, "", "", kServer, "/x").kind, ErrorKind::NotFound);
  EXPECT_EQ(errorFromResponse(504, "", "", kServer, "/x").kind, ErrorKind::Timeout);
  EXPECT_EQ(errorFromResponse(400, "{}", "", kServer, "/x").kind, ErrorKind::BadRequest);
}

TEST(ErrorFromStatus, WatchErrorEvent) {
  auto e = errorFromStatus(
      R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (99)","reason":"Expired","code":410})J");
  EXPECT_EQ(e.kind, ErrorKind::Gone);
  EXPECT_EQ(e.httpCode, 410);
  EXPECT_EQ(e.message, "too old resource version: 5 (99)");
  auto gone = errorFromStatus(R"J({"kind":"Status","code":410})J");
  EXPECT_EQ(gone.kind, ErrorKind::Gone);
  EXPECT_EQ(errorFromStatus(R"J({"kind":"Pod"})J").kind, ErrorKind::Internal);
  EXPECT_EQ(errorFromStatus("not json").kind, ErrorKind::Internal);
}

TEST(ParseRetryAfter, Seconds) {
  EXPECT_EQ(parseRetryAfter("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(parseRetryAfter(" 0 "), std::chrono::milliseconds(0));
  EXPECT_EQ(parseRetryAfter("999999999"), std::chrono::milliseconds(86400 * 1000LL));
  EXPECT_FALSE(parseRetryAfter("").has_value());
  EXPECT_FALSE(parseRetryAfter("-1").has_value());
  EXPECT_FALSE(parseRetryAfter("1.5").has_value());
  EXPECT_FALSE(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

TEST(PeekListMeta, ReadsMetadataBeforeItems) {
  auto meta = peekListMeta(
      R"J({"kind":"ServiceAccountList","apiVersion":"v1","metadata":{"resourceVersion":"812","continue":"eyJ2Ijo","remainingItemCount":3},"items":[{"metadata":{"name":"a","resourceVersion":"1"}}]})J");
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->resourceVersion, "812");
  EXPECT_EQ(meta->continueToken, "eyJ2Ijo");
  EXPECT_EQ(meta->remainingItemCount, 3);
}

TEST(PeekListMeta, StopsAtEndOfMetadata) {
  // Items after metadata are never parsed: garbage there is not noticed.
  auto meta = peekListMeta(R"J({"metadata":{"resourceVersion":"5"},"items":[{{{{ garbage)J");
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->resourceVersion, "5");
  EXPECT_TRUE(meta->continueToken.empty());
}

TEST(PeekListMeta, MetadataAfterItemsAndNestedMetadataIgnored) {
  auto meta = peekListMeta(
      R"J({"items":[{"metadata":{"resourceVersion":"1","continue":"no"}}],"metadata":{"resourceVersion":"9"}})J");
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->resourceVersion, "9");
  EXPECT_TRUE(meta->continueToken.empty());
  auto none = peekListMeta(R"J({"items":[]})J");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->resourceVersion.empty());
}

TEST(PeekListMeta, RejectsNonObjects) {
  EXPECT_FALSE(peekListMeta("").ok());
  EXPECT_FALSE(peekListMeta("[1,2]").ok());
  EXPECT_FALSE(peekListMeta("\"x\"").ok());
  EXPECT_FALSE(peekListMeta(R"J({"metadata":{"resourceVersion":)J").ok());
}

}  // namespace
}  // namespace saguard::kube
