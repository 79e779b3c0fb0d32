// Hot-path decoding of Kubernetes API JSON into the projected records of
// objects/objects.h. List responses, watch events and single objects of Pods,
// ServiceAccounts, RoleBindings, ClusterRoleBindings and Namespaces go straight from
// the bytes into the records with simdjson's On-Demand API: one forward pass, only
// the needed fields are read, no DOM is built. Everything else in a document
// (status, containers, a Pod's managedFields, ...) is skipped without being parsed.
//
//   codec::Decoder decoder;  // one per stream: it owns parser buffers
//   std::string body = ...;  // a list response; reserve(size + kPadding): no reallocation
//   Result<ListPage<objects::Pod>> page = decoder.list<Kind::Pod>(body);
//   for (auto& pod : page->items) ...;  // page->skipped: the items that were malformed
//   framer.feed(chunk, [&](PaddedView line) {
//     auto event = decoder.watchEvent<Kind::Pod>(line);
//     ...
//   });
//
// Field rules (what a record holds):
// - Every kind: metadata.name (required, non-empty), metadata.namespace (required for
//   Pods, ServiceAccounts and RoleBindings; never stored for cluster-scoped kinds),
//   uid and resourceVersion (kept when present). A "kind" field, when present, must
//   name the expected kind ("Pod"; a list: "PodList" or kubectl's "List").
// - Pod: creationTimestamp (RFC 3339 -> epoch seconds; absent or null -> 0);
//   serviceAccountName = spec.serviceAccountName, else the deprecated
//   spec.serviceAccount, else "default"; automount = spec.automountServiceAccountToken;
//   controllerKind = the kind of the metadata.ownerReferences[] entry with controller: true
//   (the first; None when no entry says so), controllerNameLength = the length of its name
//   when the pod's name is "<that name>-...", else 0 (objects.h says why);
//   token = Projected if any spec.volumes[].projected.sources[] has a
//   serviceAccountToken source, else LegacySecret if a spec.volumes[].secret.secretName
//   looks like the account's legacy token Secret, else None.
//   The legacy rule is a heuristic: a pod does not show the type of the Secret it
//   mounts, so a secret volume counts when its secretName is
//   "<serviceAccountName>-token-<5 chars of [a-z0-9]>", the name the token
//   controller generated for kubernetes.io/service-account-token Secrets before
//   Kubernetes 1.24. A hand-made token Secret with another name is not detected.
// - ServiceAccount: labels (sorted by key, interned), automountServiceAccountToken,
//   the saguard.io/token-last-used annotation, and who declares the automount field:
//   automountOwners = the metadata.managedFields entries (manager, operation Apply or
//   Update) whose fieldsV1 holds "f:automountServiceAccountToken" (wrong types there
//   fail the item, as anywhere); lastAppliedAutomount = that field of the JSON held in
//   the kubectl.kubernetes.io/last-applied-configuration annotation, where anything
//   malformed (not JSON, not an object, not a boolean) declares nothing, never fails.
// - Binding: roleRef.kind and roleRef.name (required), subjects[] {kind, name
//   (required), namespace}; clusterScoped for ClusterRoleBindings.
// - Namespace: labels and status.phase.
// - JSON null is treated as absent everywhere (Kubernetes writes e.g.
//   "creationTimestamp": null in bookmarks).
// - A kept string longer than kMaxFieldBytes is rejected rather than cached.
//
// Errors (all of kind Invalid unless said otherwise) name what and where:
// "items[3].metadata.name: expected string". Wrong types, missing required fields,
// truncated or malformed JSON, invalid UTF-8 and trailing content are all Invalid; a
// PaddedView without padding is Internal. Nothing throws.
// Like all On-Demand parsing, this validates what it reads, not what it skips: a
// structural error confined to a skipped value (say a ":" for a "," inside `status`)
// may go unnoticed. The API server never sends such JSON; every field that reaches a
// record is checked, and truncation is always caught.
// Deep nesting cannot exhaust the stack: the decoder descends only into the fixed
// shape it knows (ten levels at most), and simdjson skips everything else
// iteratively, so an array nested 100,000 deep in `status` costs nothing, and one
// where a string belongs is a plain type error.
//
// Malformed items in a list: an item with wrong types, missing required fields or
// an unparseable timestamp is skipped and reported (ListPage::skipped, or
// ListSink::onSkipped), and the rest of the list is decoded: one bad object must not
// blind the cache to all the others. A document that is not valid JSON (truncated,
// broken structure, bad UTF-8) fails as a whole, because nothing after the break
// can be trusted.
//
// A Decoder is not thread-safe; it reuses its parser buffers across calls (the
// reason to keep one per stream rather than construct one per call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "codec/padded.h"
#include "objects/audit_event.h"
#include "objects/objects.h"

