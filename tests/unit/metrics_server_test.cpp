// The /metrics and /healthz + /readyz servers, on 127.0.0.1 port 0, fetched over a
// real socket with a minimal HTTP/1.1 client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "metrics/server.h"
#include "support/exposition.h"

namespace saguard::metrics {
namespace {

using namespace std::chrono_literals;

// A connected socket to 127.0.0.1:port that closes itself; reads time out after 10 s so
// a server that never answers fails the test instead of hanging it.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Everything until the server closes. `closed` is false when the read timed out.
  std::string readAll(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (closed != nullptr) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

struct Answer {
  int status = 0;
  std::string headers;  // status line and headers
  std::string body;
};

Answer parseAnswer(const std::string& raw) {
  Answer a;
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return a;
  a.status = std::stoi(raw.substr(9, 3));
  a.headers = raw.substr(0, end + 2);
  a.body = raw.substr(end + 4);
  return a;
}

Answer request(std::uint16_t port, const std::string& method, const std::string& target) {
  Connection c(port);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(
      c.send(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  return parseAnswer(c.readAll());
}

Answer get(std::uint16_t port, const std::string& target) {
  return request(port, "GET", target);
}

BindAddress loopbackAnyPort() {
  return BindAddress{"127.0.0.1", 0};
}

// --- /metrics -------------------------------------------------------------------------

TEST(MetricsServerTest, ServesEveryMetricZeroedBeforeAnyObservation) {
  Metrics metrics;
  metrics.registerController("serviceaccountpolicy", 2);
  metrics.registerQueue("serviceaccountpolicy");
  metrics.registerRestHost("127.0.0.1:6443");
  metrics.registerLeaderElection("saguard-leader");
  metrics.registerEvent("AutomountDisabled", "Normal");
  metrics.registerCacheKind("serviceaccounts");
  auto server = MetricsServer::start(metrics, loopbackAnyPort());
  ASSERT_TRUE(server.ok()) << server.error().message;
  const std::uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);

  const Answer a = get(port, "/metrics");
  ASSERT_EQ(a.status, 200) << a.headers;
  EXPECT_NE(a.headers.find("text/plain"), std::string::npos) << a.headers;
  auto scraped = parseExposition(a.body);
  ASSERT_TRUE(scraped.ok()) << scraped.error().message;
  const Exposition& e = *scraped;

  for (const char* name : {"controller_runtime_reconcile_total",
                           "controller_runtime_reconcile_errors_total",
                           "controller_runtime_reconcile_time_seconds",
                           "controller_runtime_active_workers",
                           "controller_runtime_max_concurrent_reconciles",
                           "workqueue_depth",
                           "workqueue_adds_total",
                           "workqueue_retries_total",
                           "workqueue_queue_duration_seconds",
                           "workqueue_work_duration_seconds",
                           "workqueue_unfinished_work_seconds",
                           "workqueue_longest_running_processor_seconds",
                           "rest_client_requests_total",
                           "rest_client_request_duration_seconds",
                           "leader_election_master_status",
                           "saguard_policy_selected_accounts",
                           "saguard_policy_compliant_accounts",
                           "saguard_policy_pods_with_token",
                           "saguard_policy_risky_bindings",
                           "saguard_policy_declared_by_owner_accounts",
                           "saguard_patches_total",
                           "saguard_events_total",
                           "saguard_cache_objects"}) {
    EXPECT_TRUE(e.declared(name)) << name << " missing from /metrics";
  }
  const LabelSet c{{"controller", "serviceaccountpolicy"}};
  for (const char* result : {"success", "error", "requeue", "requeue_after"}) {
    EXPECT_EQ(e.value("controller_runtime_reconcile_total",
                      {{"controller", "serviceaccountpolicy"}, {"result", result}}),
              0.0)
        << result;
  }
  EXPECT_EQ(e.value("controller_runtime_reconcile_errors_total", c), 0.0);
  EXPECT_EQ(e.value("controller_runtime_reconcile_time_seconds_count", c), 0.0);
  EXPECT_EQ(e.value("controller_runtime_active_workers", c), 0.0);
  EXPECT_EQ(e.value("controller_runtime_max_concurrent_reconciles", c), 2.0);
  const LabelSet q{{"name", "serviceaccountpolicy"}};
  for (const char* name :
       {"workqueue_depth", "workqueue_adds_total", "workqueue_retries_total",
        "workqueue_queue_duration_seconds_count", "workqueue_work_duration_seconds_count",
        "workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds"}) {
    EXPECT_EQ(e.value(name, q), 0.0) << name;
  }
  EXPECT_EQ(e.value("rest_client_request_duration_seconds_count",
                    {{"verb", "GET"}, {"host", "127.0.0.1:6443"}}),
            0.0);
  EXPECT_EQ(e.value("leader_election_master_status", {{"name", "saguard-leader"}}), 0.0);
  for (const char* result : {"success", "conflict", "error"}) {
    EXPECT_EQ(e.value("saguard_patches_total", {{"result", result}}), 0.0) << result;
  }
  EXPECT_EQ(e.value("saguard_events_total", {{"reason", "AutomountDisabled"}, {"type", "Normal"}}),
            0.0);
  EXPECT_EQ(e.value("saguard_cache_objects", {{"kind", "serviceaccounts"}}), 0.0);
}

TEST(MetricsServerTest, ObservationsShowInTheNextScrapeAndHooksRun) {
  Metrics metrics;
  int hookRuns = 0;
  ScrapeHook hook = metrics.onScrape([&] { metrics.setCacheObjects("pods", ++hookRuns * 10); });
  auto server = MetricsServer::start(metrics, loopbackAnyPort());
  ASSERT_TRUE(server.ok()) << server.error().message;

  metrics.setPolicyGauges("default-accounts-no-token",
                          {.selected = 5, .compliant = 4, .podsWithToken = 2});
  metrics.countPatch(PatchResult::Success);
  metrics.observeRequest("GET", "200", "h:1", 1ms);
  auto e = parseExposition(get((*server)->port(), "/metrics").body);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value("saguard_policy_selected_accounts", {{"policy", "default-accounts-no-token"}}),
            5.0);
  EXPECT_EQ(e->value("saguard_policy_pods_with_token", {{"policy", "default-accounts-no-token"}}),
            2.0);
  EXPECT_EQ(e->value("saguard_patches_total", {{"result", "success"}}), 1.0);
  EXPECT_EQ(
      e->value("rest_client_requests_total", {{"code", "200"}, {"method", "GET"}, {"host", "h:1"}}),
      1.0);
  EXPECT_EQ(hookRuns, 1);
  EXPECT_EQ(e->value("saguard_cache_objects", {{"kind", "pods"}}), 10.0);

  metrics.removePolicy("default-accounts-no-token");
  e = parseExposition(get((*server)->port(), "/metrics").body);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(
      e->value("saguard_policy_selected_accounts", {{"policy", "default-accounts-no-token"}})
          .has_value());
  EXPECT_EQ(hookRuns, 2);
}

TEST(MetricsServerTest, ConcurrentScrapes) {
  Metrics metrics;
  metrics.registerQueue("q");
  auto server = MetricsServer::start(metrics, loopbackAnyPort());
  ASSERT_TRUE(server.ok());
  const std::uint16_t port = (*server)->port();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const Answer a = get(port, "/metrics");
        auto e = parseExposition(a.body);
        if (a.status == 200 && e.ok() && e->value("workqueue_depth", {{"name", "q"}}) == 0.0)
          ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good, 40);
}

TEST(MetricsServerTest, ABusyPortIsAnError) {
  Metrics metrics;
  auto first = MetricsServer::start(metrics, loopbackAnyPort());
  ASSERT_TRUE(first.ok());
  auto second = MetricsServer::start(metrics, BindAddress{"127.0.0.1", (*first)->port()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.kind(), ErrorKind::Unavailable);
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string((*first)->port())),
            std::string::npos)
      << second.error().message;
}

TEST(MetricsServerTest, BadOptionsAreInvalid) {
  Metrics metrics;
  HealthChecks checks;
  ServerOptions noThreads;
  noThreads.threads = 0;
  ServerOptions noTimeout;
  noTimeout.requestTimeout = 0ms;
  ServerOptions tiny;
  tiny.maxRequestBytes = 10;
  for (const ServerOptions& options : {noThreads, noTimeout, tiny}) {
    auto m = MetricsServer::start(metrics, loopbackAnyPort(), options);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.kind(), ErrorKind::Invalid);
    EXPECT_NE(m.error().message.find("ServerOptions."), std::string::npos);
    auto h = HealthServer::start(checks, loopbackAnyPort(), options);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.kind(), ErrorKind::Invalid);
  }
}

