// CpprestTransport against an in-process TLS server on a loopback port (port 0):
// server verification by IP address and by host name, refusals with
// messages that say why (wrong CA, name mismatch), client certificates, exact request
// headers and bodies, and streaming: chunks reach the sink while the server is still
// sending, a stop ends a stream promptly from another thread, the idle timeout fires.
// Streams have a connection and TLS set-up of their own (kube/detail/stream_connection.h):
// the verification, refusals and client certificate are checked on that path as well.
// No wall-clock figure is asserted; waits are bounded only so a bug cannot hang the run.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "kube/cpprest_transport.h"
#include "kube/detail/stream_connection.h"
#include "kube/detail/tls.h"
#include "unit/support/gzip.h"
#include "unit/support/test_pki.h"

namespace saguard::kube {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using std::chrono::milliseconds;

using namespace test_pki;  // tests/unit/support/test_pki.h
using test_gzip::gzipped;

// A flag a test opens and a server thread waits on (for at most 10 s).
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string clientCn;  // subject CN of the client certificate, if any
};

// What a handler writes back on one connection.
class Reply {
 public:
  explicit Reply(ssl::stream<tcp::socket>& stream) : stream_(stream) {}
  void raw(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(stream_, asio::buffer(bytes), ec);
  }
  void full(int code, const std::string& body, const std::string& extraHeaders = "") {
    raw("HTTP/1.1 " + std::to_string(code) +
        " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n" + extraHeaders + "\r\n" + body);
  }
  void startChunked() {
    raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  void chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    raw(size + data + "\r\n");
  }
  void endChunked() { raw("0\r\n\r\n"); }
  // Ends the connection where the answer stands (the server reads no further request).
  void close() {
    boost::system::error_code ec;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
  }

 private:
  ssl::stream<tcp::socket>& stream_;
};

class TlsServer {
 public:
  using Handler = std::function<void(const Received&, Reply&)>;
  struct Options {
    std::string certPem = k_server_crt;
    std::string keyPem = k_server_key;
    std::string clientCaPem{};  // non-empty: a client certificate signed by it is required
    std::string address = "127.0.0.1";
  };

  TlsServer(const Options& options, Handler handler)
      : ctx_(ssl::context::tls_server), acceptor_(io_), handler_(std::move(handler)) {
    ctx_.use_certificate_chain(asio::buffer(options.certPem));
    ctx_.use_private_key(asio::buffer(options.keyPem), ssl::context::pem);
    if (!options.clientCaPem.empty()) {
      ctx_.add_certificate_authority(asio::buffer(options.clientCaPem));
      ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    tcp::endpoint endpoint(asio::ip::make_address(options.address), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    acceptThread_ = std::thread([this] { acceptLoop(); });
  }

  ~TlsServer() {
    stopping_ = true;
    boost::system::error_code ec;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept()
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptThread_.join();
    acceptor_.close(ec);
    for (auto& t : connections_) t.join();
  }

  int port() const { return port_; }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      std::lock_guard lock(mu_);
      fds_.push_back(socket.native_handle());
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), ctx_);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    std::string clientCn;
    if (X509* peer = SSL_get1_peer_certificate(stream.native_handle())) {
      char cn[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
      clientCn = cn;
      X509_free(peer);
    }
    asio::streambuf buffer;
    while (!stopping_) {
      std::size_t headerEnd = asio::read_until(stream, buffer, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buffer.data()),
                       asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(headerEnd));
      buffer.consume(headerEnd);
      Received r;
      r.clientCn = clientCn;
      std::istringstream lines(head);
      std::string line;
      std::getline(lines, line);
      std::istringstream requestLine(line);
      requestLine >> r.method >> r.target;
      while (std::getline(lines, line) && line != "\r") {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
        r.headers[name] = value;
      }
      std::size_t length =
          r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
      if (buffer.size() < length) {
        asio::read(stream, buffer, asio::transfer_exactly(length - buffer.size()), ec);
        if (ec) return;
      }
      r.body.assign(asio::buffers_begin(buffer.data()),
                    asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(length));
      buffer.consume(length);
      {
        std::lock_guard lock(mu_);
        received_.push_back(r);
      }
      Reply reply(stream);
      handler_(r, reply);
    }
  }

  asio::io_context io_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  Handler handler_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<int> fds_;
  std::vector<Received> received_;
};

