// The Kubernetes API as saguard uses it: get, list, watch, create, update, update
// status, patch, delete, on any resource, with bodies as bytes.
//
// Client is the interface (the informer cache, the reconciler, leader election and
// the event recorder take a Client&; their tests hand in fakes). RestClient
// (rest_client.h) is the real one. The client never decodes objects: a body comes back
// as the API's JSON text for the caller's decoder (codec/), and a watch hands over raw
// chunks of the stream for the caller to frame into lines (a chunk may end anywhere,
// mid-line included). Only small documents (Status, list metadata) are parsed here.
//
// Every call returns a value or an Error whose kind comes from the API's Status body
// (api_status.h): NotFound, AlreadyExists, Conflict, Gone, Invalid (with causes),
// Unauthorized, Forbidden, TooManyRequests, Unavailable, Timeout, Transport.
// Methods may be called from several threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/result.h"
#include "kube/api_status.h"
#include "kube/resource.h"
#include "kube/transport.h"

namespace saguard::kube {

// Options structs are meant for designated initializers (`{.limit = 500}`). Every member
// has a default member initializer, `{}` included, because GCC 12's
// -Wmissing-field-initializers flags omitted members that have none.
//
// Per-call timeout: 0 = the client's default (ClientOptions::requestTimeout).
struct GetOptions {
  std::string resourceVersion{};  // "" = most recent
  std::string subresource{};      // "status", "scale", ...
  std::chrono::milliseconds timeout{0};
};

// create, update, updateStatus and patch.
struct WriteOptions {
  std::string fieldManager = "saguard";  // managedFields owner; required by server-side apply
  bool force = false;                    // server-side apply only: take over conflicting fields
  bool dryRun = false;                   // dryRun=All: validated and admitted, not stored
  std::string
      subresource{};  // update and patch: "status", "scale"... (create: see createSubresource)
  std::chrono::milliseconds timeout{0};
  // The Accept header of the answer; "" = application/json. "application/vnd.kubernetes.
  // protobuf" (codec/protobuf.h) costs the API server less to encode, for callers that
  // read the answer with codec::ProtobufDecoder.
  std::string accept{};
};

enum class PatchType {
  Merge,           // application/merge-patch+json (RFC 7386)
  StrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  Apply,           // application/apply-patch+yaml: server-side apply (JSON is valid YAML)
  Json,            // application/json-patch+json (RFC 6902)
};
const char* contentType(PatchType type);

struct DeleteOptions {
  std::string propagationPolicy{};            // "", "Foreground", "Background", "Orphan"
  std::string preconditionResourceVersion{};  // delete only this version (else Conflict)
  std::string preconditionUid{};
  std::optional<std::int64_t> gracePeriodSeconds{};
  std::chrono::milliseconds timeout{0};
};

// What a list timeout applies to; ListOptions (resource.h) has the server-side ones.
struct CallOptions {
  std::chrono::milliseconds timeout{0};
  // The Accept header; "" = application/json. A list as
  // "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1" carries each item's
  // metadata only (a list of Secrets without their data).
  std::string accept{};
};

class Client {
 public:
  virtual ~Client() = default;

  // The object's JSON. NotFound when it does not exist.
  virtual Result<std::string> get(const Resource& resource, std::string_view ns,
                                  std::string_view name, const GetOptions& options = {}) = 0;

  // One page of a list: the List JSON (peekListMeta() reads its continue token).
  // `ns` empty on a namespaced resource lists all namespaces. Gone when
  // options.continueToken has expired (see listPages() for the fallback).
  virtual Result<std::string> list(const Resource& resource, std::string_view ns,
                                   const ListOptions& options = {},
                                   const CallOptions& call = {}) = 0;

  // Opens a watch and hands the response body to `onChunk` as bytes arrive. Returns
  // Ok when the server ends the stream (timeoutSeconds elapsed, or it closed), or when
  // `stop` is requested (the connection is closed at once; the call returns within
  // milliseconds). An HTTP error answer returns its Error (e.g. Gone for a too-old
  // resourceVersion on some servers; most answer 200 and send an ERROR event with a 410
  // Status instead: that is the caller's to decode, with errorFromStatus()). An error
  // returned by `onChunk` ends the watch and is returned. The idle timeout is
  // timeoutSeconds plus a margin (or the client's watchIdleTimeout when none is set).
  virtual Status watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                       const ChunkSink& onChunk, std::stop_token stop = {}) = 0;

