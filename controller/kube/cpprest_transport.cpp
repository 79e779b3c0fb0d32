#include "kube/cpprest_transport.h"

#include <cpprest/http_client.h>
#include <pplx/threadpool.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kube/detail/gzip.h"
#include "kube/detail/stream_connection.h"
#include "kube/detail/tls.h"

namespace saguard::kube {

namespace http = web::http;
namespace client = web::http::client;

namespace {

// Distinct idle timeouts get a client (and connection pool) each; callers use a handful
// (the default, the watch timeout). Past this many, requests get a throwaway client.
constexpr std::size_t kMaxPooledClients = 16;
constexpr std::size_t kReadBuffer = std::size_t{64} * 1024;
// The most a gzip-encoded answer may inflate to. The largest legitimate answer is a
// list page: 500 objects of at most etcd's 1.5 MiB each is 750 MiB.
constexpr std::size_t kMaxInflatedBody = std::size_t{1} << 30;

}  // namespace

struct CpprestTransport::Impl {
  TransportConfig config;
  std::shared_ptr<detail::TlsContext> tls;  // null for http://
  detail::StreamServer streamServer;        // stream()'s connections
  std::mutex mu;
  std::map<std::int64_t, std::shared_ptr<client::http_client>> clients;

  std::shared_ptr<client::http_client> clientFor(std::chrono::milliseconds timeout) {
    std::lock_guard lock(mu);
    auto it = clients.find(timeout.count());
    if (it != clients.end()) return it->second;
    client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(!config.insecureSkipTlsVerify);
    // Proxies are not supported (kubeconfig proxy-url is refused); do not pick one up
    // from the environment either.
    cfg.set_proxy(web::web_proxy(web::web_proxy::disabled));
    if (tls) {
      std::shared_ptr<detail::TlsContext> ctx = tls;
      cfg.set_ssl_context_callback([ctx](boost::asio::ssl::context& sslContext) {
        ctx->configure(sslContext.native_handle());
      });
    }
    auto made = std::make_shared<client::http_client>(web::uri(config.server), cfg);
    if (clients.size() < kMaxPooledClients) clients.emplace(timeout.count(), made);
    return made;
  }

  // `compressed`: ask for a gzip-encoded answer (whole answers only; a watch stream is
  // never compressed by the API server).
  http::http_request build(const HttpRequest& request, bool compressed) const {
    http::http_request req(request.method);
    req.set_request_uri(web::uri(request.target));
    req.headers().add("User-Agent", config.userAgent);
    if (compressed) req.headers().add("Accept-Encoding", "gzip");
    if (!request.accept.empty()) req.headers().add("Accept", request.accept);
    if (!request.authorization.empty()) req.headers().add("Authorization", request.authorization);
    if (!request.body.empty() || !request.contentType.empty()) {
      // Bytes, with the content type exactly as given: the string overloads of set_body()
      // go through a char-to-byte stream cast that UBSan rightly flags.
      req.headers().set_content_type(request.contentType.empty() ? std::string("application/json")
                                                                 : request.contentType);
      req.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
    }
    return req;
  }

  // Why no answer came, as an Error. Called from a catch block.
  Error describeFailure(const HttpRequest& request, const std::exception_ptr& failure) const {
    const std::string where =
        request.method + " " + config.server + request.target.substr(0, request.target.find('?'));
    try {
      std::rethrow_exception(failure);
    } catch (const http::http_exception& e) {
      std::string what = e.what();
      if (e.error_code() == std::errc::timed_out)
        return detail::idleTimeout(where, request.timeout);
      if (what.find("handshake") != std::string::npos) {
        std::string why = tls ? tls->takeVerifyFailure() : std::string();
        if (why.empty())
          why = detail::opensslReason(static_cast<unsigned long>(e.error_code().value()));
        if (why.empty()) why = what;
        return makeError(ErrorKind::Transport,
                         "TLS handshake with " + config.server + " failed: " + why);
      }
      std::string detailText = e.error_code() ? e.error_code().message() : std::string();
      if (what.find("connect") != std::string::npos) {
        return makeError(ErrorKind::Transport, "cannot connect to " + config.server +
                                                   (detailText.empty() ? "" : ": " + detailText));
      }
      return makeError(ErrorKind::Transport,
                       where + ": " + what +
                           (detailText.empty() || what.find(detailText) != std::string::npos
                                ? ""
                                : " (" + detailText + ")"));
    } catch (const pplx::task_canceled&) {
      return makeError(ErrorKind::Timeout, where + ": cancelled");
    } catch (const std::exception& e) {
      return makeError(ErrorKind::Transport, where + ": " + e.what());
    } catch (...) {
      return makeError(ErrorKind::Internal, where + ": unknown failure");
    }
  }