// --- /healthz, /readyz ------------------------------------------------------------------

TEST(HealthServerTest, ReadyzFailsBeforeSyncAndPassesAfter) {
  HealthChecks checks;
  std::atomic<bool> synced{false};
  ASSERT_TRUE(checks
                  .addReadyCheck("informers-synced",
                                 [&]() -> Status {
                                   return synced ? Status::Ok()
                                                 : makeError(ErrorKind::Unavailable,
                                                             "pods not synced");
                                 })
                  .ok());
  ASSERT_TRUE(checks.addHealthCheck("ping", [] { return Status::Ok(); }).ok());
  auto server = HealthServer::start(checks, loopbackAnyPort());
  ASSERT_TRUE(server.ok()) << server.error().message;
  const std::uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);

  Answer a = get(port, "/readyz");
  EXPECT_EQ(a.status, 500);
  EXPECT_NE(a.body.find("[-]informers-synced failed"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("readyz check failed"), std::string::npos) << a.body;
  EXPECT_EQ(a.body.find("pods not synced"), std::string::npos);

  a = get(port, "/healthz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "ok");

  synced = true;
  a = get(port, "/readyz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "ok");
  EXPECT_NE(a.headers.find("Content-Length: 2\r\n"), std::string::npos) << a.headers;

  a = get(port, "/readyz?verbose");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "[+]informers-synced ok\nreadyz check passed\n");

  a = get(port, "/readyz/informers-synced");
  EXPECT_EQ(a.status, 200);
}

TEST(HealthServerTest, MethodsPathsAndHead) {
  HealthChecks checks;
  auto server = HealthServer::start(checks, loopbackAnyPort());
  ASSERT_TRUE(server.ok());
  const std::uint16_t port = (*server)->port();

  Answer a = request(port, "HEAD", "/healthz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "");
  EXPECT_NE(a.headers.find("Content-Length: 2\r\n"), std::string::npos) << a.headers;

  a = request(port, "POST", "/readyz");
  EXPECT_EQ(a.status, 405);
  EXPECT_NE(a.headers.find("Allow: GET, HEAD"), std::string::npos) << a.headers;

  a = get(port, "/metrics");
  EXPECT_EQ(a.status, 404);
  a = get(port, "/readyz/nothing-by-that-name");
  EXPECT_EQ(a.status, 404);
}

TEST(HealthServerTest, OversizedRequestsAreRefused) {
  HealthChecks checks;
  ServerOptions options;
  options.maxRequestBytes = 4096;
  auto server = HealthServer::start(checks, loopbackAnyPort(), options);
  ASSERT_TRUE(server.ok());
  Connection c((*server)->port());
  ASSERT_TRUE(c.connected());
  // Headers far beyond the limit. The server may close before reading them all, so a
  // failed send is fine; what matters is that no 200 comes back and the socket closes.
  (void)c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') +
               "\r\n\r\n");
  bool closed = false;
  const Answer a = parseAnswer(c.readAll(&closed));
  EXPECT_NE(a.status, 200);
  EXPECT_TRUE(closed);
  // The server still serves others.
  EXPECT_EQ(get((*server)->port(), "/healthz").status, 200);
}

TEST(HealthServerTest, ASilentClientIsDropped) {
  HealthChecks checks;
  ServerOptions options;
  options.threads = 1;
  options.requestTimeout = 200ms;
  auto server = HealthServer::start(checks, loopbackAnyPort(), options);
  ASSERT_TRUE(server.ok());
  Connection silent((*server)->port());
  ASSERT_TRUE(silent.connected());
  (void)silent.send("GET /healthz HTTP/1.1\r\n");  // and never the end of the headers
  bool closed = false;
  (void)silent.readAll(&closed);  // returns at the server's timeout, not ours (10 s)
  EXPECT_TRUE(closed) << "the server kept a silent connection open";
  // Its only thread is free again.
  EXPECT_EQ(get((*server)->port(), "/healthz").status, 200);
}

TEST(HealthServerTest, BothServersSideBySide) {
  Metrics metrics;
  HealthChecks checks;
  auto m = MetricsServer::start(metrics, BindAddress{"", 0});
  auto h = HealthServer::start(checks, BindAddress{"", 0});
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_NE((*m)->port(), (*h)->port());
  EXPECT_EQ(get((*m)->port(), "/metrics").status, 200);
  EXPECT_EQ(get((*h)->port(), "/healthz").status, 200);

  auto busy = HealthServer::start(checks, BindAddress{"127.0.0.1", (*m)->port()});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.kind(), ErrorKind::Unavailable);
}

}  // namespace
}  // namespace saguard::metrics