  // POST of `body` (JSON) to the collection; the created object. AlreadyExists when
  // the name is taken.
  virtual Result<std::string> create(const Resource& resource, std::string_view ns,
                                     std::string_view body, const WriteOptions& options = {}) = 0;

  // POST to a subresource of an existing object, e.g. "token" on a ServiceAccount
  // (a TokenRequest: the answer carries status.token).
  virtual Result<std::string> createSubresource(const Resource& resource, std::string_view ns,
                                                std::string_view name, std::string_view subresource,
                                                std::string_view body,
                                                const WriteOptions& options = {}) = 0;

  // PUT of the whole object. Conflict when body's metadata.resourceVersion is stale.
  virtual Result<std::string> update(const Resource& resource, std::string_view ns,
                                     std::string_view name, std::string_view body,
                                     const WriteOptions& options = {}) = 0;

  // PUT to the status subresource (only .status is taken from body).
  virtual Result<std::string> updateStatus(const Resource& resource, std::string_view ns,
                                           std::string_view name, std::string_view body,
                                           const WriteOptions& options = {}) = 0;

  // PATCH with the given patch type. Apply uses options.fieldManager and options.force;
  // force with another type is an Invalid error (the server would refuse it too).
  virtual Result<std::string> patch(const Resource& resource, std::string_view ns,
                                    std::string_view name, PatchType type, std::string_view body,
                                    const WriteOptions& options = {}) = 0;

  // DELETE; the answer body (the object being deleted, or a Status). NotFound when gone.
  virtual Result<std::string> remove(const Resource& resource, std::string_view ns,
                                     std::string_view name, const DeleteOptions& options = {}) = 0;

  // The discovery document of one group version (GET /api/v1, /apis/GROUP/VERSION): an
  // APIResourceList naming the resources it serves. NotFound when the group version is
  // not served. Every authenticated user may read it (the system:discovery role), so it
  // says what is served, not what the caller may do. kube/discovery.h reads it.
  virtual Result<std::string> discover(std::string_view group, std::string_view version) = 0;
};

// One page handed to a PageSink. `body` is valid only during the call.
struct Page {
  std::string_view body;  // the List JSON of this page
  ListMeta meta;          // its metadata (continue token, resourceVersion)
  // 0 when this page starts the listing: the first page, and also the full list that
  // follows an expired continue token, in which case whatever earlier pages delivered
  // must be discarded (`if (page.index == 0) items.clear();`).
  int index = 0;
};
using PageSink = std::function<Status(const Page& page)>;

// Lists a whole collection page by page (options.limit items each; 0 = one page). When a
// continue token expires mid-way (410 Gone), lists again from the start without limit
// and continue, in one page with index 0, as client-go's pager does. Continue pages
// carry only the selectors, limit and continue (resourceVersion is in the token). An
// error from `sink` stops the listing and is returned.
Status listPages(Client& client, const Resource& resource, std::string_view ns,
                 const ListOptions& options, const PageSink& sink, const CallOptions& call = {});

// Called after every HTTP attempt (retries and 401 re-tries included) so metrics/ can
// count rest_client_requests_total{code,method} and observe latency. For a watch, it
// is called when the stream ends and the duration is the stream's lifetime.
struct RequestRecord {
  std::string_view method;  // "GET", "POST", ... ("WATCH" is not a method: watches are GET)
  int httpCode = 0;         // 0 when no HTTP answer arrived
  std::optional<ErrorKind> failure{};  // set when httpCode is 0: Transport or Timeout
  std::chrono::nanoseconds duration{0};
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // Must be quick and must not throw; called on the requesting thread.
  virtual void onRequest(const RequestRecord& record) = 0;
};

// The default observer: does nothing.
RequestObserver& noopRequestObserver();

}  // namespace saguard::kube