namespace saguard::codec {

enum class Kind { Pod, ServiceAccount, RoleBinding, ClusterRoleBinding, Namespace };

// "Pod", "ServiceAccount", ... as in the objects' "kind" field.
const char* toString(Kind kind);

template <Kind K>
struct KindTraits;
template <>
struct KindTraits<Kind::Pod> {
  using Record = objects::Pod;
};
template <>
struct KindTraits<Kind::ServiceAccount> {
  using Record = objects::ServiceAccount;
};
template <>
struct KindTraits<Kind::RoleBinding> {
  using Record = objects::Binding;
};
template <>
struct KindTraits<Kind::ClusterRoleBinding> {
  using Record = objects::Binding;
};
template <>
struct KindTraits<Kind::Namespace> {
  using Record = objects::Namespace;
};
template <Kind K>
using RecordOf = typename KindTraits<K>::Record;

// Longest string the decoder keeps in a record (names, labels, uids, ...). The API
// server's own limits are far lower (253 bytes for a name); anything longer is
// garbage that should not reach a cache.
inline constexpr std::size_t kMaxFieldBytes = std::size_t{64} * 1024;

// The list's own metadata, and what became of its items.
struct ListMeta {
  std::string resourceVersion;  // to start the watch from
  std::string continueToken;    // metadata.continue; empty on the last page
  std::optional<std::int64_t> remainingItemCount;
  std::size_t itemCount = 0;     // items decoded
  std::size_t skippedCount = 0;  // items skipped as malformed
};

// A malformed list item that was skipped.
struct SkippedItem {
  std::size_t index = 0;   // position in "items"
  std::string namespace_;  // as far as it was read before the failure; may be empty
  std::string name;
  Error error;  // Invalid: "items[3].metadata.name: expected string"
};

template <typename T>
struct ListPage {
  std::vector<T> items;
  ListMeta meta;
  std::vector<SkippedItem> skipped;
};

// Streaming form of list decoding: each item is handed over as soon as it is
// decoded, so a caller that fills a cache never holds a vector of the whole list.
template <typename T>
struct ListSink {
  std::function<void(T&& item)> onItem{};  // required
  // Optional: skipped items are counted in ListMeta either way.
  std::function<void(SkippedItem&& skipped)> onSkipped{};
};

enum class EventType : std::uint8_t { Added, Modified, Deleted, Bookmark, Error };

// "ADDED", "MODIFIED", ... as on the wire.
const char* toString(EventType type);

template <typename T>
struct WatchEvent {
  EventType type = EventType::Added;
  T object;                       // Added, Modified, Deleted (Deleted: the last state)
  std::string resourceVersion;    // the object's; a Bookmark carries nothing else
  bool initialEventsEnd = false;  // a Bookmark annotated k8s.io/initial-events-end: "true"
  // Error events: the metav1.Status as an Error, its kind from kindFromStatus(code,
  // reason): a 410 / reason Expired or Gone is ErrorKind::Gone (relist).
  std::optional<Error> error;
};

// Audit events (audit.k8s.io/v1) as views (objects/audit_event.h): each is handed over
// during the decode and is valid only inside the callback. An event with a field of the
// wrong type or an unparseable timestamp is skipped and reported (its `name` is the
// auditID when it was read), like a malformed list item; JSON that does not parse fails
// the whole document.
struct AuditSink {
  std::function<void(const objects::AuditEventView& event)> onEvent{};  // required
  std::function<void(SkippedItem&& skipped)> onSkipped{};               // optional
};

class Decoder {
 public:
  struct Options {
    // Parser buffers grown past this many bytes of input are released after the
    // document that needed them: one 60 MB list must not pin ~250 MB for the life
    // of a watch that then sees 2 KB events.
    std::size_t retainBytes = std::size_t{16} << 20;
  };

