// The audit webhook receiver, on 127.0.0.1 port 0, spoken to by a real TLS client (Boost.Beast,
// asynchronous with a 10 s deadline per step so a server that never answers fails the test
// rather than hanging it): client certificates decide who is heard, bodies reach the handler
// byte for byte, oversized bodies and other methods are answered without reaching it, and the
// start-up errors name what to fix. Certificates that chain to another CA are made here with
// tests/support/certificates.h (tests/unit/support/test_pki.h has the other CA's certificate,
// not its key).
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evidence/webhook_server.h"
#include "support/certificates.h"
#include "support/temp_dir.h"
#include "unit/support/test_pki.h"

namespace saguard::evidence {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;
using namespace kube::test_pki;

// ---------------------------------------------------------------------------------------
// Certificates made at run time (tests/support/certificates.h): a client certificate for
// the same user and key as k_client_crt, but issued by a CA the server does not trust.

// A PEM certificate for `subjectKey`, named `subject`, signed by `issuerKey` in the name of
// `issuer`.
std::string issue(const char* subject, EVP_PKEY* subjectKey, const char* issuer,
                  EVP_PKEY* issuerKey, bool isCa) {
  const char* usage = isCa ? "critical,CA:TRUE" : "critical,CA:FALSE";
  return test_support::certificatePem(
      test_support::issue({.subject = subject,
                           .subjectKey = subjectKey,
                           .issuer = issuer,
                           .issuerKey = issuerKey,
                           .extensions = {{NID_basic_constraints, usage}}})
          .get());
}

// test-user's key, issued by "other-ca" (a CA made with k_other_key); the chain is sent whole.
std::string certificateFromOtherCa() {
  auto caKey = test_support::readKey(k_other_key);
  auto userKey = test_support::readKey(k_client_key);
  return issue("test-user", userKey.get(), "other-ca", caKey.get(), false) +
         issue("other-ca", caKey.get(), "other-ca", caKey.get(), true);
}

// test-user's key, naming test-ca as its issuer but signed with another key.
std::string forgedCertificate() {
  auto forgerKey = test_support::readKey(k_other_key);
  auto userKey = test_support::readKey(k_client_key);
  return issue("test-user", userKey.get(), "test-ca", forgerKey.get(), false);
}

// ---------------------------------------------------------------------------------------
// The client: one TLS connection, every step asynchronous with a 10 s deadline.

struct ClientOptions {
  std::string certPem = k_client_crt;  // "" = present no client certificate
  std::string keyPem = k_client_key;
  int maxVersion = 0;  // e.g. TLS1_2_VERSION; 0 = the newest
  int minVersion = 0;
};

struct Reply {
  beast::error_code error;  // the first step that failed; then the rest is empty
  int status = 0;
  std::string body;
  std::string allow;
  bool keepAlive = false;
};

class Client {
 public:
  explicit Client(std::uint16_t port, const ClientOptions& options = {})
      : port_(port), tls_(context(options)) {}

  // Connects and completes the TLS handshake (as the client sees it: with TLS 1.3 a
  // refused client certificate shows only on the next read).
  beast::error_code open() {
    beast::error_code ec = run([&](auto done) {
      beast::get_lowest_layer(stream_).async_connect(
          tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), done);
    });
    if (ec) return ec;
    return run([&](auto done) { stream_.async_handshake(ssl::stream_base::client, done); });
  }

  Reply send(http::request<http::string_body> request) {
    request.prepare_payload();
    Reply reply;
    reply.error = run([&](auto done) { http::async_write(stream_, request, done); });
    if (reply.error) return reply;
    return read();
  }

  Reply post(std::string body, std::string target = "/") {
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.set(http::field::host, "127.0.0.1");
    request.body() = std::move(body);
    return send(std::move(request));
  }

  // Writes bytes as they are, then reads one answer.
  Reply sendRaw(const std::string& bytes) {
    Reply reply;
    reply.error = run([&](auto done) { net::async_write(stream_, net::buffer(bytes), done); });
    if (reply.error) return reply;
    return read();
  }

