#include "evidence/webhook_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace saguard::evidence {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// simdjson::SIMDJSON_PADDING: the spare capacity a body is handed over with.
constexpr std::size_t kPadding = 64;
// How long a connection that is being closed may still send before it is cut.
constexpr std::chrono::seconds kLinger{2};

Error invalid(const std::string& message) {
  return makeError(ErrorKind::Invalid, "WebhookServerOptions." + message);
}

// ":PORT", "IPV4:PORT", "localhost:PORT" or "[IPV6]:PORT". No name is resolved.
Result<tcp::endpoint> parseBindAddress(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return invalid("bindAddress \"" + text + "\": " + why +
                   " (expected \":PORT\", \"HOST:PORT\" or \"[IPV6]:PORT\")");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  const std::string port = text.substr(colon + 1);
  std::string host = text.substr(0, colon);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  const auto portNumber = static_cast<std::uint16_t>(std::stoul(port));
  if (host.empty()) return tcp::endpoint(net::ip::address_v6::any(), portNumber);
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("an IPv6 address must be bracketed");
  }
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return bad("the host must be an IP address or localhost");
  return tcp::endpoint(address, portNumber);
}

Result<std::string> readFile(const std::string& field, const std::string& path) {
  if (path.empty()) return invalid(field + " is required");
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid(field + ": cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The serving certificate and key, and the CAs a client certificate must chain to (also
// sent to the client as the names of acceptable issuers).
Status loadTls(ssl::context& tls, const WebhookServerOptions& options) {
  auto cert = readFile("certFile", options.certFile);
  if (!cert) return cert.error();
  auto key = readFile("keyFile", options.keyFile);
  if (!key) return key.error();
  auto cas = readFile("clientCaFile", options.clientCaFile);
  if (!cas) return cas.error();

  boost::system::error_code ec;
  tls.use_certificate_chain(net::buffer(*cert), ec);
  if (ec) return invalid("certFile " + options.certFile + ": no PEM certificate: " + ec.message());
  tls.use_private_key(net::buffer(*key), ssl::context::pem, ec);
  if (ec) return invalid("keyFile " + options.keyFile + ": no PEM private key: " + ec.message());
  if (SSL_CTX_check_private_key(tls.native_handle()) != 1) {
    return invalid("keyFile " + options.keyFile + " is not the key of the certificate in " +
                   options.certFile);
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cas->data(), static_cast<int>(cas->size())), &BIO_free);
  int count = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(tls.native_handle()), ca);
    SSL_CTX_add_client_CA(tls.native_handle(), ca);
    X509_free(ca);
    ++count;
  }
  ERR_clear_error();  // the read that ended the loop
  if (count == 0) return invalid("clientCaFile " + options.clientCaFile + ": no PEM certificate");
  tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return Status::Ok();
}

}  // namespace

struct WebhookServer::Impl {
  explicit Impl(WebhookServerOptions o, BatchHandler h, WebhookHooks k)
      : options(std::move(o)), handler(std::move(h)), hooks(std::move(k)) {}

  class Session;
  void accept();
  void closeAll();

  WebhookServerOptions options;
  BatchHandler handler;
  WebhookHooks hooks;
  net::io_context io{1};
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  net::steady_timer acceptPause{io};
  std::vector<std::weak_ptr<Session>> sessions;  // touched on the I/O thread only
  bool stopping = false;                         // likewise
  std::thread thread;
};

// One connection: handshake, then requests read and answered one after another.
class WebhookServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket), server.tls) {}

  void start() {
    expire();
    stream_.async_handshake(
        ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
          if (!ec) return self->awaitRequest();
          if (self->server_.stopping) return;
          spdlog::debug("audit webhook: TLS handshake refused: {}", ec.message());
          if (self->server_.hooks.onHandshakeRefused) self->server_.hooks.onHandshakeRefused();
        });
  }

  void close() { beast::get_lowest_layer(stream_).close(); }

 private:
  void expire() { beast::get_lowest_layer(stream_).expires_after(server_.options.idleTimeout); }

  // Waits for the first byte of the next request, which starts its clock.
  void awaitRequest() {
    if (buffer_.size() > 0) return readRequest();
    expire();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return;  // closed, idle too long, or stopped
                              self->readRequest();
                            });
  }

  void readRequest() {
    started_ = Clock::now();
    expire();
    parser_.emplace();
    parser_->body_limit(server_.options.maxBodyBytes);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return answer(
          413, "the body exceeds " + std::to_string(server_.options.maxBodyBytes) + " bytes", true);
    }
    const bool parseError =
        ec.category() == http::make_error_code(http::error::bad_target).category();
    if (parseError && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return answer(400, "malformed HTTP request", true);
    }
    if (ec) return;  // closed, timed out or stopped: nothing to answer
    http::request<http::string_body> request = parser_->release();
    const bool keepAlive = request.keep_alive();
    if (request.method() != http::verb::post) return answer(405, "only POST is served", !keepAlive);

    std::string body = std::move(request.body());
    body.reserve(body.size() + kPadding);
    const std::size_t bytes = body.size();
    WebhookAnswer reply;
    try {
      reply = server_.handler(body);
    } catch (...) {  // what() is not logged: it might quote the batch
      spdlog::warn("audit webhook: the batch handler threw; answered 500");
      reply = {500, "internal error"};
    }
    if (reply.status < 200 || reply.status > 599) {
      spdlog::warn("audit webhook: the batch handler answered status {}; answered 500",
                   reply.status);
      reply = {500, "internal error"};
    }
    spdlog::debug("audit webhook: a batch of {} bytes answered {}", bytes, reply.status);
    answer(reply.status, std::move(reply.message), !keepAlive);
  }

  void answer(int status, std::string message, bool close) {
    response_.emplace(static_cast<http::status>(status), 11);
    response_->set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == 405) response_->set(http::field::allow, "POST");
    response_->body() = std::move(message) + "\n";
    response_->keep_alive(!close);
    response_->prepare_payload();
    expire();
    http::async_write(
        stream_, *response_,
        [self = shared_from_this(), status, close](beast::error_code ec, std::size_t) {
          if (ec) return;
          const double seconds =
              std::chrono::duration<double>(Clock::now() - self->started_).count();
          if (self->server_.hooks.onRequest) self->server_.hooks.onRequest(status, seconds);
          if (close) return self->lingeringClose();
          self->awaitRequest();
        });
  }

  // Closes without losing the answer: closing a socket that still holds unread request
  // bytes sends a reset, which may discard the answer before the client has read it. So
  // end our side (the answer has a Content-Length and "Connection: close"), then read and
  // drop what the client still sends until it closes, for kLinger at most.
  void lingeringClose() {
    auto& lowest = beast::get_lowest_layer(stream_);
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.expires_after(std::min<std::chrono::seconds>(server_.options.idleTimeout, kLinger));
    drain();
  }

  void drain() {
    beast::get_lowest_layer(stream_).async_read_some(
        buffer_.prepare(16384), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (!ec) self->drain();  // the bytes are never committed: dropped
        });
  }

  Impl& server_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  Clock::time_point started_;
};

void WebhookServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping) return;
    if (ec) {  // out of descriptors, say: pause rather than spin
      spdlog::warn("audit webhook: accept failed: {}", ec.message());
      acceptPause.expires_after(std::chrono::milliseconds(100));
      acceptPause.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    std::erase_if(sessions, [](const auto& s) { return s.expired(); });
    if (sessions.size() >= options.maxConnections) {
      spdlog::debug("audit webhook: {} connections open; closing a new one", sessions.size());
      socket.close(ec);
    } else {
      auto session = std::make_shared<Session>(*this, std::move(socket));
      sessions.push_back(session);
      session->start();
    }
    accept();
  });
}

void WebhookServer::Impl::closeAll() {
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  acceptPause.cancel();
  for (const auto& weak : sessions) {
    if (auto session = weak.lock()) session->close();
  }
  sessions.clear();
}

Result<std::unique_ptr<WebhookServer>> WebhookServer::start(WebhookServerOptions options,
                                                            BatchHandler handler,
                                                            WebhookHooks hooks) {
  if (!handler) return makeError(ErrorKind::Invalid, "WebhookServer::start: no BatchHandler");
  if (options.maxBodyBytes == 0) return invalid("maxBodyBytes must be > 0");
  if (options.idleTimeout.count() <= 0) return invalid("idleTimeout must be > 0");
  if (options.maxConnections == 0) return invalid("maxConnections must be >= 1");
  auto endpoint = parseBindAddress(options.bindAddress);
  if (!endpoint) return endpoint.error();

  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler), std::move(hooks));
  SSL_CTX* ctx = impl->tls.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Sessions resumed with a verified client certificate need an id context.
  static const unsigned char kSessionContext[] = "saguard-audit-webhook";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (Status loaded = loadTls(impl->tls, impl->options); !loaded) return loaded.error();

  const std::string where = impl->options.bindAddress;
  beast::error_code ec;
  impl->acceptor.open(endpoint->protocol(), ec);
  if (ec && endpoint->address() == net::ip::address_v6::any()) {  // no IPv6 on this host
    endpoint->address(net::ip::address_v4::any());
    ec = {};
    impl->acceptor.open(endpoint->protocol(), ec);
  }
  if (!ec && endpoint->protocol() == tcp::v6())
    impl->acceptor.set_option(net::ip::v6_only(false), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return makeError(
        ErrorKind::Unavailable,
        "audit webhook: cannot listen on " + where + ": " + ec.message() +
            (ec == net::error::address_in_use ? " (another process holds the port)" : ""));
  }
  const std::uint16_t port = impl->acceptor.local_endpoint().port();
  impl->accept();
  impl->thread = std::thread([io = &impl->io] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {  // a hook threw: keep serving
        spdlog::error("audit webhook: a hook threw: {}", e.what());
      } catch (...) {
        spdlog::error("audit webhook: a hook threw");
      }
    }
  });
  spdlog::info("audit webhook: listening on {} (port {})", where, port);
  return std::unique_ptr<WebhookServer>(new WebhookServer(std::move(impl), port));
}

WebhookServer::WebhookServer(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

WebhookServer::~WebhookServer() {
  stop();
}

void WebhookServer::stop() {
  if (!impl_->thread.joinable()) return;
  // Once nothing is pending (every operation ends with operation_aborted), run() returns.
  net::post(impl_->io, [impl = impl_.get()] { impl->closeAll(); });
  impl_->thread.join();
}

}  // namespace saguard::evidence
