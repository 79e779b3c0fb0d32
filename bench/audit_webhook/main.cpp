// Audit webhook benchmark: how long saguard takes to answer the API server's audit webhook
// backend, one 400-event batch at a time. Not a test: it prints figures.
//
//   audit_webhook_bench [--batches N] [--warmup W] [--connections K] [--batch-events E]
//                       [--sync-ms MS]
//
// What runs is what `saguard run` wires up (controller/main.cpp, startEvidence): a real
// evidence::WebhookServer on 127.0.0.1:0 (TLS, client certificates required) whose handler
// is evidence::Ingest::batch into an evidence::Ledger, with a thread that takes the
// ledger's changed records every MS milliseconds (default 10,000, the default
// --evidence-sync-interval-ms) as the evidence store does.
//
// The PKI is made at start with tests/support/certificates.h (EC P-256: a CA, a server
// certificate for IP 127.0.0.1, a client certificate for CN kube-apiserver) and written to
// a temporary directory (tests/support/temp_dir.h), removed at exit.
//
// The client is what the API server's batch backend is: K connections (default 1), each
// one keep-alive TLS connection that presents the client certificate and POSTs one
// EventList at a time, waiting for the answer before the next. Each connection first sends
// W batches (default 50) that are not counted, then the N batches (default 2,000; split
// across the connections) are timed one by one, from the first byte of the request written
// to the last byte of the answer read. Every batch is a distinct EventList of E events
// (default 400, the API server's default --audit-webhook-batch-max-size) from the event
// generator of bench/audit_ingest (events.h), all generated before the clock starts.
//
// Prints min/p50/p90/p99/max of the answer time, batches/s and events/s, the server-side
// time WebhookHooks::onRequest reports (first byte read to last byte written), the CPU time
// of the server's I/O thread and of the clients per batch (on a shared machine, the figure
// that moves least with the load), the resident set at the end and the load average at
// start and end, then one JSON line (prefixed "json: "). Exit status 1 when an answer is
// not 200, a connection is lost, or the ledger did not see every event (a benchmark of a
// broken path is worthless); 2 on bad arguments.
#include <malloc.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit_ingest/events.h"
#include "evidence/ingest.h"
#include "evidence/ledger.h"
#include "evidence/webhook_server.h"
#include "support/certificates.h"
#include "support/temp_dir.h"

namespace {

using namespace saguard;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "audit_webhook_bench: %s\n", what.c_str());
  std::exit(1);
}

// --- the throwaway PKI -------------------------------------------------------------------

// The files the server reads, in a temporary directory; the PEM the client presents. Made
// with tests/support/certificates.h: EC P-256, valid from an hour ago for a day.
struct Pki {
  test_support::TempDir dir;
  std::string caPem;
  std::string clientCertPem;
  std::string clientKeyPem;

  Pki() try : dir("audit-webhook-bench-") {
    using test_support::certificatePem;
    using test_support::keyPem;
    constexpr const char* kCa = "audit-webhook-bench-ca";
    const auto caKey = test_support::newKey();
    const auto serverKey = test_support::newKey();
    const auto clientKey = test_support::newKey();
    const auto ca =
        test_support::issue({.subject = kCa,
                             .subjectKey = caKey.get(),
                             .extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                            {NID_subject_key_identifier, "hash"}}});
    // A leaf for `key`, for serving or for clients (`extendedUsage`), named `cn`.
    auto leaf = [&](const char* cn, EVP_PKEY* key, const char* extendedUsage) {
      test_support::CertificateSpec spec{
          .subject = cn,
          .subjectKey = key,
          .issuer = kCa,
          .issuerKey = caKey.get(),
          .extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                         {NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, extendedUsage}}};
      return spec;
    };
    auto serverSpec = leaf("127.0.0.1", serverKey.get(), "serverAuth");
    serverSpec.extensions.emplace_back(NID_subject_alt_name, "IP:127.0.0.1");
    const auto server = test_support::issue(serverSpec);
    const auto client = test_support::issue(leaf("kube-apiserver", clientKey.get(), "clientAuth"));
    caPem = certificatePem(ca.get());
    clientCertPem = certificatePem(client.get());
    clientKeyPem = keyPem(clientKey.get());
    dir.write("tls.crt", certificatePem(server.get()));
    dir.write("tls.key", keyPem(serverKey.get()));
    dir.write("client-ca.crt", caPem);
  } catch (const std::exception& e) {
    die(e.what());
  }

  std::string path(const char* name) const { return dir.file(name); }
};