TransportConfig configFor(const std::string& server, const std::string& caPem = k_ca_crt) {
  TransportConfig c;
  c.server = server;
  c.caPem = caPem;
  c.userAgent = "saguard/test";
  return c;
}

std::unique_ptr<CpprestTransport> transportFor(const TransportConfig& config) {
  auto t = CpprestTransport::create(config);
  if (!t) throw std::runtime_error(t.error().describe());
  return std::move(*t);
}

std::string local(const TlsServer& server) {
  return "https://127.0.0.1:" + std::to_string(server.port());
}

TlsServer::Handler answerOk() {
  return [](const Received&, Reply& reply) { reply.full(200, R"({"ok":true})"); };
}

HttpRequest get(const std::string& target = "/api/v1/namespaces/default") {
  HttpRequest r;
  r.target = target;
  r.timeout = milliseconds(10000);
  return r;
}

TEST(CpprestTransport, VerifiesIpAddressAndSendsHeaders) {
  TlsServer server({}, answerOk());
  auto transport = transportFor(configFor(local(server)));
  HttpRequest request = get("/api/v1/namespaces?labelSelector=a%3Db");
  request.authorization = "Bearer t0ken";
  auto response = transport->send(request);
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  auto seen = server.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/api/v1/namespaces?labelSelector=a%3Db");
  EXPECT_EQ(seen[0].headers["user-agent"], "saguard/test");
  EXPECT_EQ(seen[0].headers["authorization"], "Bearer t0ken");
  EXPECT_EQ(seen[0].headers["accept"], "application/json");
  EXPECT_EQ(transport->server(), local(server));
}

TEST(CpprestTransport, SendsBodyWithExactContentType) {
  TlsServer server({}, answerOk());
  auto transport = transportFor(configFor(local(server)));
  HttpRequest request = get("/api/v1/namespaces/a/configmaps/b?fieldManager=saguard&force=true");
  request.method = "PATCH";
  request.body = R"({"data":{"k":"v"}})";
  request.contentType = "application/apply-patch+yaml";
  ASSERT_TRUE(transport->send(request).ok());
  auto seen = server.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PATCH");
  EXPECT_EQ(seen[0].target, "/api/v1/namespaces/a/configmaps/b?fieldManager=saguard&force=true");
  EXPECT_EQ(seen[0].headers["content-type"], "application/apply-patch+yaml");
  EXPECT_EQ(seen[0].body, R"({"data":{"k":"v"}})");
}

TEST(CpprestTransport, ReusesTheConnection) {
  TlsServer server({}, answerOk());
  auto transport = transportFor(configFor(local(server)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(transport->send(get()).ok());
  EXPECT_EQ(server.received().size(), 3u);
}

TEST(CpprestTransport, RefusesIpv6LiteralsItCannotConnectTo) {
  auto r = CpprestTransport::create(configFor("https://[::1]:6443"));
  ASSERT_TRUE(r.is(ErrorKind::Invalid));
  EXPECT_NE(r.error().message.find("IPv6 address literals are not supported"), std::string::npos)
      << r.error().message;
}

TEST(CpprestTransport, KeepsHttpErrorsAsAnswers) {
  TlsServer server({}, [](const Received&, Reply& reply) {
    reply.full(429, R"({"kind":"Status","code":429})", "Retry-After: 3\r\n");
  });
  auto response = transportFor(configFor(local(server)))->send(get());
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 429);
  EXPECT_EQ(response->retryAfter, "3");
  EXPECT_EQ(response->body, R"({"kind":"Status","code":429})");
}

TEST(CpprestTransport, StreamsChunksWhileTheServerIsStillSending) {
  Gate firstSeen;
  std::atomic<bool> serverWaited{false};  // written by the server thread
  TlsServer server({}, [&](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk(R"({"type":"ADDED","object":{"n":)");  // an event split mid-line
    reply.chunk("1}}\n");
    serverWaited = firstSeen.wait();  // only the client's sink can open this
    reply.chunk(R"({"type":"DELETED","object":{"n":1}})"
                "\n");
    reply.endChunked();
  });
  auto transport = transportFor(configFor(local(server)));
  std::string received;
  auto response = transport->stream(get("/api/v1/pods?watch=true"),
                                    [&](std::string_view chunk) {
                                      received.append(chunk);
                                      if (received.find('\n') != std::string::npos)
                                        firstSeen.open();
                                      return Status();
                                    },
                                    {});
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_TRUE(serverWaited) << "the first event did not reach the sink before the stream ended";
  EXPECT_EQ(received, R"({"type":"ADDED","object":{"n":1}})"
                      "\n"
                      R"({"type":"DELETED","object":{"n":1}})"
                      "\n");
}

TEST(CpprestTransport, StopEndsAStreamFromAnotherThread) {
  Gate release;
  TlsServer server({}, [&](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{}\n");
    release.wait();  // an endless stream, as far as the client can tell
  });
  auto transport = transportFor(configFor(local(server)));
  std::stop_source stop;
  std::thread stopper;
  auto streaming = std::async(std::launch::async, [&] {
    return transport->stream(
        get("/api/v1/pods?watch=true"),
        [&](std::string_view) {
          if (!stopper.joinable()) stopper = std::thread([&] { stop.request_stop(); });
          return Status();
        },
        stop.get_token());
  });
  bool ended = streaming.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.open();
  ASSERT_TRUE(ended) << "stop did not end the stream";
  auto response = streaming.get();
  if (stopper.joinable()) stopper.join();
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 200);
}

