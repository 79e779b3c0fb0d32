// Small builders of Kubernetes API JSON for scripting a ScriptedClient: objects, list
// pages, watch lines. Header-only; for tests.
//
//   client.pushList(listJson("ServiceAccountList", "10", {accountJson("ns", "a", "5")}));
//   client.pushWatch({.chunks = {eventLine("ADDED", accountJson("ns", "b", "11")),
//   bookmarkLine("15")}});
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace saguard::cache::testing {

inline std::string accountJson(
    const std::string& ns, const std::string& name, const std::string& resourceVersion,
    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  std::string json = R"({"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":")" + name +
                     R"(","namespace":")" + ns + R"(","uid":"uid-)" + ns + "-" + name +
                     R"(","resourceVersion":")" + resourceVersion + R"(")";
  if (!labels.empty()) {
    json += R"(,"labels":{)";
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) json += ',';
      json += '"' + labels[i].first + R"(":")" + labels[i].second + '"';
    }
    json += '}';
  }
  json += "}}";
  return json;
}

inline std::string podJson(const std::string& ns, const std::string& name,
                           const std::string& resourceVersion, const std::string& account) {
  return R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + name + R"(","namespace":")" +
         ns + R"(","uid":"uid-)" + name + R"(","resourceVersion":")" + resourceVersion +
         R"(","creationTimestamp":"2024-05-01T10:00:00Z"},"spec":{"serviceAccountName":")" +
         account +
         R"(","volumes":[{"name":"kube-api-access-x","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}],)"
         R"("containers":[{"name":"c","image":"busybox"}]}})";
}

inline std::string listJson(const std::string& kind, const std::string& resourceVersion,
                            const std::vector<std::string>& items,
                            const std::string& continueToken = "") {
  std::string json = R"({"kind":")" + kind +
                     R"(","apiVersion":"v1","metadata":{"resourceVersion":")" + resourceVersion +
                     '"';
  if (!continueToken.empty()) json += R"(,"continue":")" + continueToken + '"';
  json += R"(},"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ',';
    json += items[i];
  }
  json += "]}";
  return json;
}

// One watch line, newline included.
inline std::string eventLine(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

inline std::string bookmarkLine(const std::string& resourceVersion,
                                const std::string& kind = "ServiceAccount") {
  return eventLine("BOOKMARK", R"({"kind":")" + kind +
                                   R"(","apiVersion":"v1","metadata":{"resourceVersion":")" +
                                   resourceVersion + R"(","creationTimestamp":null}})");
}

// The bookmark that ends a streaming list's initial events (KEP-3157), as 1.34 sends it.
inline std::string initialEventsEndLine(const std::string& resourceVersion,
                                        const std::string& kind = "ServiceAccount") {
  return eventLine("BOOKMARK", R"({"kind":")" + kind +
                                   R"(","apiVersion":"v1","metadata":{"resourceVersion":")" +
                                   resourceVersion +
                                   R"(","annotations":{"k8s.io/initial-events-end":"true"}}})");
}

// The ERROR event the API server sends for a resourceVersion that is too old.
inline std::string goneLine(const std::string& message = "too old resource version: 5 (20)") {
  return eventLine(
      "ERROR",
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
          message + R"(","reason":"Expired","code":410})");
}

inline std::string statusErrorLine(int code, const std::string& reason,
                                   const std::string& message) {
  return eventLine(
      "ERROR",
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
          message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}");
}

}  // namespace saguard::cache::testing