// --- the client: one keep-alive TLS connection, one batch at a time ------------------------

class Client {
 public:
  Client(const Pki& pki, std::uint16_t port) : tls_(context(pki)), stream_(io_, tls_) {
    tcp::socket& socket = stream_.next_layer();
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    socket.set_option(tcp::no_delay(true));  // as Go's net/http does
    // A server that stops answering fails the run instead of hanging it.
    const timeval limit{.tv_sec = 30, .tv_usec = 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    SSL_set_tlsext_host_name(stream_.native_handle(), "127.0.0.1");
    stream_.handshake(ssl::stream_base::client);
  }

  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  std::string cipher() {
    return std::string(SSL_get_version(stream_.native_handle())) + " " +
           SSL_get_cipher_name(stream_.native_handle());
  }

  // POSTs one EventList and reads the answer: its status, or throws on a lost connection
  // or an answer that closes it. Seconds from the first byte written to the last read.
  double post(const std::string& body, int& status) {
    http::request<http::span_body<const char>> request(http::verb::post, "/", 11);
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::user_agent, "kube-apiserver-audit-webhook-bench");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "application/json, */*");
    request.body() = beast::span<const char>(body.data(), body.size());
    request.prepare_payload();
    http::response<http::string_body> response;
    const auto start = Clock::now();
    http::write(stream_, request);
    http::read(stream_, buffer_, response);
    const auto end = Clock::now();
    status = static_cast<int>(response.result_int());
    if (!response.keep_alive()) throw std::runtime_error("the server closed the connection");
    return std::chrono::duration<double>(end - start).count();
  }

 private:
  static ssl::context context(const Pki& pki) {
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_peer);
    tls.add_certificate_authority(net::buffer(pki.caPem));
    tls.use_certificate_chain(net::buffer(pki.clientCertPem));
    tls.use_private_key(net::buffer(pki.clientKeyPem), ssl::context::pem);
    // TLS 1.3 suites in the order Go's crypto/tls (the API server's client) offers them on
    // a CPU with AES instructions; the server takes the client's first choice.
    SSL_CTX_set_ciphersuites(tls.native_handle(),
                             "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                             "TLS_AES_256_GCM_SHA384");
    return tls;
  }

  net::io_context io_;
  ssl::context tls_;
  beast::ssl_stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

// --- what the server reports -------------------------------------------------------------

double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// WebhookHooks::onRequest's durations (called on the server's I/O thread), and that
// thread's CPU clock, read by the main thread.
class ServerSide {
 public:
  evidence::WebhookHooks hooks() {
    return {.onRequest =
                [this](int status, double elapsed) {
                  if (!haveClock_.load(std::memory_order_relaxed)) {  // I/O thread only
                    pthread_getcpuclockid(pthread_self(), &ioClock_);
                    haveClock_.store(true, std::memory_order_release);
                  }
                  std::lock_guard lock(mu_);
                  if (measuring_) seconds_.push_back(elapsed);
                  if (status != 200) ++notOk_;
                  ++answered_;
                  answeredChanged_.notify_all();
                },
            .onHandshakeRefused = [this] { ++refused_; }};
  }

  // Waits until `count` requests have been answered (a hook runs just after the client
  // has its answer), then counts the following ones.
  bool startMeasuring(std::uint64_t count) {
    std::unique_lock lock(mu_);
    const bool reached = answeredChanged_.wait_for(lock, std::chrono::seconds(30),
                                                   [&] { return answered_ >= count; });
    measuring_ = true;
    return reached;
  }
  bool waitAnswered(std::uint64_t count) {
    std::unique_lock lock(mu_);
    return answeredChanged_.wait_for(lock, std::chrono::seconds(30),
                                     [&] { return answered_ >= count; });
  }