TEST(CpprestTransport, SinkErrorEndsTheStream) {
  Gate release;
  TlsServer server({}, [&](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{}\n");
    release.wait();
  });
  auto transport = transportFor(configFor(local(server)));
  auto streaming = std::async(std::launch::async, [&] {
    return transport->stream(
        get("/api/v1/pods?watch=true"),
        [](std::string_view) -> Status { return makeError(ErrorKind::Gone, "ERROR event: 410"); },
        {});
  });
  bool ended = streaming.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.open();
  ASSERT_TRUE(ended);
  auto response = streaming.get();
  ASSERT_TRUE(response.is(ErrorKind::Gone));
  EXPECT_EQ(response.error().message, "ERROR event: 410");
}

TEST(CpprestTransport, IdleStreamTimesOut) {
  Gate release;
  TlsServer server({}, [&](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{}\n");
    release.wait();
  });
  auto transport = transportFor(configFor(local(server)));
  HttpRequest request = get("/api/v1/pods?watch=true");
  request.timeout = milliseconds(300);
  std::string received;
  auto response = transport->stream(request,
                                    [&](std::string_view chunk) {
                                      received.append(chunk);
                                      return Status();
                                    },
                                    {});
  release.open();
  ASSERT_TRUE(response.is(ErrorKind::Timeout))
      << (response ? "ended" : response.error().describe());
  EXPECT_NE(response.error().message.find("idle timeout"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(received, "{}\n");
}

TEST(CpprestTransport, StreamReadsErrorAnswersWhole) {
  TlsServer server({}, [](const Received&, Reply& reply) {
    reply.full(410, R"({"kind":"Status","reason":"Expired","code":410})");
  });
  auto transport = transportFor(configFor(local(server)));
  int calls = 0;
  auto response = transport->stream(get("/api/v1/pods?watch=true"),
                                    [&](std::string_view) {
                                      ++calls;
                                      return Status();
                                    },
                                    {});
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 410);
  EXPECT_EQ(response->body, R"({"kind":"Status","reason":"Expired","code":410})");
  EXPECT_EQ(calls, 0);
}

// The body of a streamed answer as the sink received it.
Result<HttpResponse> streamWhole(CpprestTransport& transport, const HttpRequest& request,
                                 std::string& received) {
  return transport.stream(request,
                          [&](std::string_view chunk) {
                            received.append(chunk);
                            return Status();
                          },
                          {});
}

// A transport error (the test then reads its message), or a failure that says what came
// instead: an answer, or another kind of error.
::testing::AssertionResult failedInTransport(const Result<HttpResponse>& response) {
  if (response.is(ErrorKind::Transport)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << (response ? "answered " + std::to_string(response->code) : response.error().describe());
}

TlsServer::Handler answerChunked() {
  return [](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{\"type\":\"ADDED\"}\n");
    reply.endChunked();
  };
}

// The server's verification, the refusals and the client certificate, on both ways a request
// goes: send() (cpprestsdk) and stream() (a connection of its own, with its own TLS set-up).
enum class Path { Send, Stream };

class TlsOnEveryPath : public ::testing::TestWithParam<Path> {
 protected:
  // The request on this test's path; for a stream, the body is what the sink received.
  Result<HttpResponse> exchange(const TransportConfig& config) {
    auto transport = transportFor(config);
    if (GetParam() == Path::Send) return transport->send(get());
    std::string received;
    auto response = streamWhole(*transport, get(), received);
    if (response) response->body = received;
    return response;
  }
};

INSTANTIATE_TEST_SUITE_P(CpprestTransport, TlsOnEveryPath,
                         ::testing::Values(Path::Send, Path::Stream), [](const auto& info) {
                           return info.param == Path::Send ? "Send" : "Stream";
                         });

TEST_P(TlsOnEveryPath, VerifiesHostName) {
  TlsServer server({}, answerOk());
  auto response = exchange(configFor("https://localhost:" + std::to_string(server.port())));
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->body, R"({"ok":true})");
}

TEST_P(TlsOnEveryPath, RefusesCertificateForAnotherAddress) {
  TlsServer::Options options;
  options.certPem = k_mismatch_crt;
  TlsServer server(options, answerOk());
  auto response = exchange(configFor(local(server)));
  ASSERT_TRUE(failedInTransport(response));
  const std::string& m = response.error().message;
  EXPECT_EQ(
      m.rfind("TLS handshake with " + local(server) + " failed: certificate verify failed: ", 0),
      0u)
      << m;
  EXPECT_NE(m.find("not valid for 127.0.0.1"), std::string::npos) << m;
  EXPECT_TRUE(server.received().empty());
}

TEST_P(TlsOnEveryPath, RefusesCertificateForAnotherName) {
  TlsServer::Options options;
  options.certPem = k_mismatch_crt;
  TlsServer server(options, answerOk());
  auto response = exchange(configFor("https://localhost:" + std::to_string(server.port())));
  ASSERT_TRUE(failedInTransport(response));
  EXPECT_NE(response.error().message.find("not valid for localhost"), std::string::npos)
      << response.error().message;
  EXPECT_TRUE(server.received().empty());
}

TEST_P(TlsOnEveryPath, RefusesUnknownCa) {
  TlsServer server({}, answerOk());
  auto response = exchange(configFor(local(server), k_other_ca_crt));
  ASSERT_TRUE(failedInTransport(response));
  EXPECT_EQ(response.error().message.rfind(
                "TLS handshake with " + local(server) +
                    " failed: certificate verify failed: unable to get local issuer certificate",
                0),
            0u)
      << response.error().message;
  EXPECT_TRUE(server.received().empty());
}

TEST_P(TlsOnEveryPath, InsecureSkipsVerification) {
  TlsServer::Options options;
  options.certPem = k_mismatch_crt;
  TlsServer server(options, answerOk());
  TransportConfig config = configFor(local(server), "");
  config.insecureSkipTlsVerify = true;
  auto response = exchange(config);
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->body, R"({"ok":true})");
}