  // Reads until the server closes: the error that ended it (beast::error::timeout when
  // the server kept the connection open for 10 s).
  beast::error_code readUntilClosed() {
    for (;;) {
      beast::error_code ec =
          run([&](auto done) { stream_.async_read_some(buffer_.prepare(4096), done); });
      if (ec) return ec;
      buffer_.consume(buffer_.size());
    }
  }

 private:
  Reply read() {
    Reply reply;
    http::response<http::string_body> response;
    reply.error = run([&](auto done) { http::async_read(stream_, buffer_, response, done); });
    if (reply.error) return reply;
    reply.status = response.result_int();
    reply.body = response.body();
    reply.allow = std::string(response[http::field::allow]);
    reply.keepAlive = response.keep_alive();
    return reply;
  }

  // Made whole before the stream: a stream's SSL object copies the certificate it has then.
  static ssl::context context(const ClientOptions& options) {
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_peer);
    tls.add_certificate_authority(net::buffer(std::string(k_ca_crt)));
    if (!options.certPem.empty()) {
      tls.use_certificate_chain(net::buffer(options.certPem));
      tls.use_private_key(net::buffer(options.keyPem), ssl::context::pem);
    }
    SSL_CTX* ctx = tls.native_handle();
    if (options.maxVersion != 0) SSL_CTX_set_max_proto_version(ctx, options.maxVersion);
    if (options.minVersion != 0) {  // let the client offer an old TLS
      SSL_CTX_set_min_proto_version(ctx, options.minVersion);
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
    }
    return tls;
  }

  template <typename Start>
  beast::error_code run(Start start) {
    beast::get_lowest_layer(stream_).expires_after(10s);
    std::optional<beast::error_code> result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result.value_or(net::error::operation_aborted);
  }

  std::uint16_t port_;
  net::io_context io_;
  ssl::context tls_;
  beast::ssl_stream<beast::tcp_stream> stream_{io_, tls_};
  beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------------------------------

// Polls (every millisecond, for 10 s at most) for what the server thread does after the
// client has its answer: hooks run once the answer is written.
template <typename Predicate>
bool eventually(Predicate done) {
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(1ms)) {
    if (done()) return true;
  }
  return done();
}

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("tls.crt", k_server_crt);
    dir_.write("tls.key", k_server_key);
    dir_.write("client-ca.crt", k_ca_crt);
  }

  std::string write(const std::string& name, const std::string& content) {
    return dir_.write(name, content);
  }

  WebhookServerOptions options() const {
    return {.bindAddress = "127.0.0.1:0",
            .certFile = dir_.file("tls.crt"),
            .keyFile = dir_.file("tls.key"),
            .clientCaFile = dir_.file("client-ca.crt")};
  }

  // Records every body; answers `answer`.
  BatchHandler recording(WebhookAnswer answer = {200, "ok"}) {
    return [this, answer](std::string& body) {
      std::lock_guard lock(mu_);
      bodies_.push_back(body);
      paddedEnough_ = paddedEnough_ && body.capacity() >= body.size() + 64;
      return answer;
    };
  }

  WebhookHooks hooks() {
    return {.onRequest =
                [this](int status, double seconds) {
                  std::lock_guard lock(mu_);
                  answered_.push_back(status);
                  nonNegativeTimes_ = nonNegativeTimes_ && seconds >= 0;
                },
            .onHandshakeRefused = [this] { ++refused_; }};
  }

  std::unique_ptr<WebhookServer> serve(WebhookServerOptions o, BatchHandler handler) {
    auto server = WebhookServer::start(std::move(o), std::move(handler), hooks());
    EXPECT_TRUE(server.ok()) << server.error().describe();
    return server.ok() ? std::move(*server) : nullptr;
  }
  std::unique_ptr<WebhookServer> serve() { return serve(options(), recording()); }

  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<int> answered() {
    std::lock_guard lock(mu_);
    return answered_;
  }

  test_support::TempDir dir_{"saguard-webhook-"};
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<int> answered_;
  std::atomic<bool> paddedEnough_{true};
  std::atomic<bool> nonNegativeTimes_{true};
  std::atomic<int> refused_{0};
};