  // CPU seconds of the server's I/O thread so far (0 before its first answer).
  double ioThreadCpu() const {
    return haveClock_.load(std::memory_order_acquire) ? seconds(ioClock_) : 0;
  }

  std::vector<double> measured() {
    std::lock_guard lock(mu_);
    return seconds_;
  }
  std::uint64_t notOk() {
    std::lock_guard lock(mu_);
    return notOk_;
  }
  std::uint64_t refused() const { return refused_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable answeredChanged_;
  bool measuring_ = false;
  std::vector<double> seconds_;
  std::uint64_t answered_ = 0;
  std::uint64_t notOk_ = 0;
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<bool> haveClock_{false};
  clockid_t ioClock_{};
};

// The ingest's counts by result, as the metrics would see them (I/O thread only; read
// after the last answer).
class CountingIngestHooks : public evidence::IngestHooks {
 public:
  void onEvents(const std::string&, evidence::IngestResult result, std::uint64_t count) override {
    counts_[static_cast<int>(result)].fetch_add(count, std::memory_order_relaxed);
  }
  std::uint64_t count(evidence::IngestResult result) const {
    return counts_[static_cast<int>(result)].load();
  }

 private:
  std::atomic<std::uint64_t> counts_[4] = {};
};

// --- measuring -----------------------------------------------------------------------------

// VmRSS or VmHWM from /proc/self/status, in bytes.
long statusBytes(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

std::string loadAverage() {
  std::ifstream file("/proc/loadavg");
  double one = 0;
  double five = 0;
  double fifteen = 0;
  file >> one >> five >> fifteen;
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %.2f %.2f", one, five, fifteen);
  return text;
}

// Nearest rank: the smallest value with at least q of the values at or below it.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

struct Summary {
  double min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  if (values.empty()) return {};
  return {values.front() * 1e3, percentile(values, 0.5) * 1e3, percentile(values, 0.9) * 1e3,
          percentile(values, 0.99) * 1e3, values.back() * 1e3};
}

struct Options {
  std::size_t batches = 2000;
  std::size_t warmup = 50;  // per connection
  std::size_t connections = 1;
  std::size_t batchEvents = 400;
  long syncMs = 10000;
};

// What one connection measured.
struct ClientResult {
  std::vector<double> seconds;
  double cpu = 0;  // this client thread's CPU seconds over the timed batches
  std::string cipher;
  std::string error;
  std::uint64_t notOk = 0;
};

// The batches, every one distinct and generated before anything is timed: first each
// connection's warm-up, then the timed ones.
struct Batches {
  std::vector<std::string> bodies;
  std::size_t warmupTotal = 0;
  bench::Expected expected;
  std::size_t bytes = 0;       // all of them
  std::size_t timedBytes = 0;  // the timed ones
  double generationSeconds = 0;
};

Batches generate(const Options& options) {
  Batches batches;
  batches.warmupTotal = options.warmup * options.connections;
  batches.bodies.resize(batches.warmupTotal + options.batches);
  const auto start = Clock::now();
  bench::Generator generator(bench::Shape{}, 0x5eed3);
  for (std::size_t b = 0; b < batches.bodies.size(); ++b) {
    std::string& body = batches.bodies[b];
    bench::openList(body);
    for (std::size_t i = 0; i < options.batchEvents; ++i) {
      if (i) body += ',';
      generator.append(body, batches.expected);
    }
    body += "]}";
    body.shrink_to_fit();
    batches.bytes += body.size();
    if (b >= batches.warmupTotal) batches.timedBytes += body.size();
  }
  batches.generationSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  return batches;
}

// What a run measured and what the server saw.
struct Run {
  std::vector<double> answerSeconds;  // client side, the timed batches of every connection
  std::vector<double> serverSeconds;  // WebhookHooks::onRequest, the same batches
  double wall = 0;
  double ioCpu = 0;  // the server's I/O thread, over the timed batches
  double clientCpu = 0;
  double processCpu = 0;
  std::string cipher;
  std::string loadAtStart;
  std::string loadAtEnd;
  long rssBeforeServer = 0;
  long rssAtEnd = 0;
  long rssPeak = 0;
  long rssWithoutBodies = 0;
  std::uint64_t accepted = 0;
  std::uint64_t ignored = 0;
  std::uint64_t malformed = 0;
  std::uint64_t newUseDays = 0;
  std::uint64_t synced = 0;  // records taken by the store's takeChanged()
  std::size_t accounts = 0;
  std::vector<std::string> problems;  // each one makes the run worthless
};

// Starts the server as `saguard run` does, sends every batch through K connections, and
// frees the bodies once sent (to measure the resident set without them).
Run measure(const Options& options, Batches& batches) {
  Run run;
  run.loadAtStart = loadAverage();
  Pki pki;
  evidence::Ledger ledger;
  ledger.observedSince(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  std::atomic<std::uint64_t> newUseDays{0};
  ledger.onNewUseDay = [&](const std::string&) { newUseDays.fetch_add(1); };
  CountingIngestHooks ingestHooks;
  evidence::Ingest ingest(ledger, "webhook", &ingestHooks);
  ServerSide serverSide;
  run.rssBeforeServer = statusBytes("VmRSS");
  auto server = evidence::WebhookServer::start(
      {.bindAddress = "127.0.0.1:0",
       .certFile = pki.path("tls.crt"),
       .keyFile = pki.path("tls.key"),
       .clientCaFile = pki.path("client-ca.crt")},
      [&ingest](std::string& body) { return ingest.batch(body); }, serverSide.hooks());
  if (!server.ok()) die("the webhook server did not start: " + server.error().describe());
  const std::uint16_t port = (*server)->port();

  // The evidence store's side of the ledger: takeChanged() every syncMs.
  std::atomic<std::uint64_t> synced{0};
  std::jthread store([&](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any wake;
    std::unique_lock lock(mu);
    for (;;) {
      wake.wait_for(lock, stop, std::chrono::milliseconds(options.syncMs), [] { return false; });
      if (stop.stop_requested()) return;
      synced.fetch_add(ledger.takeChanged().size());
    }
  });

  // The clients: each warms up, all wait at the barrier (whose completion waits for the
  // server's hooks of the warm-up, then starts the clocks), then the timed batches.
  std::vector<ClientResult> results(options.connections);
  double wallStart = 0;
  double ioCpuStart = 0;
  double processCpuStart = 0;
  bool warmupAnswered = true;
  std::barrier start(static_cast<std::ptrdiff_t>(options.connections), [&]() noexcept {
    warmupAnswered = serverSide.startMeasuring(batches.warmupTotal);
    ioCpuStart = serverSide.ioThreadCpu();
    processCpuStart = seconds(CLOCK_PROCESS_CPUTIME_ID);
    wallStart = seconds(CLOCK_MONOTONIC);
  });
  const std::vector<std::string>& bodies = batches.bodies;
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < options.connections; ++c) {
    clients.emplace_back([&, c] {
      ClientResult& result = results[c];
      bool arrived = false;
      try {
        Client client(pki, port);
        result.cipher = client.cipher();
        int status = 0;
        for (std::size_t i = 0; i < options.warmup; ++i) {
          client.post(bodies[c * options.warmup + i], status);
          if (status != 200) ++result.notOk;
        }
        arrived = true;
        start.arrive_and_wait();
        const double cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID);
        result.seconds.reserve(options.batches / options.connections + 1);
        for (std::size_t i = batches.warmupTotal + c; i < bodies.size(); i += options.connections) {
          result.seconds.push_back(client.post(bodies[i], status));
          if (status != 200) ++result.notOk;
        }
        result.cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
      } catch (const std::exception& e) {
        result.error = e.what();
        if (!arrived) start.arrive_and_drop();
      }
    });
  }
  for (auto& t : clients) t.join();
  run.wall = seconds(CLOCK_MONOTONIC) - wallStart;
  const bool allAnswered = serverSide.waitAnswered(bodies.size());
  run.ioCpu = serverSide.ioThreadCpu() - ioCpuStart;
  run.processCpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - processCpuStart;
  run.loadAtEnd = loadAverage();
  store.request_stop();
  store.join();
  synced.fetch_add(ledger.takeChanged().size());

  std::uint64_t notOk = serverSide.notOk();
  for (const auto& r : results) {
    if (!r.error.empty()) run.problems.push_back("a connection failed: " + r.error);
    run.answerSeconds.insert(run.answerSeconds.end(), r.seconds.begin(), r.seconds.end());
    run.clientCpu += r.cpu;
    notOk += r.notOk;
  }
  run.cipher = results[0].cipher;
  run.serverSeconds = serverSide.measured();
  run.accepted = ingestHooks.count(evidence::IngestResult::Accepted);
  run.ignored = ingestHooks.count(evidence::IngestResult::Ignored);
  run.malformed = ingestHooks.count(evidence::IngestResult::Malformed);
  run.newUseDays = newUseDays.load();
  run.synced = synced.load();
  run.accounts = ledger.accounts();

  run.rssAtEnd = statusBytes("VmRSS");
  run.rssPeak = statusBytes("VmHWM");
  batches.bodies = {};
  malloc_trim(0);
  run.rssWithoutBodies = statusBytes("VmRSS");
  (*server)->stop();

  if (!warmupAnswered || !allAnswered) {
    run.problems.push_back("the server's hooks did not report every answer");
  }
  if (notOk != 0) run.problems.push_back(std::to_string(notOk) + " answers were not 200");
  if (serverSide.refused() != 0) run.problems.push_back("a TLS handshake was refused");
  return run;
}

// Whether the run measured a working path: every batch timed on both sides, every event
// seen by the ingest, as many uses accepted as were generated.
void check(const Options& options, const Batches& batches, Run& run) {
  if (run.answerSeconds.size() != options.batches || run.serverSeconds.size() != options.batches) {
    run.problems.push_back("timed " + std::to_string(run.answerSeconds.size()) +
                           " batches (server " + std::to_string(run.serverSeconds.size()) +
                           ") of " + std::to_string(options.batches));
  }
  if (run.accepted + run.ignored != batches.expected.events || run.malformed != 0) {
    run.problems.push_back("the ingest saw " + std::to_string(run.accepted + run.ignored) +
                           " events (" + std::to_string(run.malformed) + " malformed) of " +
                           std::to_string(batches.expected.events));
  }
  if (run.accepted != batches.expected.uses) {
    run.problems.push_back("the ingest accepted " + std::to_string(run.accepted) +
                           " uses, generated " + std::to_string(batches.expected.uses));
  }
}

void print(const Options& options, const Batches& batches, const Run& run) {
  const Summary answer = summarize(run.answerSeconds);
  const Summary server = summarize(run.serverSeconds);
  const double n = static_cast<double>(options.batches);
  const double batchesPerSecond = n / run.wall;
  const double eventsPerSecond = batchesPerSecond * static_cast<double>(options.batchEvents);
  const double mbPerSecond = static_cast<double>(batches.timedBytes) / 1e6 / run.wall;
  const double meanBytes = static_cast<double>(batches.bytes) /
                           static_cast<double>(batches.warmupTotal + options.batches);
  const double mib = 1024.0 * 1024.0;
  auto ull = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };

  std::printf(
      "%zu timed batches of %zu events (%.0f bytes on average, %.0f per event), %zu "
      "connection(s), %zu warm-up batches each; generated in %.1f s\n",
      options.batches, options.batchEvents, meanBytes,
      meanBytes / static_cast<double>(options.batchEvents), options.connections, options.warmup,
      batches.generationSeconds);
  std::printf("TLS: %s, client certificate CN=kube-apiserver (EC P-256)\n", run.cipher.c_str());
  std::printf("load average at start %s, at end %s (%u CPUs)\n", run.loadAtStart.c_str(),
              run.loadAtEnd.c_str(), std::thread::hardware_concurrency());
  std::printf("\n%-44s %8s %8s %8s %8s %8s\n", "ms", "min", "p50", "p90", "p99", "max");
  std::printf("%-44s %8.2f %8.2f %8.2f %8.2f %8.2f\n", "answer (client: first byte sent -> answer)",
              answer.min, answer.p50, answer.p90, answer.p99, answer.max);
  std::printf("%-44s %8.2f %8.2f %8.2f %8.2f %8.2f\n",
              "server (onRequest: first byte read -> sent)", server.min, server.p50, server.p90,
              server.p99, server.max);
  std::printf("\nthroughput: %.1f batches/s, %.0f events/s, %.1f MB/s of JSON (%.2f s wall)\n",
              batchesPerSecond, eventsPerSecond, mbPerSecond, run.wall);
  std::printf("cpu per batch: server I/O thread %.3f ms, clients %.3f ms, whole process %.3f ms\n",
              run.ioCpu * 1e3 / n, run.clientCpu * 1e3 / n, run.processCpu * 1e3 / n);
  std::printf(
      "resident set: %.1f MiB at the end (%.1f MiB of it the pre-generated bodies, peak %.1f "
      "MiB); %.1f MiB once they are freed; %.1f MiB before the server started (after "
      "generating)\n",
      static_cast<double>(run.rssAtEnd) / mib, static_cast<double>(batches.bytes) / mib,
      static_cast<double>(run.rssPeak) / mib, static_cast<double>(run.rssWithoutBodies) / mib,
      static_cast<double>(run.rssBeforeServer) / mib);
  std::printf(
      "ledger: %zu accounts, %llu uses accepted, %llu events ignored, %llu malformed, "
      "%llu new use days, %llu records taken by the store's sync\n",
      run.accounts, ull(run.accepted), ull(run.ignored), ull(run.malformed), ull(run.newUseDays),
      ull(run.synced));