TEST_P(TlsOnEveryPath, PresentsClientCertificate) {
  TlsServer::Options options;
  options.clientCaPem = k_ca_crt;
  TlsServer server(options, answerOk());
  TransportConfig config = configFor(local(server));
  config.clientCertPem = k_client_crt;
  config.clientKeyPem = k_client_key;
  auto response = exchange(config);
  ASSERT_TRUE(response.ok()) << response.error().describe();
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].clientCn, "test-user");

  // Without one, no request gets through (with TLS 1.3 the server's refusal may come after
  // the client's handshake is done, as an error or a closed connection).
  auto anonymous = exchange(configFor(local(server)));
  EXPECT_FALSE(anonymous.ok() && anonymous->code == 200) << "answered without a client certificate";
  EXPECT_EQ(server.received().size(), 1u);
}

TEST_P(TlsOnEveryPath, SaysWhenItCannotConnect) {
  int port;
  {
    TlsServer server({}, answerOk());
    port = server.port();
  }
  auto response = exchange(configFor("https://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(failedInTransport(response));
  EXPECT_EQ(response.error().message.rfind(
                "cannot connect to https://127.0.0.1:" + std::to_string(port), 0),
            0u)
      << response.error().message;
}

TEST(CpprestTransport, AStreamSendsItsHeaders) {
  TlsServer server({}, answerChunked());
  HttpRequest request = get("/api/v1/pods?watch=true&resourceVersion=1");
  request.authorization = "Bearer t0ken";
  request.accept = "application/vnd.kubernetes.protobuf;stream=watch";
  std::string received;
  auto response = streamWhole(*transportFor(configFor(local(server))), request, received);
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->code, 200);
  EXPECT_EQ(received, "{\"type\":\"ADDED\"}\n");
  auto seen = server.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/api/v1/pods?watch=true&resourceVersion=1");
  EXPECT_EQ(seen[0].headers["host"], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].headers["user-agent"], "saguard/test");
  EXPECT_EQ(seen[0].headers["authorization"], "Bearer t0ken");
  EXPECT_EQ(seen[0].headers["accept"], "application/vnd.kubernetes.protobuf;stream=watch");
  EXPECT_EQ(seen[0].headers.count("accept-encoding"), 0u);
}