const std::string kBatch =
    R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"level":"Metadata",)"
    R"("auditID":"0b7c","requestURI":"/api/v1/namespaces/d\u00e9mo/pods","user":{"username":)"
    R"("system:serviceaccount:demo:builder"}}]})";

// ---------------------------------------------------------------------------------------

TEST_F(WebhookServerTest, APostWithAClientCertificateReachesTheHandlerAsSent) {
  auto server = serve(options(), recording({202, "queued"}));
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open()) << "handshake";
  // No Content-Type at all, and any path: neither is checked.
  const Reply reply = client.post(kBatch, "/audit/v1?timeout=30s");
  ASSERT_FALSE(reply.error) << reply.error.message();
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, "queued\n");
  EXPECT_EQ(bodies(), std::vector<std::string>{kBatch});
  EXPECT_TRUE(paddedEnough_) << "the body must come with simdjson's 64 bytes of spare capacity";
  ASSERT_TRUE(eventually([&] { return answered().size() == 1; }));
  EXPECT_EQ(answered(), std::vector<int>{202});
  EXPECT_TRUE(nonNegativeTimes_);
  EXPECT_EQ(refused_, 0);
}

TEST_F(WebhookServerTest, KeepsTheConnectionForTheNextBatch) {
  auto server = serve();
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  const Reply first = client.post("first");
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_TRUE(first.keepAlive);
  const Reply second = client.post("second");  // same connection
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(bodies(), (std::vector<std::string>{"first", "second"}));
}

TEST_F(WebhookServerTest, AnEmptyBodyIsHandedOverToo) {
  auto server = serve();
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  EXPECT_EQ(client.post("").status, 200);
  EXPECT_EQ(bodies(), std::vector<std::string>{""});
  EXPECT_TRUE(paddedEnough_);
}

// With TLS 1.2 the client sees the refusal in its handshake; with TLS 1.3 on its first read.
void expectRefused(std::uint16_t port, const ClientOptions& options) {
  Client client(port, options);
  beast::error_code ec = client.open();
  if (!ec) ec = client.post(kBatch).error;
  EXPECT_TRUE(ec) << "a client without a trusted certificate was answered";
}

TEST_F(WebhookServerTest, AClientWithoutACertificateIsRefusedInTheHandshake) {
  auto server = serve();
  ASSERT_TRUE(server);
  int expected = 0;
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    expectRefused(server->port(), {.certPem = "", .keyPem = "", .maxVersion = version});
    EXPECT_TRUE(eventually([&] { return refused_ == expected + 1; })) << refused_;
    ++expected;
  }
  EXPECT_TRUE(bodies().empty());
  EXPECT_TRUE(answered().empty());
}

TEST_F(WebhookServerTest, ACertificateFromAnotherCaIsRefused) {
  auto server = serve();
  ASSERT_TRUE(server);
  int expected = 0;
  for (const std::string& cert : {certificateFromOtherCa(), forgedCertificate()}) {
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
      expectRefused(server->port(), {.certPem = cert, .maxVersion = version});
      EXPECT_TRUE(eventually([&] { return refused_ == expected + 1; })) << refused_;
      ++expected;
    }
  }
  EXPECT_TRUE(bodies().empty());
  // The same key with the certificate test-ca issued is heard: the issuer made the difference.
  Client client(server->port());
  ASSERT_FALSE(client.open());
  EXPECT_EQ(client.post(kBatch).status, 200);
}

// test-ca signed it, but for serving (extendedKeyUsage serverAuth only), not for clients.
TEST_F(WebhookServerTest, AServingCertificateIsNotAClientCertificate) {
  auto server = serve();
  ASSERT_TRUE(server);
  expectRefused(server->port(), {.certPem = k_server_crt, .keyPem = k_server_key});
  EXPECT_TRUE(eventually([&] { return refused_ == 1; })) << refused_;
  EXPECT_TRUE(bodies().empty());
}