  // An answer whose body could not be read as it was encoded: no usable answer, so a
  // Transport error, handled as a broken connection is (a reflector lists again after a
  // backoff; a reconcile is requeued).
  Error describeBodyFailure(const HttpRequest& request, const Error& failure) const {
    return makeError(ErrorKind::Transport, request.method + " " + config.server +
                                               request.target.substr(0, request.target.find('?')) +
                                               ": reading the answer: " + failure.message);
  }

  static std::string retryAfterOf(const http::http_response& response) {
    auto it = response.headers().find("Retry-After");
    return it == response.headers().end() ? std::string() : it->second;
  }

  // Reads the body bytes as they are (no charset handling, unlike extract_string()),
  // inflating a gzip-encoded one. Invalid for a corrupt or truncated gzip body and for
  // a content coding saguard did not ask for.
  static Result<std::string> readAll(const http::http_response& response) {
    std::string coding;
    if (auto it = response.headers().find("Content-Encoding"); it != response.headers().end()) {
      coding = it->second;
    }
    const bool gzip = coding == "gzip";
    if (!gzip && !coding.empty() && coding != "identity") {
      return makeError(ErrorKind::Invalid,
                       "the answer's Content-Encoding \"" + coding + "\" was not asked for");
    }
    auto body = response.body().streambuf();
    std::string out;
    std::vector<std::uint8_t> buffer(kReadBuffer);
    std::optional<detail::GzipInflater> inflater;
    if (gzip) inflater.emplace(kMaxInflatedBody);
    while (std::size_t n = body.getn(buffer.data(), buffer.size()).get()) {
      const std::string_view piece(reinterpret_cast<const char*>(buffer.data()), n);
      if (!inflater) {
        out.append(piece);
      } else if (Status st = inflater->feed(piece); !st) {
        return st.error();
      }
    }
    if (inflater) return inflater->finish();
    return out;
  }
};

namespace {

// cpprestsdk loads the system trust store (SSL_CTX_set_default_verify_paths: some 140
// certificates parsed) into the SSL context of every new connection before it hands the
// context to TlsContext::configure(), which replaces that store with the configured CA.
// That load is 25-140 ms of CPU per connection, wasted (measured with a loop of
// boost::asio::ssl::context + set_default_verify_paths on this machine). Pointing
// OpenSSL's default CA file at /dev/null makes it load nothing. Process-wide: done when a
// transport names its CA (then the system store is never the trust, whatever
// SSL_CERT_FILE says; it is often set, to the system bundle), and undone, back to the
// value it had, when a transport is made that trusts the system store (no CA), so that
// one does not get an empty store. Transports are made at start-up.
class TrustStoreFile {
 public:
  static TrustStoreFile& instance() {
    static TrustStoreFile file;
    return file;
  }
  void skipSystemStore() {
    std::lock_guard lock(mu_);
    if (!overridden_) {
      const char* current = std::getenv("SSL_CERT_FILE");
      original_ = current == nullptr ? std::nullopt : std::optional<std::string>(current);
      overridden_ = true;
    }
    ::setenv("SSL_CERT_FILE", "/dev/null", /*overwrite=*/1);
  }
  void useSystemStore() {
    std::lock_guard lock(mu_);
    if (!overridden_) return;
    if (original_) {
      ::setenv("SSL_CERT_FILE", original_->c_str(), /*overwrite=*/1);
    } else {
      ::unsetenv("SSL_CERT_FILE");
    }
    overridden_ = false;
  }