TEST(CpprestTransport, AStreamCapsAnErrorAnswer) {
  TlsServer server({}, [](const Received&, Reply& reply) {
    reply.full(500, std::string(detail::kMaxErrorBody + 1, 'x'));
  });
  std::string received;
  auto response = streamWhole(*transportFor(configFor(local(server))), get(), received);
  ASSERT_TRUE(failedInTransport(response));
  EXPECT_NE(response.error().message.find("the 500 answer exceeds"), std::string::npos)
      << response.error().message;
  EXPECT_TRUE(received.empty());
}

TEST(CpprestTransport, AStreamEndedByTheServerMidChunkIsBroken) {
  TlsServer server({}, [](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{\"type\":\"ADDED\"}\n");
    reply.raw("40\r\n{\"type\"");  // a chunk of 64 bytes, cut short by the close
    reply.close();
  });
  std::string received;
  auto response = streamWhole(*transportFor(configFor(local(server))), get(), received);
  ASSERT_TRUE(failedInTransport(response));
  EXPECT_EQ(response.error().message.rfind("stream broken after 200: GET " + local(server), 0), 0u)
      << response.error().message;
  EXPECT_EQ(received.rfind("{\"type\":\"ADDED\"}\n", 0), 0u) << received;
}

// Whole answers are asked for gzip-encoded (as client-go does) and inflated, whether the
// server sends them with a length or in chunks; the server may also answer plainly.
TEST(CpprestTransport, AsksForGzipAndInflatesTheAnswer) {
  std::string list = R"({"kind":"PodList","items":[)";
  for (int i = 0; i < 3000; ++i)
    list += std::string(i ? "," : "") + R"({"metadata":{"name":"p)" + std::to_string(i) + R"("}})";
  list += "]}";
  const std::string compressed = gzipped(list);
  TlsServer server({}, [&](const Received& r, Reply& reply) {
    if (r.target == "/length") {
      reply.full(200, compressed, "Content-Encoding: gzip\r\n");
    } else if (r.target == "/chunked") {
      reply.raw(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
      for (std::size_t at = 0; at < compressed.size(); at += 1000)
        reply.chunk(compressed.substr(at, 1000));
      reply.endChunked();
    } else {
      reply.full(200, R"({"plain":true})");
    }
  });
  auto transport = transportFor(configFor(local(server)));
  for (const char* target : {"/length", "/chunked"}) {
    auto response = transport->send(get(target));
    ASSERT_TRUE(response.ok()) << target << ": " << response.error().describe();
    EXPECT_EQ(response->code, 200);
    EXPECT_EQ(response->body, list) << target;
  }
  auto plain = transport->send(get("/plain"));
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  EXPECT_EQ(plain->body, R"({"plain":true})");
  for (const auto& seen : server.received())
    EXPECT_EQ(seen.headers.at("accept-encoding"), "gzip") << seen.target;
}

TEST(CpprestTransport, AWatchStreamIsNotAskedForGzip) {
  TlsServer server({}, [](const Received&, Reply& reply) {
    reply.startChunked();
    reply.chunk("{}\n");
    reply.endChunked();
  });
  auto response =
      transportFor(configFor(local(server)))
          ->stream(get("/api/v1/pods?watch=true"), [](std::string_view) { return Status(); }, {});
  ASSERT_TRUE(response.ok()) << response.error().describe();
  auto seen = server.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers.count("accept-encoding"), 0u);
}