  Decoder();
  explicit Decoder(Options options);
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;

  // A list response (PodList, ..., or kubectl's List). `json` is padded in place:
  // kPadding bytes are appended for the duration of the call (no copy when its
  // capacity allows, one reallocation otherwise) and removed before returning.
  template <Kind K>
  Result<ListPage<RecordOf<K>>> list(PaddedView json);
  template <Kind K>
  Result<ListPage<RecordOf<K>>> list(std::string& json);
  template <Kind K>
  Result<ListPage<RecordOf<K>>> list(std::string_view json);  // copies once
  // The streaming form. On an error, items already handed to the sink stay handed:
  // the caller treats the whole list as failed.
  template <Kind K>
  Result<ListMeta> list(PaddedView json, const ListSink<RecordOf<K>>& sink);
  template <Kind K>
  Result<ListMeta> list(std::string& json, const ListSink<RecordOf<K>>& sink);

  // One line of a watch stream: {"type": "...", "object": {...}}.
  template <Kind K>
  Result<WatchEvent<RecordOf<K>>> watchEvent(PaddedView line);
  template <Kind K>
  Result<WatchEvent<RecordOf<K>>> watchEvent(std::string_view line);  // copies once

  // An EventList (the body an audit webhook POSTs): kind "EventList" (or absent), items
  // handed to the sink one at a time. `json` is padded in place as for list().
  Result<ListMeta> auditEventList(PaddedView json, const AuditSink& sink);
  Result<ListMeta> auditEventList(std::string& json, const AuditSink& sink);
  // One Event (a line of the log backend's JSON-lines file). A malformed event is an
  // Invalid error here (there is nothing else in the document to go on with).
  Status auditEvent(PaddedView line,
                    const std::function<void(const objects::AuditEventView&)>& onEvent);

  // A single object (a GET, create or patch response).
  template <Kind K>
  Result<RecordOf<K>> object(PaddedView json);
  template <Kind K>
  Result<RecordOf<K>> object(std::string& json);
  template <Kind K>
  Result<RecordOf<K>> object(std::string_view json);  // copies once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// K is a template argument; it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SAGUARD_CODEC_DECLARE(K)                                                                 \
  extern template Result<ListPage<RecordOf<K>>> Decoder::list<K>(PaddedView);                    \
  extern template Result<ListPage<RecordOf<K>>> Decoder::list<K>(std::string&);                  \
  extern template Result<ListPage<RecordOf<K>>> Decoder::list<K>(std::string_view);              \
  extern template Result<ListMeta> Decoder::list<K>(PaddedView, const ListSink<RecordOf<K>>&);   \
  extern template Result<ListMeta> Decoder::list<K>(std::string&, const ListSink<RecordOf<K>>&); \
  extern template Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent<K>(PaddedView);            \
  extern template Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent<K>(std::string_view);      \
  extern template Result<RecordOf<K>> Decoder::object<K>(PaddedView);                            \
  extern template Result<RecordOf<K>> Decoder::object<K>(std::string&);                          \
  extern template Result<RecordOf<K>> Decoder::object<K>(std::string_view);
SAGUARD_CODEC_DECLARE(Kind::Pod)
SAGUARD_CODEC_DECLARE(Kind::ServiceAccount)
SAGUARD_CODEC_DECLARE(Kind::RoleBinding)
SAGUARD_CODEC_DECLARE(Kind::ClusterRoleBinding)
SAGUARD_CODEC_DECLARE(Kind::Namespace)
#undef SAGUARD_CODEC_DECLARE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace saguard::codec
