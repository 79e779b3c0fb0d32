// RestClient over a scripted Transport: request targets and headers, errors from
// Status bodies, throttling retries with an injected sleeper and randomness, the
// token file's rotation (every minute, and after a 401), the request observer, watch
// streaming and stopping, and the paging helper with its expired-continue fallback.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "kube/rest_client.h"

namespace saguard::kube {
namespace {

using std::chrono::milliseconds;

const std::string kServer = "https://10.1.2.3:6443";

// One scripted answer: an HTTP response (with, for stream(), body chunks) or an Error.
struct Scripted {
  Result<HttpResponse> response = HttpResponse{};
  std::vector<std::string> chunks;
};

Scripted answer(int code, std::string body = "{}", std::string retryAfter = "") {
  Scripted s;
  HttpResponse r;
  r.code = code;
  r.body = std::move(body);
  r.retryAfter = std::move(retryAfter);
  s.response = r;
  return s;
}

std::string status(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

class FakeTransport final : public Transport {
 public:
  std::deque<Scripted> script;
  std::vector<HttpRequest> requests;

  const std::string& server() const override { return kServer; }

  Result<HttpResponse> send(const HttpRequest& request, std::stop_token) override {
    requests.push_back(request);
    if (script.empty())
      return makeError(ErrorKind::Internal, "unexpected request " + request.target);
    Scripted next = std::move(script.front());
    script.pop_front();
    return next.response;
  }

  Result<HttpResponse> stream(const HttpRequest& request, const ChunkSink& sink,
                              std::stop_token stop) override {
    requests.push_back(request);
    if (script.empty())
      return makeError(ErrorKind::Internal, "unexpected request " + request.target);
    Scripted next = std::move(script.front());
    script.pop_front();
    if (next.response.ok() && next.response->code / 100 == 2) {
      for (const auto& chunk : next.chunks) {
        if (stop.stop_requested()) break;
        if (Status st = sink(chunk); !st) return st.error();
      }
    }
    return next.response;
  }
};

class RecordingSleeper final : public Sleeper {
 public:
  explicit RecordingSleeper(FakeClock& clock) : clock_(clock) {}
  std::vector<milliseconds> slept;
  bool sleepFor(milliseconds d, std::stop_token stop) override {
    slept.push_back(d);
    clock_.advance(d);
    return !stop.stop_requested();
  }

 private:
  FakeClock& clock_;
};

class RecordingObserver final : public RequestObserver {
 public:
  std::vector<RequestRecord> records;
  std::vector<std::string> methods;
  void onRequest(const RequestRecord& record) override {
    records.push_back(record);
    methods.emplace_back(record.method);
  }
};

struct RestClientTest : ::testing::Test {
  FakeClock clock;
  RecordingSleeper sleeper{clock};
  RecordingObserver observer;
  std::map<std::string, std::string> files;
  FakeTransport* transport = nullptr;
  std::unique_ptr<RestClient> client;

  void make(RestConfig config = {}, RetryPolicy retry = {}) {
    config.server = kServer;
    if (config.source.empty()) config.source = "kubeconfig /test";
    ClientOptions options;
    options.clock = &clock;
    options.sleeper = &sleeper;
    options.observer = &observer;
    options.random = [] { return 0.5; };
    options.retry = retry;
    options.files = [this](const std::string& path) -> Result<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return makeError(ErrorKind::NotFound, "No such file or directory");
      return it->second;
    };
    auto fake = std::make_unique<FakeTransport>();
    transport = fake.get();
    client = std::make_unique<RestClient>(config, std::move(fake), options);
  }
  void makeWithToken(const std::string& token) {
    RestConfig c;
    c.token = token;
    make(c);
  }
  void makeWithTokenFile() {
    files["/sa/token"] = "first-token\n";
    RestConfig c;
    c.tokenFile = "/sa/token";
    make(c);
  }
};

TEST_F(RestClientTest, GetBuildsTargetAndBearerHeader) {
  makeWithToken("abc");
  transport->script.push_back(answer(200, R"({"kind":"ServiceAccount"})"));
  auto body =
      client->get(resources::kServiceAccounts, "team-a", "default", {.resourceVersion = "0"});
  ASSERT_TRUE(body.ok()) << body.error().describe();
  EXPECT_EQ(*body, R"({"kind":"ServiceAccount"})");
  ASSERT_EQ(transport->requests.size(), 1u);
  const HttpRequest& r = transport->requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/namespaces/team-a/serviceaccounts/default?resourceVersion=0");
  EXPECT_EQ(r.authorization, "Bearer abc");
  EXPECT_EQ(r.accept, "application/json");
  EXPECT_EQ(r.timeout, milliseconds(30000));
  EXPECT_TRUE(r.body.empty());
}

TEST_F(RestClientTest, DiscoverGetsTheGroupVersionDocument) {
  makeWithToken("abc");
  transport->script.push_back(answer(200, R"({"kind":"APIResourceList"})"));
  auto body = client->discover("admissionregistration.k8s.io", "v1beta1");
  ASSERT_TRUE(body.ok()) << body.error().describe();
  ASSERT_EQ(transport->requests.size(), 1u);
  EXPECT_EQ(transport->requests[0].method, "GET");
  EXPECT_EQ(transport->requests[0].target, "/apis/admissionregistration.k8s.io/v1beta1");
  EXPECT_EQ(transport->requests[0].authorization, "Bearer abc");
  // No version: refused before anything is sent.
  EXPECT_TRUE(client->discover("openreports.io", "").is(ErrorKind::Invalid));
  EXPECT_EQ(transport->requests.size(), 1u);
}

TEST_F(RestClientTest, NoTokenNoAuthorizationHeader) {
  make();
  transport->script.push_back(answer(200));
  ASSERT_TRUE(client->get(resources::kNamespaces, "", "default").ok());
  EXPECT_EQ(transport->requests[0].authorization, "");
  EXPECT_EQ(transport->requests[0].target, "/api/v1/namespaces/default");
}

TEST_F(RestClientTest, PerRequestTimeout) {
  make();
  transport->script.push_back(answer(200));
  transport->script.push_back(answer(200));
  ASSERT_TRUE(client->get(resources::kPods, "a", "p", {.timeout = milliseconds(1500)}).ok());
  ASSERT_TRUE(client->list(resources::kPods, "a", {}, {.timeout = milliseconds(2500)}).ok());
  EXPECT_EQ(transport->requests[0].timeout, milliseconds(1500));
  EXPECT_EQ(transport->requests[1].timeout, milliseconds(2500));
}

TEST_F(RestClientTest, LocalValidationSendsNothing) {
  make();
  EXPECT_TRUE(client->get(resources::kPods, "ns", "").is(ErrorKind::Invalid));
  EXPECT_TRUE(client->get(resources::kPods, "", "p").is(ErrorKind::Invalid));
  EXPECT_TRUE(client->create(resources::kPods, "", "{}").is(ErrorKind::Invalid));
  EXPECT_TRUE(client->create(resources::kPods, "ns", "{}", {.subresource = "token"})
                  .is(ErrorKind::Invalid));
  EXPECT_TRUE(client->patch(resources::kPods, "ns", "p", PatchType::Merge, "{}", {.force = true})
                  .is(ErrorKind::Invalid));
  EXPECT_TRUE(
      client->patch(resources::kPods, "ns", "p", PatchType::Apply, "{}", {.fieldManager = ""})
          .is(ErrorKind::Invalid));
  EXPECT_TRUE(
      client->update(resources::kPods, "ns", "p", "{}", {.force = true}).is(ErrorKind::Invalid));
  EXPECT_TRUE(transport->requests.empty());
  EXPECT_TRUE(observer.records.empty());
}

TEST_F(RestClientTest, StatusBodyBecomesTypedError) {
  make();
  transport->script.push_back(
      answer(404, status(404, "NotFound", R"(serviceaccounts \"x\" not found)")));
  auto r = client->get(resources::kServiceAccounts, "a", "x");
  ASSERT_TRUE(r.is(ErrorKind::NotFound));
  EXPECT_EQ(r.error().httpCode, 404);
  EXPECT_EQ(r.error().message, R"(serviceaccounts "x" not found)");
  EXPECT_TRUE(sleeper.slept.empty());
}

TEST_F(RestClientTest, WritesUseMethodsPathsAndContentTypes) {
  make();
  for (int i = 0; i < 8; ++i)
    transport->script.push_back(answer(i == 0 ? 201 : 200, "{\"n\":" + std::to_string(i) + "}"));
  const Resource& cm = resources::kConfigMaps;
  ASSERT_TRUE(client->create(cm, "ns", R"({"metadata":{"name":"c"}})").ok());
  ASSERT_TRUE(client->update(cm, "ns", "c", "{}").ok());
  ASSERT_TRUE(client->updateStatus(resources::kServiceAccountPolicies, "", "p", "{}").ok());
  ASSERT_TRUE(client->patch(cm, "ns", "c", PatchType::Merge, R"({"data":{"a":"1"}})").ok());
  ASSERT_TRUE(client->patch(cm, "ns", "c", PatchType::StrategicMerge, "{}", {.dryRun = true}).ok());
  ASSERT_TRUE(client->patch(cm, "ns", "c", PatchType::Apply, "{}", {.force = true}).ok());
  ASSERT_TRUE(
      client->createSubresource(resources::kServiceAccounts, "ns", "sa", "token", "{}").ok());
  ASSERT_TRUE(client
                  ->patch(resources::kServiceAccountPolicies, "", "p", PatchType::Json, "[]",
                          {.fieldManager = "", .subresource = "status"})
                  .ok());

  const auto& q = transport->requests;
  ASSERT_EQ(q.size(), 8u);
  EXPECT_EQ(q[0].method, "POST");
  EXPECT_EQ(q[0].target, "/api/v1/namespaces/ns/configmaps?fieldManager=saguard");
  EXPECT_EQ(q[0].contentType, "application/json");
  EXPECT_EQ(q[0].body, R"({"metadata":{"name":"c"}})");
  EXPECT_EQ(q[1].method, "PUT");
  EXPECT_EQ(q[1].target, "/api/v1/namespaces/ns/configmaps/c?fieldManager=saguard");
  EXPECT_EQ(q[2].method, "PUT");
  EXPECT_EQ(q[2].target,
            "/apis/saguard.io/v1alpha1/serviceaccountpolicies/p/status?fieldManager=saguard");
  EXPECT_EQ(q[3].method, "PATCH");
  EXPECT_EQ(q[3].contentType, "application/merge-patch+json");
  EXPECT_EQ(q[3].target, "/api/v1/namespaces/ns/configmaps/c?fieldManager=saguard");
  EXPECT_EQ(q[4].contentType, "application/strategic-merge-patch+json");
  EXPECT_EQ(q[4].target, "/api/v1/namespaces/ns/configmaps/c?fieldManager=saguard&dryRun=All");
  EXPECT_EQ(q[5].contentType, "application/apply-patch+yaml");
  EXPECT_EQ(q[5].target, "/api/v1/namespaces/ns/configmaps/c?force=true&fieldManager=saguard");
  EXPECT_EQ(q[6].method, "POST");
  EXPECT_EQ(q[6].target, "/api/v1/namespaces/ns/serviceaccounts/sa/token?fieldManager=saguard");
  EXPECT_EQ(q[7].contentType, "application/json-patch+json");
  EXPECT_EQ(q[7].target, "/apis/saguard.io/v1alpha1/serviceaccountpolicies/p/status");
}

TEST_F(RestClientTest, DeleteSendsOptionsOnlyWhenSet) {
  make();
  transport->script.push_back(answer(200));
  transport->script.push_back(answer(200));
  ASSERT_TRUE(client->remove(resources::kServiceAccounts, "ns", "sa").ok());
  ASSERT_TRUE(client
                  ->remove(resources::kServiceAccounts, "ns", "sa",
                           {.propagationPolicy = "Background",
                            .preconditionResourceVersion = "42",
                            .preconditionUid = "u-1",
                            .gracePeriodSeconds = 0})
                  .ok());
  const auto& q = transport->requests;
  EXPECT_EQ(q[0].method, "DELETE");
  EXPECT_EQ(q[0].target, "/api/v1/namespaces/ns/serviceaccounts/sa");
  EXPECT_TRUE(q[0].body.empty());
  EXPECT_EQ(q[1].contentType, "application/json");
  EXPECT_EQ(
      q[1].body,
      R"({"apiVersion":"v1","gracePeriodSeconds":0,"kind":"DeleteOptions",)"
      R"("preconditions":{"resourceVersion":"42","uid":"u-1"},"propagationPolicy":"Background"})");
}

TEST_F(RestClientTest, ThrottledAnswersAreRetriedHonouringRetryAfter) {
  RetryPolicy retry;
  retry.initialBackoff = milliseconds(100);
  retry.jitter = 0.2;  // random is 0.5: +10%
  make({}, retry);
  transport->script.push_back(answer(429, status(429, "TooManyRequests", "slow down"), "2"));
  transport->script.push_back(answer(503, status(503, "ServiceUnavailable", "busy"), "1"));
  transport->script.push_back(answer(200, "ok"));
  auto r = client->list(resources::kPods, "");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, "ok");
  EXPECT_EQ(sleeper.slept, (std::vector<milliseconds>{milliseconds(2200), milliseconds(1100)}));
  ASSERT_EQ(observer.records.size(), 3u);
  EXPECT_EQ(observer.records[0].httpCode, 429);
  EXPECT_EQ(observer.records[1].httpCode, 503);
  EXPECT_EQ(observer.records[2].httpCode, 200);
}

TEST_F(RestClientTest, RetriesAreBounded) {
  make();
  for (int i = 0; i < 4; ++i)
    transport->script.push_back(answer(429, status(429, "TooManyRequests", "no"), "1"));
  auto r = client->list(resources::kPods, "");
  ASSERT_TRUE(r.is(ErrorKind::TooManyRequests));
  EXPECT_EQ(r.error().retryAfter, milliseconds(1000));
  EXPECT_EQ(sleeper.slept.size(), 3u);
  EXPECT_EQ(transport->requests.size(), 4u);
}

TEST_F(RestClientTest, NoRetryWithoutRetryAfter) {
  make();
  transport->script.push_back(answer(503, status(503, "ServiceUnavailable", "down")));
  transport->script.push_back(answer(500, "oops"));
  EXPECT_TRUE(client->list(resources::kPods, "").is(ErrorKind::Unavailable));
  EXPECT_TRUE(client->list(resources::kPods, "").is(ErrorKind::Unavailable));
  EXPECT_TRUE(sleeper.slept.empty());
  EXPECT_EQ(transport->requests.size(), 2u);
}

TEST_F(RestClientTest, TransportErrorsGoToCallerAndObserver) {
  make();
  Scripted broken;
  broken.response =
      makeError(ErrorKind::Transport, "TLS handshake with https://10.1.2.3:6443 failed: x");
  transport->script.push_back(broken);
  auto r = client->get(resources::kPods, "a", "b");
  ASSERT_TRUE(r.is(ErrorKind::Transport));
  ASSERT_EQ(observer.records.size(), 1u);
  EXPECT_EQ(observer.records[0].httpCode, 0);
  EXPECT_EQ(observer.records[0].failure, ErrorKind::Transport);
  EXPECT_EQ(observer.methods[0], "GET");
}

TEST_F(RestClientTest, ObserverSeesDurationsFromTheClock) {
  make();
  class SlowTransport final : public Transport {
   public:
    explicit SlowTransport(FakeClock& c) : clock(c) {}
    FakeClock& clock;
    const std::string& server() const override { return kServer; }
    Result<HttpResponse> send(const HttpRequest&, std::stop_token) override {
      clock.advance(milliseconds(250));
      return HttpResponse{201, "{}", ""};
    }
    Result<HttpResponse> stream(const HttpRequest&, const ChunkSink&, std::stop_token) override {
      return HttpResponse{200, "", ""};
    }
  };
  ClientOptions options;
  options.clock = &clock;
  options.observer = &observer;
  RestClient slow(RestConfig{.server = kServer}, std::make_unique<SlowTransport>(clock), options);
  ASSERT_TRUE(slow.create(resources::kConfigMaps, "ns", "{}").ok());
  ASSERT_EQ(observer.records.size(), 1u);
  EXPECT_EQ(observer.methods[0], "POST");
  EXPECT_EQ(observer.records[0].httpCode, 201);
  EXPECT_EQ(observer.records[0].duration, std::chrono::nanoseconds(milliseconds(250)));
}

TEST_F(RestClientTest, UnauthorizedNamesServerAndCredentialsNotToken) {
  makeWithToken("sekret-token-value");
  transport->script.push_back(answer(401, status(401, "Unauthorized", "Unauthorized")));
  auto r = client->list(resources::kNamespaces, "");
  ASSERT_TRUE(r.is(ErrorKind::Unauthorized));
  EXPECT_NE(r.error().message.find(kServer), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("static bearer token"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("kubeconfig /test"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("sekret"), std::string::npos);
  EXPECT_EQ(transport->requests.size(), 1u);  // a static token cannot rotate: no retry
}

TEST_F(RestClientTest, TokenFileReReadAfterUnauthorizedThenRetriedOnce) {
  makeWithTokenFile();
  transport->script.push_back(answer(200));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  EXPECT_EQ(transport->requests.back().authorization, "Bearer first-token");

  files["/sa/token"] = "second-token";
  transport->script.push_back(answer(401, status(401, "Unauthorized", "Unauthorized")));
  transport->script.push_back(answer(200, "fresh"));
  auto r = client->get(resources::kPods, "a", "b");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, "fresh");
  ASSERT_EQ(transport->requests.size(), 3u);
  EXPECT_EQ(transport->requests[1].authorization, "Bearer first-token");
  EXPECT_EQ(transport->requests[2].authorization, "Bearer second-token");
  EXPECT_TRUE(sleeper.slept.empty());
}

TEST_F(RestClientTest, UnchangedTokenIsNotRetriedAndSecond401IsFinal) {
  makeWithTokenFile();
  transport->script.push_back(answer(401, status(401, "Unauthorized", "Unauthorized")));
  auto same = client->get(resources::kPods, "a", "b");
  ASSERT_TRUE(same.is(ErrorKind::Unauthorized));
  EXPECT_EQ(transport->requests.size(), 1u);
  EXPECT_NE(same.error().message.find("bearer token from file /sa/token"), std::string::npos);

  files["/sa/token"] = "rotated";
  transport->script.push_back(answer(401, status(401, "Unauthorized", "Unauthorized")));
  transport->script.push_back(answer(401, status(401, "Unauthorized", "Unauthorized")));
  files["/sa/token"] = "rotated";
  auto twice = client->get(resources::kPods, "a", "b");
  EXPECT_TRUE(twice.is(ErrorKind::Unauthorized));
  EXPECT_EQ(transport->requests.size(), 3u);  // one retry, not more
}

TEST_F(RestClientTest, TokenFileReReadEveryMinute) {
  makeWithTokenFile();
  for (int i = 0; i < 3; ++i) transport->script.push_back(answer(200));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  files["/sa/token"] = "rotated-by-kubelet";
  clock.advance(std::chrono::seconds(59));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  EXPECT_EQ(transport->requests[0].authorization, "Bearer first-token");
  EXPECT_EQ(transport->requests[1].authorization, "Bearer first-token");
  EXPECT_EQ(transport->requests[2].authorization, "Bearer rotated-by-kubelet");
}

TEST_F(RestClientTest, VanishedTokenFileKeepsLastGoodToken) {
  makeWithTokenFile();
  transport->script.push_back(answer(200));
  transport->script.push_back(answer(200));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  files.erase("/sa/token");
  clock.advance(std::chrono::minutes(2));
  ASSERT_TRUE(client->get(resources::kPods, "a", "b").ok());
  EXPECT_EQ(transport->requests[1].authorization, "Bearer first-token");
}

TEST_F(RestClientTest, UnreadableTokenFileFromTheStartIsUnauthorized) {
  RestConfig c;
  c.tokenFile = "/nowhere/token";
  make(c);
  auto r = client->get(resources::kPods, "a", "b");
  ASSERT_TRUE(r.is(ErrorKind::Unauthorized));
  EXPECT_NE(r.error().message.find("/nowhere/token"), std::string::npos);
  EXPECT_TRUE(transport->requests.empty());
}

// ---- watch -----------------------------------------------------------------------

TEST_F(RestClientTest, WatchStreamsChunksAsTheyCome) {
  make();
  Scripted s = answer(200, "");
  s.chunks = {"{\"type\":\"ADD", "ED\",\"object\":{}}\n{\"type\":", "\"DELETED\",\"object\":{}}\n"};
  transport->script.push_back(s);
  std::string received;
  int calls = 0;
  Status st =
      client->watch(resources::kPods, "ns",
                    {.resourceVersion = "17", .allowWatchBookmarks = true, .timeoutSeconds = 60},
                    [&](std::string_view chunk) {
                      received += chunk;
                      ++calls;
                      return Status();
                    });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(received, "{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":\"DELETED\",\"object\":{}}\n");
  const HttpRequest& r = transport->requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target,
            "/api/v1/namespaces/ns/"
            "pods?watch=true&resourceVersion=17&allowWatchBookmarks=true&timeoutSeconds=60");
  EXPECT_EQ(r.timeout, milliseconds(120000));  // 60 s + 30 s margin, up to the minute
}

TEST_F(RestClientTest, WatchWithoutTimeoutUsesIdleTimeout) {
  make();
  transport->script.push_back(answer(200, ""));
  ASSERT_TRUE(
      client->watch(resources::kPods, "", {}, [](std::string_view) { return Status(); }).ok());
  EXPECT_EQ(transport->requests[0].timeout, milliseconds(std::chrono::minutes(5)));
}

TEST_F(RestClientTest, WatchHttpErrorIsReturned) {
  make();
  transport->script.push_back(
      answer(410, status(410, "Expired", "too old resource version: 1 (50)")));
  int calls = 0;
  Status st = client->watch(resources::kPods, "", {.resourceVersion = "1"}, [&](std::string_view) {
    ++calls;
    return Status();
  });
  ASSERT_TRUE(st.is(ErrorKind::Gone));
  EXPECT_EQ(calls, 0);
}

TEST_F(RestClientTest, WatchSinkErrorStopsAndIsReturned) {
  make();
  Scripted s = answer(200, "");
  s.chunks = {"a", "b", "c"};
  transport->script.push_back(s);
  int calls = 0;
  Status st = client->watch(resources::kPods, "", {}, [&](std::string_view chunk) -> Status {
    ++calls;
    if (chunk == "b") return makeError(ErrorKind::Gone, "ERROR event with 410");
    return {};
  });
  ASSERT_TRUE(st.is(ErrorKind::Gone));
  EXPECT_EQ(st.error().message, "ERROR event with 410");
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(observer.records.size(), 1u);
  EXPECT_EQ(observer.records[0].httpCode, 200);  // the stream itself was fine
  EXPECT_FALSE(observer.records[0].failure.has_value());
}

TEST_F(RestClientTest, StoppedWatchReturnsOk) {
  make();
  Scripted s = answer(200, "");
  s.chunks = {"a", "b", "c"};
  transport->script.push_back(s);
  std::stop_source stop;
  int calls = 0;
  Status st = client->watch(
      resources::kPods, "", {},
      [&](std::string_view) {
        if (++calls == 2) stop.request_stop();
        return Status();
      },
      stop.get_token());
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(calls, 2);
}

// ---- paging ----------------------------------------------------------------------

std::string listPage(const std::string& rv, const std::string& cont, const std::string& items) {
  return R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":")" + rv +
         R"(","continue":")" + cont + R"("},"items":[)" + items + "]}";
}