TEST_F(WebhookServerTest, PlainHttpAndOldTlsAreRefused) {
  auto server = serve();
  ASSERT_TRUE(server);
  {
    net::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
    net::write(socket, net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\n\r\n")));
  }
  EXPECT_TRUE(eventually([&] { return refused_ == 1; })) << refused_;
  Client old(server->port(), {.maxVersion = TLS1_1_VERSION, .minVersion = TLS1_VERSION});
  EXPECT_TRUE(old.open()) << "a TLS 1.1 handshake succeeded";
  EXPECT_TRUE(eventually([&] { return refused_ == 2; })) << refused_;
  EXPECT_TRUE(bodies().empty());
}

TEST_F(WebhookServerTest, ABodyOverTheLimitIsAnswered413WithoutReachingTheHandler) {
  WebhookServerOptions o = options();
  o.maxBodyBytes = 1024;
  auto server = serve(o, recording());
  ASSERT_TRUE(server);
  {
    Client client(server->port());
    ASSERT_FALSE(client.open());
    const Reply reply = client.post(std::string(1025, 'x'));
    ASSERT_FALSE(reply.error) << reply.error.message();
    EXPECT_EQ(reply.status, 413);
    EXPECT_NE(reply.body.find("1024"), std::string::npos) << reply.body;
    EXPECT_FALSE(reply.keepAlive);
    const beast::error_code end = client.readUntilClosed();
    EXPECT_NE(end, beast::error::timeout) << "the connection must be closed after a 413";
  }
  {  // A chunked body has no Content-Length: the limit is found while reading.
    Client client(server->port());
    ASSERT_FALSE(client.open());
    http::request<http::string_body> request(http::verb::post, "/", 11);
    request.body() = std::string(4096, 'y');
    request.chunked(true);
    EXPECT_EQ(client.send(std::move(request)).status, 413);
  }
  EXPECT_TRUE(bodies().empty());
  {  // Exactly the limit is fine.
    Client client(server->port());
    ASSERT_FALSE(client.open());
    EXPECT_EQ(client.post(std::string(1024, 'z')).status, 200);
  }
  ASSERT_TRUE(eventually([&] { return answered().size() == 3; }));
  EXPECT_EQ(answered(), (std::vector<int>{413, 413, 200}));
}

TEST_F(WebhookServerTest, OtherMethodsAreAnswered405) {
  auto server = serve();
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  for (http::verb method : {http::verb::get, http::verb::put, http::verb::delete_}) {
    http::request<http::string_body> request(method, "/", 11);
    const Reply reply = client.send(std::move(request));
    ASSERT_FALSE(reply.error) << reply.error.message();
    EXPECT_EQ(reply.status, 405);
    EXPECT_EQ(reply.allow, "POST");
    EXPECT_TRUE(reply.keepAlive);
  }
  EXPECT_TRUE(bodies().empty());
}

TEST_F(WebhookServerTest, TheHandlersStatusIsPassedThrough) {
  auto server = serve(options(), recording({400, "not an EventList"}));
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  const Reply reply = client.post("[]");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, "not an EventList\n");
}