// A body that does not inflate is no usable answer: a Transport error that says where
// and why (handled as a broken connection is), never garbage as a body.
TEST(CpprestTransport, RefusesACorruptOrUnaskedForEncoding) {
  TlsServer server({}, [](const Received& r, Reply& reply) {
    if (r.target == "/corrupt") {
      reply.full(200, R"({"not":"gzip"})", "Content-Encoding: gzip\r\n");
    } else if (r.target == "/truncated") {
      const std::string whole = gzipped(std::string(5000, 'x'));
      reply.full(200, whole.substr(0, whole.size() / 2), "Content-Encoding: gzip\r\n");
    } else {
      reply.full(200, "{}", "Content-Encoding: br\r\n");
    }
  });
  auto transport = transportFor(configFor(local(server)));
  for (const char* target : {"/corrupt", "/truncated", "/brotli"}) {
    auto response = transport->send(get(target));
    ASSERT_FALSE(response.ok()) << target;
    EXPECT_EQ(response.kind(), ErrorKind::Transport) << target;
    EXPECT_NE(response.error().message.find(std::string("GET ") + local(server) + target +
                                            ": reading the answer: "),
              std::string::npos)
        << response.error().message;
  }
}

TEST(CpprestTransport, AConfiguredCaSkipsLoadingTheSystemStore) {
  // cpprestsdk would parse the system store into every connection's context only for
  // TlsContext to replace it: with a CA configured, OpenSSL's default file is /dev/null.
  // Verification against the configured CA is unchanged (VerifiesIpAddressAndSendsHeaders
  // and RefusesUnknownCa run with it set).
  ::setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt", 1);  // as on many machines
  auto transport = transportFor(configFor("https://127.0.0.1:1"));
  const char* after = std::getenv("SSL_CERT_FILE");
  ASSERT_NE(after, nullptr);
  EXPECT_STREQ(after, "/dev/null");
}

// A transport that trusts the system store (no CA) made after one with a CA gets
// SSL_CERT_FILE back as it was, set or unset, not an empty store.
TEST(CpprestTransport, ATransportWithoutCaGetsTheSystemStoreBack) {
  ::setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt", 1);
  transportFor(configFor("https://127.0.0.1:1"));
  ASSERT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");
  transportFor(configFor("https://127.0.0.1:1", /*caPem=*/""));
  ASSERT_NE(std::getenv("SSL_CERT_FILE"), nullptr);
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt");

  ::unsetenv("SSL_CERT_FILE");
  transportFor(configFor("https://127.0.0.1:1"));
  ASSERT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");
  transportFor(configFor("https://127.0.0.1:1", /*caPem=*/""));
  EXPECT_EQ(std::getenv("SSL_CERT_FILE"), nullptr);
  // And a CA again skips the store again.
  transportFor(configFor("https://127.0.0.1:1"));
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");
}

TEST(CpprestTransport, CreateValidatesConfiguration) {
  EXPECT_TRUE(CpprestTransport::create(configFor("not a url")).is(ErrorKind::Invalid));
  EXPECT_TRUE(CpprestTransport::create(configFor("ftp://h:1")).is(ErrorKind::Invalid));
  EXPECT_TRUE(CpprestTransport::create(configFor("https://h:1", "junk")).is(ErrorKind::Invalid));
  TransportConfig mismatched = configFor("https://h:1");
  mismatched.clientCertPem = k_client_crt;
  mismatched.clientKeyPem = k_other_key;
  auto r = CpprestTransport::create(mismatched);
  ASSERT_TRUE(r.is(ErrorKind::Invalid));
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos);
  TransportConfig keyless = configFor("https://h:1");
  keyless.clientCertPem = k_client_crt;
  EXPECT_TRUE(CpprestTransport::create(keyless).is(ErrorKind::Invalid));
}

TEST(TlsPem, ParsesBundlesAndRejectsJunk) {
  auto two = detail::parseCertificates(std::string(k_ca_crt) + k_other_ca_crt);
  ASSERT_TRUE(two.ok()) << two.error().describe();
  EXPECT_EQ(two->size(), 2u);
  EXPECT_TRUE(detail::parseCertificates("").is(ErrorKind::Invalid));
  EXPECT_TRUE(
      detail::parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
          .is(ErrorKind::Invalid));
  EXPECT_TRUE(detail::parsePrivateKey(k_client_key).ok());
  EXPECT_TRUE(detail::parsePrivateKey(k_client_crt).is(ErrorKind::Invalid));
  auto cert = detail::parseCertificates(k_client_crt);
  auto key = detail::parsePrivateKey(k_client_key);
  auto other = detail::parsePrivateKey(k_other_key);
  ASSERT_TRUE(cert.ok() && key.ok() && other.ok());
  EXPECT_TRUE(detail::checkKeyPair(cert->front().get(), key->get()).ok());
  EXPECT_FALSE(detail::checkKeyPair(cert->front().get(), other->get()).ok());
}

}  // namespace
}  // namespace saguard::kube