 private:
  std::mutex mu_;
  bool overridden_ = false;
  std::optional<std::string> original_;  // SSL_CERT_FILE before; nullopt when unset
};

}  // namespace

CpprestTransport::CpprestTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CpprestTransport::~CpprestTransport() = default;

Result<std::unique_ptr<CpprestTransport>> CpprestTransport::create(const TransportConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  std::string host;
  std::string scheme;
  int port = 0;
  try {
    web::uri uri(config.server);
    host = uri.host();
    scheme = uri.scheme();
    port = uri.port();
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Invalid,
                     "server " + config.server + ": not a valid URL: " + e.what());
  }
  if (host.empty()) return makeError(ErrorKind::Invalid, "server " + config.server + ": no host");
  if (scheme != "https" && scheme != "http") {
    return makeError(ErrorKind::Invalid,
                     "server " + config.server + ": the scheme must be https or http");
  }
  if (host.front() == '[') {
    // cpprestsdk 2.10 hands the bracketed literal to its resolver, which cannot resolve it.
    return makeError(ErrorKind::Invalid,
                     "server " + config.server +
                         ": IPv6 address literals are not supported by the "
                         "HTTP library (cpprestsdk); name the server by a DNS name");
  }
  if (scheme == "https") {
    auto tls = detail::TlsContext::create(host, config.caPem, config.clientCertPem,
                                          config.clientKeyPem, !config.insecureSkipTlsVerify);
    if (!tls) return tls.error();
    impl->tls = std::move(*tls);
    if (!config.caPem.empty()) {
      TrustStoreFile::instance().skipSystemStore();
    } else if (!config.insecureSkipTlsVerify) {
      TrustStoreFile::instance().useSystemStore();
    }
  } else if (!config.clientCertPem.empty()) {
    return makeError(ErrorKind::Invalid,
                     "server " + config.server + ": client certificates need https");
  }
  impl->streamServer = detail::StreamServer{
      .url = config.server,
      .host = host,
      .port = static_cast<unsigned short>(port > 0 ? port : (scheme == "https" ? 443 : 80)),
      .userAgent = config.userAgent,
      .tls = impl->tls};
  if (config.insecureSkipTlsVerify) {
    spdlog::warn("TLS verification of {} is off (insecure-skip-tls-verify)", config.server);
  }
  if (scheme == "http") {
    spdlog::warn("{} is plain http: no TLS, credentials and data travel unencrypted",
                 config.server);
  }
  return std::unique_ptr<CpprestTransport>(new CpprestTransport(std::move(impl)));
}

const std::string& CpprestTransport::server() const {
  return impl_->config.server;
}

Status setIoThreads(std::size_t threads) {
  if (threads == 0) return makeError(ErrorKind::Invalid, "I/O threads: must be at least 1");
  // The pool starts its threads at once, and a thread inherits its creator's signal
  // mask: with every signal blocked in them, SIGTERM and SIGINT reach the threads of
  // the application (saguard run waits for them with sigwait) instead of killing the
  // process from an I/O thread.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  Status result;
  try {
    crossplat::threadpool::initialize_with_threads(threads);
  } catch (const std::exception& e) {
    result = makeError(ErrorKind::Internal, std::string("I/O threads: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return result;
}

Result<HttpResponse> CpprestTransport::send(const HttpRequest& request, std::stop_token stop) {
  try {
    auto httpClient = impl_->clientFor(request.timeout);
    pplx::cancellation_token_source cancel;
    std::stop_callback onStop(stop, [&cancel] { cancel.cancel(); });
    http::http_response response =
        httpClient->request(impl_->build(request, /*compressed=*/true), cancel.get_token()).get();
    HttpResponse out;
    out.code = response.status_code();
    out.retryAfter = Impl::retryAfterOf(response);
    auto body = Impl::readAll(response);
    if (!body) return impl_->describeBodyFailure(request, body.error());
    out.body = std::move(*body);
    return out;
  } catch (...) {
    return impl_->describeFailure(request, std::current_exception());
  }
}

Result<HttpResponse> CpprestTransport::stream(const HttpRequest& request, const ChunkSink& sink,
                                              std::stop_token stop) {
  try {
    return detail::streamOnOwnConnection(impl_->streamServer, request, sink, std::move(stop));
  } catch (const std::exception& e) {  // allocation failures; Beast reports the rest as codes
    return makeError(ErrorKind::Transport,
                     request.method + " " + impl_->config.server + ": " + e.what());
  }
}

}  // namespace saguard::kube
