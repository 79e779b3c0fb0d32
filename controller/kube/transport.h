// The HTTP layer under the Kubernetes client: send one request to the API server and
// give back its answer, or stream a long answer (a watch) as its bytes arrive.
//
// RestClient (rest_client.h) owns one Transport and adds what is Kubernetes-specific
// on top: paths, authentication headers, errors, retries. The real implementation is
// CpprestTransport (cpprest_transport.h); unit tests hand RestClient a scripted fake.
//
// A Transport is used from several threads at once. It never throws.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::kube {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string target{};        // path and query: "/api/v1/namespaces?limit=2"
  std::string body{};
  std::string contentType{};    // of `body`; empty when there is none
  std::string authorization{};  // the Authorization header value, or empty. Never logged.
  std::string accept = "application/json";
  // An idle timeout: the request fails with ErrorKind::Timeout when no byte arrives for
  // this long (it restarts on every read, so a streaming watch stays open while it flows).
  std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
  int code = 0;
  std::string body{};        // for stream(): empty when the answer was 2xx (the sink had it)
  std::string retryAfter{};  // the Retry-After header, or empty
};

// Receives a streamed body piece by piece, at arbitrary boundaries (not lines, not
// events). Returning an error ends the stream; stream() then returns that error.
using ChunkSink = std::function<Status(std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;

  // The server URL, "https://127.0.0.1:6443", for messages and logs.
  virtual const std::string& server() const = 0;

  // Sends `request` and reads the whole answer. Any HTTP answer, 2xx or not, is a
  // value; an Error means no answer: Transport (connection, TLS handshake, DNS),
  // Timeout (idle timeout) or, when `stop` was requested, Timeout with "cancelled".
  virtual Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop = {}) = 0;

  // Like send(), but a 2xx body goes to `sink` as its bytes arrive, and the call
  // returns when the server ends the body, when `stop` is requested (promptly: the
  // connection is closed), or when `sink` returns an error (that error is returned).
  // A non-2xx answer is read whole and returned as by send().
  virtual Result<HttpResponse> stream(const HttpRequest& request, const ChunkSink& sink,
                                      std::stop_token stop) = 0;
};

}  // namespace saguard::kube