TEST_F(RestClientTest, ListPagesFollowsContinueTokens) {
  make();
  transport->script.push_back(answer(200, listPage("100", "tok1", "1,2")));
  transport->script.push_back(answer(200, listPage("100", "tok2", "3,4")));
  transport->script.push_back(answer(200, listPage("100", "", "5")));
  std::vector<int> indexes;
  std::vector<std::string> tokens;
  Status st =
      listPages(*client, resources::kConfigMaps, "ns",
                {.labelSelector = "a=b", .resourceVersion = "0", .limit = 2}, [&](const Page& p) {
                  indexes.push_back(p.index);
                  tokens.push_back(p.meta.continueToken);
                  EXPECT_EQ(p.meta.resourceVersion, "100");
                  return Status();
                });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(indexes, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(tokens, (std::vector<std::string>{"tok1", "tok2", ""}));
  const auto& q = transport->requests;
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].target,
            "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db&resourceVersion=0&limit=2");
  EXPECT_EQ(q[1].target,
            "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db&limit=2&continue=tok1");
  EXPECT_EQ(q[2].target,
            "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db&limit=2&continue=tok2");
}

TEST_F(RestClientTest, ExpiredContinueFallsBackToFullList) {
  make();
  transport->script.push_back(answer(200, listPage("100", "tok1", "1,2")));
  transport->script.push_back(
      answer(410, status(410, "Expired", "The provided continue parameter is too old")));
  transport->script.push_back(answer(200, listPage("250", "", "1,2,3,4,5")));
  std::vector<std::string> kept;  // what a caller accumulates, honouring index 0
  std::vector<int> indexes;
  Status st = listPages(*client, resources::kConfigMaps, "ns", {.limit = 2}, [&](const Page& p) {
    if (p.index == 0) kept.clear();
    kept.emplace_back(p.body);
    indexes.push_back(p.index);
    return Status();
  });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(indexes, (std::vector<int>{0, 0}));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NE(kept[0].find("1,2,3,4,5"), std::string::npos);
  EXPECT_EQ(transport->requests[2].target, "/api/v1/namespaces/ns/configmaps");
}