TEST_F(WebhookServerTest, AHandlerThatThrowsOrAnswersNonsenseIsAnswered500) {
  int calls = 0;
  auto server = serve(options(), [&](std::string& body) -> WebhookAnswer {
    if (++calls == 1) throw std::runtime_error("cannot decode " + body);
    return {42, "what"};
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  const Reply thrown = client.post("secret-uri");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body.find("secret-uri"), std::string::npos) << thrown.body;
  EXPECT_EQ(client.post("x").status, 500);  // the connection survived
}

TEST_F(WebhookServerTest, AMalformedRequestIsAnswered400AndClosed) {
  auto server = serve();
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  const Reply reply = client.sendRaw("POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(client.readUntilClosed(), beast::error::timeout);
  EXPECT_TRUE(bodies().empty());
}

TEST_F(WebhookServerTest, AnIdleConnectionIsClosed) {
  WebhookServerOptions o = options();
  o.idleTimeout = 1s;
  auto server = serve(o, recording());
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  EXPECT_NE(client.readUntilClosed(), beast::error::timeout);
}

TEST_F(WebhookServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  WebhookServerOptions o = options();
  o.maxConnections = 1;
  auto server = serve(o, recording());
  ASSERT_TRUE(server);
  Client first(server->port());
  ASSERT_FALSE(first.open());
  Client second(server->port());
  beast::error_code ec = second.open();
  if (!ec) ec = second.post("x").error;
  EXPECT_TRUE(ec) << "a second connection was served";
  EXPECT_EQ(first.post("still here").status, 200);
  EXPECT_EQ(bodies(), std::vector<std::string>{"still here"});
}

TEST_F(WebhookServerTest, StopClosesIdleConnectionsAndJoins) {
  auto server = serve();
  ASSERT_TRUE(server);
  Client client(server->port());
  ASSERT_FALSE(client.open());
  ASSERT_EQ(client.post("x").status, 200);  // now idle, kept alive
  server->stop();                           // returns: the I/O thread has been joined
  EXPECT_NE(client.readUntilClosed(), beast::error::timeout);
  server->stop();  // again: nothing to do
  server.reset();
}

TEST_F(WebhookServerTest, ListensOnEveryInterfaceOrLocalhost) {
  for (const char* address : {":0", "localhost:0"}) {
    SCOPED_TRACE(address);
    WebhookServerOptions o = options();
    o.bindAddress = address;
    auto server = serve(o, recording());
    ASSERT_TRUE(server);
    EXPECT_NE(server->port(), 0);
    Client client(server->port());
    ASSERT_FALSE(client.open());
    EXPECT_EQ(client.post("x").status, 200);
  }
}

// ---------------------------------------------------------------------------------------
// Start-up errors

void expectError(const Result<std::unique_ptr<WebhookServer>>& started, ErrorKind kind,
                 std::initializer_list<std::string> mentions) {
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.kind(), kind) << started.error().describe();
  for (const std::string& word : mentions) {
    EXPECT_NE(started.error().message.find(word), std::string::npos)
        << "\"" << started.error().message << "\" does not mention " << word;
  }
}

TEST_F(WebhookServerTest, ABadBindAddressIsInvalid) {
  for (const char* address : {"", "8443", "127.0.0.1", ":", ":http", "127.0.0.1:65536",
                              "127.0.0.1:-1", "example.com:8443", "::1:8443", "300.1.1.1:8443"}) {
    WebhookServerOptions o = options();
    o.bindAddress = address;
    SCOPED_TRACE(address);
    expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid,
                {"WebhookServerOptions.bindAddress", "\"" + std::string(address) + "\""});
  }
}

TEST_F(WebhookServerTest, BadOptionsAreInvalidAndNameTheField) {
  WebhookServerOptions o = options();
  o.maxBodyBytes = 0;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"maxBodyBytes"});
  o = options();
  o.idleTimeout = 0s;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"idleTimeout"});
  o = options();
  o.maxConnections = 0;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"maxConnections"});
  expectError(WebhookServer::start(options(), nullptr), ErrorKind::Invalid, {"BatchHandler"});
}

TEST_F(WebhookServerTest, UnusableCertificatesAreInvalidAndNameTheFile) {
  const std::string missing = dir_.file("missing.crt");
  const std::string garbage = write("garbage.pem", "not PEM at all\n");
  const std::string otherKey = write("other.key", k_other_key);

  WebhookServerOptions o = options();
  o.certFile = missing;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid,
              {"certFile", missing, "No such file"});
  o = options();
  o.certFile = garbage;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"certFile", garbage});
  o = options();
  o.keyFile = garbage;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"keyFile", garbage});
  o = options();
  o.keyFile = otherKey;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"keyFile", otherKey});
  o = options();
  o.clientCaFile = garbage;
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid, {"clientCaFile", garbage});
  o = options();
  o.clientCaFile = "";
  expectError(WebhookServer::start(o, recording()), ErrorKind::Invalid,
              {"clientCaFile is required"});
}

TEST_F(WebhookServerTest, APortInUseIsUnavailable) {
  auto first = serve();
  ASSERT_TRUE(first);
  WebhookServerOptions o = options();
  o.bindAddress = "127.0.0.1:" + std::to_string(first->port());
  expectError(WebhookServer::start(o, recording()), ErrorKind::Unavailable,
              {o.bindAddress, "in use"});
}

}  // namespace
}  // namespace saguard::evidence