  std::printf(
      "json: {\"bench\":\"audit_webhook\",\"batches\":%zu,\"batch_events\":%zu,"
      "\"mean_batch_bytes\":%.0f,\"connections\":%zu,\"warmup_per_connection\":%zu,"
      "\"tls\":\"%s\",\"answer_ms\":{\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
      "\"max\":%.3f},\"server_ms\":{\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
      "\"max\":%.3f},\"batches_per_s\":%.1f,\"events_per_s\":%.0f,\"mb_per_s\":%.1f,"
      "\"cpu_ms_per_batch\":{\"server_io_thread\":%.3f,\"clients\":%.3f,\"process\":%.3f},"
      "\"rss_bytes_end\":%ld,\"rss_bytes_end_without_bodies\":%ld,\"rss_bytes_peak\":%ld,"
      "\"body_bytes\":%zu,\"accounts\":%zu,\"uses\":%llu,\"load_start\":\"%s\","
      "\"load_end\":\"%s\",\"ok\":%s}\n",
      options.batches, options.batchEvents, meanBytes, options.connections, options.warmup,
      run.cipher.c_str(), answer.min, answer.p50, answer.p90, answer.p99, answer.max, server.min,
      server.p50, server.p90, server.p99, server.max, batchesPerSecond, eventsPerSecond,
      mbPerSecond, run.ioCpu * 1e3 / n, run.clientCpu * 1e3 / n, run.processCpu * 1e3 / n,
      run.rssAtEnd, run.rssWithoutBodies, run.rssPeak, batches.bytes, run.accounts,
      ull(run.accepted), run.loadAtStart.c_str(), run.loadAtEnd.c_str(),
      run.problems.empty() ? "true" : "false");
}

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--batches N] [--warmup W] [--connections K] [--batch-events E] "
               "[--sync-ms MS]\n",
               self);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--batches") {
      options.batches = std::strtoul(value, nullptr, 10);
    } else if (arg == "--warmup") {
      options.warmup = std::strtoul(value, nullptr, 10);
    } else if (arg == "--connections") {
      options.connections = std::strtoul(value, nullptr, 10);
    } else if (arg == "--batch-events") {
      options.batchEvents = std::strtoul(value, nullptr, 10);
    } else if (arg == "--sync-ms") {
      options.syncMs = std::strtol(value, nullptr, 10);
    } else {
      return usage(argv[0]);
    }
  }
  if (options.batches == 0 || options.connections == 0 || options.connections > 64 ||
      options.batchEvents == 0 || options.syncMs <= 0) {
    return usage(argv[0]);
  }
  Batches batches = generate(options);
  Run run = measure(options, batches);
  check(options, batches, run);
  for (const auto& problem : run.problems) {
    std::fprintf(stderr, "audit_webhook_bench: %s\n", problem.c_str());
  }
  print(options, batches, run);
  return run.problems.empty() ? 0 : 1;
}
