#include "kube/detail/stream_connection.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace saguard::kube::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr std::size_t kReadBuffer = std::size_t{64} * 1024;

// An io_context run on the calling thread, one operation at a time. A stop (from any
// thread) stops it: the pending operation is abandoned and the connection, closed by
// its destructor, goes with it.
class Loop {
 public:
  explicit Loop(std::stop_token stop) : onStop_(std::move(stop), Stopper{&io_}) {}

  asio::io_context& io() { return io_; }

  // `start(handler)` begins one asynchronous operation that completes with `handler`;
  // runs until it has. nullopt: stopped first.
  template <typename Start>
  std::optional<ErrorCode> run(Start&& start) {
    std::optional<ErrorCode> done;
    start([&done](ErrorCode ec, auto&&...) { done = ec; });
    while (!done) {
      if (io_.run_one() == 0) return std::nullopt;  // stopped (the guard keeps it from idling)
    }
    return done;
  }

 private:
  struct Stopper {
    asio::io_context* io;
    void operator()() const { io->stop(); }
  };
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::stop_callback<Stopper> onStop_;
};

// One request's exchange on a connected (and, for https, handshaken) stream.
template <typename Stream>
class Exchange {
 public:
  Exchange(Loop& loop, Stream& stream, const StreamServer& server, const HttpRequest& request,
           std::string where)
      : loop_(loop),
        stream_(stream),
        server_(server),
        request_(request),
        where_(std::move(where)) {}

  Result<HttpResponse> run(const ChunkSink& sink, const std::stop_token& stop) {
    HttpResponse out;
    Result<bool> sent = send();
    if (!sent) return sent.error();
    if (!*sent) return out;  // stopped

    http::response_parser<http::buffer_body> parser;
    // A watch has no end (an error answer is capped below). Not boost::none: Boost 1.74
    // compares a Content-Length with it as if it were a limit below every length.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    std::optional<ErrorCode> ec = timed([&](auto handler) {
      http::async_read_header(stream_, buffer_, parser, std::move(handler));
    });
    if (!ec) return out;
    if (*ec) return failure(*ec, 0);
    out.code = static_cast<int>(parser.get().result_int());
    out.retryAfter = std::string(parser.get()[http::field::retry_after]);
    const bool ok = out.code >= 200 && out.code <= 299;

    std::vector<char> chunk(kReadBuffer);
    while (!parser.is_done() && !stop.stop_requested()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      ec = timed([&](auto handler) {
        http::async_read_some(stream_, buffer_, parser, std::move(handler));
      });
      if (!ec) break;                                    // stopped
      if (*ec == http::error::need_buffer) ec->clear();  // the chunk buffer is full
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n > 0) {
        const std::string_view bytes(chunk.data(), n);
        if (ok) {
          if (Status st = sink(bytes); !st) return st.error();
        } else if (out.body.size() + n > kMaxErrorBody) {
          return makeError(ErrorKind::Transport, where_ + ": the " + std::to_string(out.code) +
                                                     " answer exceeds " +
                                                     std::to_string(kMaxErrorBody) + " bytes");
        } else {
          out.body.append(bytes);
        }
      }
      if (*ec) return failure(*ec, out.code);
    }
    return out;
  }

 private:
  // The request; false when a stop came first.
  Result<bool> send() {
    http::request<http::string_body> req;
    req.method(http::string_to_verb(request_.method));
    if (req.method() == http::verb::unknown) {
      return makeError(ErrorKind::Invalid, "unknown HTTP method " + request_.method);
    }
    req.target(request_.target);
    req.version(11);
    req.set(http::field::host, server_.host + ":" + std::to_string(server_.port));
    req.set(http::field::user_agent, server_.userAgent);
    if (!request_.accept.empty()) req.set(http::field::accept, request_.accept);
    if (!request_.authorization.empty())
      req.set(http::field::authorization, request_.authorization);
    if (!request_.body.empty() || !request_.contentType.empty()) {
      req.set(http::field::content_type, request_.contentType.empty()
                                             ? std::string("application/json")
                                             : request_.contentType);
      req.body() = request_.body;
    }
    req.prepare_payload();
    std::optional<ErrorCode> ec =
        timed([&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
    if (!ec) return false;
    if (*ec) return failure(*ec, 0);
    return true;
  }

  // One operation under the idle timeout.
  template <typename Start>
  std::optional<ErrorCode> timed(Start&& start) {
    beast::get_lowest_layer(stream_).expires_after(request_.timeout);
    return loop_.run(std::forward<Start>(start));
  }

  // The error of a failed read or write, after `code` was answered (0: before).
  Error failure(const ErrorCode& ec, int code) const {
    Error error = ec == beast::error::timeout
                      ? idleTimeout(where_, request_.timeout)
                      : makeError(ErrorKind::Transport, where_ + ": " + ec.message());
    if (code != 0)
      error.message = "stream broken after " + std::to_string(code) + ": " + error.message;
    return error;
  }

  Loop& loop_;
  Stream& stream_;
  const StreamServer& server_;
  const HttpRequest& request_;
  const std::string where_;
  beast::flat_buffer buffer_;
};

}  // namespace

