#include "metrics/server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "metrics/detail/families.h"

namespace saguard::metrics {

namespace {

Status validate(const ServerOptions& options) {
  if (options.threads < 1)
    return makeError(ErrorKind::Invalid, "ServerOptions.threads must be >= 1");
  if (options.requestTimeout.count() <= 0) {
    return makeError(ErrorKind::Invalid, "ServerOptions.requestTimeout must be > 0");
  }
  if (options.maxRequestBytes < 1024) {
    return makeError(ErrorKind::Invalid, "ServerOptions.maxRequestBytes must be >= 1024");
  }
  return Status::Ok();
}

// civetweb's listening_ports: "8080" listens on every IPv4 interface, "127.0.0.1:8080" on one.
std::string listeningPorts(const BindAddress& address) {
  return address.host.empty() ? std::to_string(address.port) : address.toString();
}

std::vector<std::string> civetOptions(const BindAddress& address, const ServerOptions& options) {
  return {"listening_ports",    listeningPorts(address),
          "num_threads",        std::to_string(options.threads),
          "request_timeout_ms", std::to_string(options.requestTimeout.count()),
          "max_request_size",   std::to_string(options.maxRequestBytes),
          "enable_keep_alive",  "no"};
}

// civetweb counts its users: each server holds the library for its lifetime.
struct CivetLibrary {
  CivetLibrary() { mg_init_library(0); }
  ~CivetLibrary() { mg_exit_library(); }
  CivetLibrary(const CivetLibrary&) = delete;
  CivetLibrary& operator=(const CivetLibrary&) = delete;
};

// civetweb's master thread sees a stop request only between polls of its listening
// sockets, and each poll waits up to 2 s: stopping would take 2 s per server. An
// incoming connection ends the poll at once, so stop on a helper thread and knock on
// the port until the stop is done (about 10 ms).
void stopPromptly(const std::function<void()>& stop, const std::string& host, std::uint16_t port) {
  if (port == 0) {  // not listening (start failed half-way): nothing to knock on
    stop();
    return;
  }
  std::atomic<bool> done{false};
  std::thread stopper;
  try {
    stopper = std::thread([&] {
      stop();
      done = true;
    });
  } catch (const std::system_error&) {
    stop();  // no thread to spare: stop the slow way
    return;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (host.empty() || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  while (!done) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      (void)::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
      ::close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
}

int logCivetMessage(const mg_connection* /*conn*/, const char* message) {
  spdlog::debug("health server: {}", message != nullptr ? message : "");
  return 1;  // handled: civetweb prints nothing itself
}

void reply(mg_connection* conn, int status, std::string_view body, bool head,
           std::string_view extraHeaders = {}) {
  const std::string header =
      "HTTP/1.1 " + std::to_string(status) + " " + mg_get_response_code_text(conn, status) +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff"
      "\r\nCache-Control: no-store\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n" + std::string(extraHeaders) +
      "\r\n";
  mg_write(conn, header.data(), header.size());
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
}

int handleProbe(mg_connection* conn, void* cbdata) {
  const auto& checks = *static_cast<const HealthChecks*>(cbdata);
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string_view method = info->request_method != nullptr ? info->request_method : "";
  const bool head = method == "HEAD";
  try {
    if (method != "GET" && !head) {
      reply(conn, 405, "method not allowed\n", false, "Allow: GET, HEAD\r\n");
      return 405;
    }
    if (info->local_uri == nullptr) {
      reply(conn, 400, "bad request\n", head);
      return 400;
    }
    const HealthChecks::Response r =
        checks.handle(info->local_uri, info->query_string != nullptr ? info->query_string : "");
    reply(conn, r.status, r.body, head);
    return r.status;
  } catch (const std::exception& e) {  // exceptions must not unwind through civetweb's C frames
    spdlog::warn("health server: {}", e.what());
    reply(conn, 500, "internal error\n", head);
    return 500;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// MetricsServer

struct MetricsServer::Impl {
  std::shared_ptr<detail::Collector> collector;  // kept alive for scrapes in flight
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string host;
  std::uint16_t port = 0;

  ~Impl() {
    if (exposer) stopPromptly([this] { exposer.reset(); }, host, port);
  }
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(Metrics& metrics,
                                                            const BindAddress& address,
                                                            const ServerOptions& options) {
  if (Status valid = validate(options); !valid) return valid.error();
  auto impl = std::make_unique<Impl>();
  impl->collector = metrics.families().collector;
  try {
    impl->exposer = std::make_unique<prometheus::Exposer>(civetOptions(address, options));
    impl->exposer->RegisterCollectable(impl->collector, "/metrics");
    const std::vector<int> ports = impl->exposer->GetListeningPorts();
    if (ports.empty()) {
      return makeError(ErrorKind::Unavailable,
                       "metrics server on " + address.toString() + ": no listening port");
    }
    impl->host = address.host;
    impl->port = static_cast<std::uint16_t>(ports[0]);
    return std::unique_ptr<MetricsServer>(
        new MetricsServer(std::move(impl), static_cast<std::uint16_t>(ports[0])));
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Unavailable, "cannot serve /metrics on " + address.toString() +
                                                 ": " + e.what() +
                                                 " (is the port in use or the address not local?)");
  }
}

// ---------------------------------------------------------------------------------------
// HealthServer

struct HealthServer::Impl {
  CivetLibrary library;
  mg_callbacks callbacks{};
  mg_context* context = nullptr;
  std::string host;
  std::uint16_t port = 0;

  ~Impl() {
    // mg_stop waits for the handlers in progress.
    if (context != nullptr) stopPromptly([this] { mg_stop(context); }, host, port);
  }
};

HealthServer::HealthServer(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

HealthServer::~HealthServer() = default;

Result<std::unique_ptr<HealthServer>> HealthServer::start(const HealthChecks& checks,
                                                          const BindAddress& address,
                                                          const ServerOptions& options) {
  if (Status valid = validate(options); !valid) return valid.error();
  auto impl = std::make_unique<Impl>();
  impl->callbacks.log_message = logCivetMessage;

  const std::vector<std::string> strings = civetOptions(address, options);
  std::vector<const char*> argv;
  for (const std::string& s : strings) argv.push_back(s.c_str());
  argv.push_back(nullptr);

  mg_init_data init{};
  init.callbacks = &impl->callbacks;
  init.user_data = nullptr;
  init.configuration_options = argv.data();
  std::array<char, 256> text{};
  unsigned code = 0;
  mg_error_data error{&code, text.data(), text.size()};

  impl->context = mg_start2(&init, &error);
  if (impl->context == nullptr) {
    return makeError(ErrorKind::Unavailable,
                     "cannot serve /healthz and /readyz on " + address.toString() + ": " +
                         (text[0] != '\0' ? text.data() : "civetweb failed to start"));
  }
  // Every path goes to one handler, so unknown paths get the same plain-text 404.
  // civetweb's callback data is a void*; handleProbe only reads through it.
  mg_set_request_handler(impl->context, "/", handleProbe, const_cast<HealthChecks*>(&checks));

  std::array<mg_server_port, 4> ports{};
  const int n = mg_get_server_ports(impl->context, static_cast<int>(ports.size()), ports.data());
  if (n < 1) {
    return makeError(ErrorKind::Unavailable,
                     "health server on " + address.toString() + ": no listening port");
  }
  impl->host = address.host;
  impl->port = static_cast<std::uint16_t>(ports[0].port);
  return std::unique_ptr<HealthServer>(
      new HealthServer(std::move(impl), static_cast<std::uint16_t>(ports[0].port)));
}

}  // namespace saguard::metrics
