// A streamed request (a watch, a streaming list) on a connection of its own, read on the
// calling thread with Boost.Beast. Internal to kube/: CpprestTransport::stream() uses it.
//
// Why not cpprestsdk, which sends every other request: it reads a chunked body on its
// I/O thread and hands each HTTP chunk (the API server writes one per event or two) to
// the reader through a task and a lock, a thread hand-off per event. perf of a
// 10,000-pod sync put 30% of saguard's CPU in the kernel (futexes, thread switches)
// and 17% in cpprestsdk. Here one socket read takes whatever has arrived, the parser
// takes the chunk framing off in place, and the sink gets the bytes, on one thread.
//
// Same contract as Transport::stream(), same messages as the rest of the transport:
// TLS verified by TlsContext (chain, then the host or IP address against the
// subjectAltNames), the idle timeout restarts on every read, a stop closes the
// connection at once, a non-2xx answer is read whole (at most kMaxErrorBody bytes).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>

#include "base/result.h"
#include "kube/detail/tls.h"
#include "kube/transport.h"

namespace saguard::kube::detail {

struct StreamServer {
  std::string url;   // "https://127.0.0.1:6443", for messages
  std::string host;  // DNS name or IPv4 address
  unsigned short port = 443;
  std::string userAgent;
  std::shared_ptr<TlsContext> tls;  // null: plain http
};

// The largest non-2xx answer read (an API Status is a few hundred bytes).
inline constexpr std::size_t kMaxErrorBody = std::size_t{4} << 20;

// The Timeout error of an idle timeout: "GET https://…/api/v1/pods: no answer within 30s
// (idle timeout)". The transport's whole answers say the same.
Error idleTimeout(const std::string& where, std::chrono::milliseconds timeout);

Result<HttpResponse> streamOnOwnConnection(const StreamServer& server, const HttpRequest& request,
                                           const ChunkSink& sink, std::stop_token stop);

}  // namespace saguard::kube::detail