TEST_F(RestClientTest, ListPagesStopsOnSinkErrorAndPassesOtherErrors) {
  make();
  transport->script.push_back(answer(200, listPage("1", "more", "1")));
  Status st = listPages(
      *client, resources::kConfigMaps, "", {.limit = 1},
      [](const Page&) -> Status { return makeError(ErrorKind::Internal, "decode failed"); });
  EXPECT_TRUE(st.is(ErrorKind::Internal));
  EXPECT_EQ(transport->requests.size(), 1u);

  transport->script.push_back(answer(403, status(403, "Forbidden", "configmaps is forbidden")));
  Status denied =
      listPages(*client, resources::kConfigMaps, "", {}, [](const Page&) { return Status(); });
  EXPECT_TRUE(denied.is(ErrorKind::Forbidden));

  // A first page that is Gone (no continue token in play) is not papered over.
  transport->script.push_back(answer(410, status(410, "Expired", "too old")));
  Status gone = listPages(*client, resources::kConfigMaps, "",
                          {.resourceVersion = "5", .resourceVersionMatch = "Exact"},
                          [](const Page&) { return Status(); });
  EXPECT_TRUE(gone.is(ErrorKind::Gone));
}

TEST_F(RestClientTest, ListPagesRejectsMalformedList) {
  make();
  transport->script.push_back(answer(200, "<html>"));
  Status st =
      listPages(*client, resources::kConfigMaps, "", {}, [](const Page&) { return Status(); });
  EXPECT_TRUE(st.is(ErrorKind::Internal));
}

}  // namespace
}  // namespace saguard::kube