Error idleTimeout(const std::string& where, std::chrono::milliseconds timeout) {
  const std::string text = timeout.count() % 1000 == 0
                               ? std::to_string(timeout.count() / 1000) + "s"
                               : std::to_string(timeout.count()) + "ms";
  return makeError(ErrorKind::Timeout, where + ": no answer within " + text + " (idle timeout)");
}

Result<HttpResponse> streamOnOwnConnection(const StreamServer& server, const HttpRequest& request,
                                           const ChunkSink& sink, std::stop_token stop) {
  const std::string where =
      request.method + " " + server.url + request.target.substr(0, request.target.find('?'));
  Loop loop(stop);

  // An IP address is the endpoint (the API server's usual URL: no resolver thread); a
  // DNS name is resolved, a stop abandoning the lookup.
  std::vector<tcp::endpoint> endpoints;
  ErrorCode literal;
  const asio::ip::address address = asio::ip::make_address(server.host, literal);
  if (!literal) {
    endpoints.emplace_back(address, server.port);
  } else {
    tcp::resolver resolver(loop.io());
    std::optional<ErrorCode> resolved = loop.run([&](auto handler) {
      resolver.async_resolve(
          server.host, std::to_string(server.port),
          [&endpoints, handler](ErrorCode e, const tcp::resolver::results_type& r) mutable {
            for (const auto& entry : r) endpoints.push_back(entry.endpoint());
            handler(e);
          });
    });
    if (!resolved) return HttpResponse{};
    if (*resolved) {
      return makeError(ErrorKind::Transport,
                       "cannot connect to " + server.url + ": " + resolved->message());
    }
  }

  beast::tcp_stream tcpStream(loop.io());
  tcpStream.expires_after(request.timeout);
  std::optional<ErrorCode> ec = loop.run([&](auto handler) {
    tcpStream.async_connect(endpoints,
                            [handler](ErrorCode e, const tcp::endpoint&) mutable { handler(e); });
  });
  if (!ec) return HttpResponse{};
  if (*ec)
    return makeError(ErrorKind::Transport,
                     "cannot connect to " + server.url + ": " + ec->message());
  tcpStream.socket().set_option(tcp::no_delay(true));

  if (!server.tls) {
    return Exchange<beast::tcp_stream>(loop, tcpStream, server, request, where).run(sink, stop);
  }
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  server.tls->configureClient(context.native_handle());
  beast::ssl_stream<beast::tcp_stream> tlsStream(std::move(tcpStream), context);
  server.tls->setServerName(tlsStream.native_handle());
  beast::get_lowest_layer(tlsStream).expires_after(request.timeout);
  ec = loop.run([&](auto handler) {
    tlsStream.async_handshake(asio::ssl::stream_base::client, std::move(handler));
  });
  if (!ec) return HttpResponse{};
  if (*ec) {
    std::string why = server.tls->takeVerifyFailure();
    if (why.empty() && ec->category() == asio::error::get_ssl_category()) {
      why = opensslReason(static_cast<unsigned long>(ec->value()));
    }
    if (why.empty()) why = ec->message();
    return makeError(ErrorKind::Transport, "TLS handshake with " + server.url + " failed: " + why);
  }
  return Exchange<beast::ssl_stream<beast::tcp_stream>>(loop, tlsStream, server, request, where)
      .run(sink, stop);
}

}  // namespace saguard::kube::detail
