// In-cluster configuration always verifies the API server against the pod's ca.crt:
// no environment variable turns verification off or swaps the trust store, a missing,
// empty or malformed ca.crt is an error (never a fall-back to the system store or to no
// verification), and the client built from the configuration (makeRestClient, exactly
// what main.cpp does) completes a TLS handshake only with a server whose certificate
// that CA signed. The server is an in-process OpenSSL listener on a loopback port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "kube/config.h"
#include "kube/rest_client.h"
#include "unit/support/test_pki.h"

namespace saguard::kube {
namespace {

using namespace test_pki;  // tests/unit/support/test_pki.h

constexpr const char* kToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";

FileReader filesOf(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return makeError(ErrorKind::NotFound, "No such file or directory");
    return it->second;
  };
}

// An environment in which every variable is set, most to values that would mean "skip
// verification" or "trust something else" if any of them were read.
Environment hostileEnvironment(std::string host, std::string port) {
  return [host, port](std::string_view name) -> std::optional<std::string> {
    if (name == "KUBERNETES_SERVICE_HOST") return host;
    if (name == "KUBERNETES_SERVICE_PORT") return port;
    if (name == "KUBECONFIG") return std::nullopt;  // a kubeconfig is not in-cluster mode
    if (name == "HOME") return std::string("/nonexistent");
    if (name.find("CERT") != std::string_view::npos || name.find("CA") != std::string_view::npos)
      return std::string("/sa/other-ca.crt");
    return std::string("true");  // INSECURE, SKIP_TLS_VERIFY, KUBERNETES_INSECURE, ...
  };
}

const InClusterOptions kPaths{"/sa/token", "/sa/ca.crt", "/sa/namespace"};

std::map<std::string, std::string> podFiles(std::string caPem) {
  return {{"/sa/token", std::string(kToken) + "\n"},
          {"/sa/ca.crt", std::move(caPem)},
          {"/sa/other-ca.crt", k_other_ca_crt},
          {"/sa/namespace", "saguard-system\n"}};
}

TEST(InClusterTls, VerifiesAgainstCaCrtWhateverTheEnvironmentSays) {
  for (const char* host : {"10.96.0.1", "fd00:10:96::1", "kubernetes.default.svc"}) {
    auto config =
        inClusterConfig(kPaths, hostileEnvironment(host, "443"), filesOf(podFiles(k_ca_crt)));
    ASSERT_TRUE(config.ok()) << host << ": " << config.error().describe();
    EXPECT_FALSE(config->insecureSkipTlsVerify) << host;
    EXPECT_EQ(config->caPem, k_ca_crt) << host << ": the CA must be ca.crt, byte for byte";
    EXPECT_TRUE(config->server.starts_with("https://")) << config->server;
  }
  // The same through loadConfig, the path main.cpp takes when no kubeconfig is given.
  auto loaded = loadConfig(LoadOptions{.inCluster = kPaths}, hostileEnvironment("10.96.0.1", "443"),
                           filesOf(podFiles(k_ca_crt)));
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_NE(loaded->source.find("in-cluster"), std::string::npos) << loaded->source;
  EXPECT_FALSE(loaded->insecureSkipTlsVerify);
  EXPECT_EQ(loaded->caPem, k_ca_crt);
}

TEST(InClusterTls, NoUsableCaCrtIsAnErrorNotAnUnverifiedConnection) {
  auto env = hostileEnvironment("10.96.0.1", "443");
  auto files = podFiles(k_ca_crt);
  files.erase("/sa/ca.crt");
  EXPECT_FALSE(inClusterConfig(kPaths, env, filesOf(files)).ok()) << "ca.crt missing";
  for (const char* bad : {"", "\n", "not a certificate\n",
                          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
    auto config = inClusterConfig(kPaths, env, filesOf(podFiles(bad)));
    ASSERT_FALSE(config.ok()) << "ca.crt = \"" << bad << "\" was accepted";
    EXPECT_EQ(config.kind(), ErrorKind::Invalid);
    EXPECT_NE(config.error().message.find("/sa/ca.crt"), std::string::npos)
        << config.error().message;
  }
}

// A TLS server on 127.0.0.1 (certificate server.crt, signed by test-ca) that answers
// every request it can read with 200 and "{}", and counts them.
class TlsServer {
 public:
  TlsServer() {
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* certBio = BIO_new_mem_buf(k_server_crt, -1);
    X509* cert = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
    BIO* keyBio = BIO_new_mem_buf(k_server_key, -1);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx_, cert);
    SSL_CTX_use_PrivateKey(ctx_, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(certBio);
    BIO_free(keyBio);

    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    ::shutdown(listen_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_);
    SSL_CTX_free(ctx_);
  }

  std::string port() const { return std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int failedHandshakes() const { return failedHandshakes_.load(); }

 private:
  void serve() {
    while (true) {
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      timeval tv{.tv_sec = 10, .tv_usec = 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, static_cast<std::size_t>(n));
        }
        if (request.find("\r\n\r\n") != std::string::npos) {
          ++requests_;
          const std::string answer =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\n{}";
          SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
        }
        SSL_shutdown(ssl);
      } else {
        ++failedHandshakes_;
      }
      SSL_free(ssl);
      ::close(fd);
      ERR_clear_error();
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listen_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::atomic<int> failedHandshakes_{0};
};

Result<std::string> getNamespaceInCluster(const std::string& caPem, const TlsServer& server) {
  auto files = filesOf(podFiles(caPem));
  auto config = inClusterConfig(kPaths, hostileEnvironment("127.0.0.1", server.port()), files);
  if (!config.ok()) return config.error();
  ClientOptions options;
  options.retry.maxRetries = 0;
  options.requestTimeout = std::chrono::seconds(10);
  options.files = files;
  auto client = makeRestClient(*config, options);
  if (!client.ok()) return client.error();
  return (*client)->get(Resource{"", "v1", "namespaces", false}, "", "default");
}

TEST(InClusterTls, TalksToAServerThatCaCrtSigned) {
  TlsServer server;
  auto answer = getNamespaceInCluster(k_ca_crt, server);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(*answer, "{}");
  EXPECT_EQ(server.requests(), 1);
}

TEST(InClusterTls, RefusesAServerThatCaCrtDidNotSign) {
  TlsServer server;
  // ca.crt names another CA; the environment points every CERT/CA variable at it too.
  auto answer = getNamespaceInCluster(k_other_ca_crt, server);
  ASSERT_FALSE(answer.ok()) << "a server signed by a CA other than ca.crt was trusted";
  EXPECT_EQ(answer.kind(), ErrorKind::Transport) << answer.error().describe();
  EXPECT_NE(answer.error().message.find("certificate verify failed"), std::string::npos)
      << answer.error().message;
  EXPECT_EQ(server.requests(), 0) << "a request went through an unverified connection";
  // The server thread sees the client's alert after the client has already returned.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.failedHandshakes() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(server.failedHandshakes(), 1);
}

}  // namespace
}  // namespace saguard::kube
