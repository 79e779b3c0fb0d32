// Kubernetes' protobuf encoding of the built-in kinds (Content-Type
// application/vnd.kubernetes.protobuf) into the same records as the JSON decoder
// (decoder.h, whose field rules apply unchanged; the record decisions are shared,
// detail/record_facts.h). Why: the API server encodes a watch event or a list item in
// JSON by reflection (encoding/json) and then compacts it once more; in protobuf it
// costs it a fraction of that. A streaming list of 10,000 pods in JSON took the API
// server 0.91 CPU seconds of encoding (pprof; issue 19), the peer's protobuf list 0.29.
//
// The wire shapes (k8s.io/apimachinery runtime/serializer/protobuf):
//   a body (list, object):  "k8s\0" + runtime.Unknown{1: TypeMeta{1: apiVersion, 2: kind},
//                                                     2: raw (the object's message)}
//   a watch stream:         frames of a 4-byte big-endian length + a metav1.WatchEvent
//                           {1: type, 2: RawExtension{1: raw = a body as above}}
//                           (length_framer.h splits them)
// Messages are read by field number from k8s.io/api's generated.proto; unknown fields
// are skipped by their wire type, so newer API servers decode the same.
//
//   codec::ProtobufDecoder decoder;
//   auto meta = decoder.list<Kind::Pod>(body, sink);          // Result<ListMeta>
//   auto event = decoder.watchEvent<Kind::Pod>(frame);        // Result<WatchEvent<Pod>>
//
// Errors name what and where, like the JSON decoder's ("items[3].metadata.name:
// missing"). A malformed item of a list (bad wire data inside it, a missing name, a
// string that is not UTF-8 or over kMaxFieldBytes) is skipped and reported and the rest
// is decoded: protobuf frames every item with its length, so one bad item cannot hide
// the others. A body that is not the envelope, of another kind, or whose framing runs
// past its end fails as a whole. Nothing throws; nothing reads past the input.
// Not thread-safe (one per stream, like Decoder).
#pragma once

#include <string_view>

#include "base/result.h"
#include "codec/decoder.h"
#include "codec/detail/symbol_memo.h"

namespace saguard::codec {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";
// What a watch asks for: the same, framed by length.
inline constexpr std::string_view kProtobufWatchContentType =
    "application/vnd.kubernetes.protobuf;stream=watch";

class ProtobufDecoder {
 public:
  // A list response (PodList, ...): items to the sink, the list's metadata returned.
  template <Kind K>
  Result<ListMeta> list(std::string_view body, const ListSink<RecordOf<K>>& sink);
  // One frame of a watch stream (without its length prefix).
  template <Kind K>
  Result<WatchEvent<RecordOf<K>>> watchEvent(std::string_view frame);
  // A single object (a GET answer).
  template <Kind K>
  Result<RecordOf<K>> object(std::string_view body);

 private:
  detail::SymbolMemo memo_;
};

// Best effort, for logs: "namespace/name" of the object in a watch frame; "" when the
// frame does not get that far.
std::string peekProtobufObjectKey(std::string_view frame);

// metadata.resourceVersion of an object body (a GET or write answer, "k8s\0" + Unknown);
// "" when the body does not get that far. Reads nothing else.
std::string peekProtobufResourceVersion(std::string_view body);

// NOLINTBEGIN(bugprone-macro-parentheses)
#define SAGUARD_PROTOBUF_DECLARE(K)                                                        \
  extern template Result<ListMeta> ProtobufDecoder::list<K>(std::string_view,              \
                                                            const ListSink<RecordOf<K>>&); \
  extern template Result<WatchEvent<RecordOf<K>>> ProtobufDecoder::watchEvent<K>(          \
      std::string_view);                                                                   \
  extern template Result<RecordOf<K>> ProtobufDecoder::object<K>(std::string_view);
SAGUARD_PROTOBUF_DECLARE(Kind::Pod)
SAGUARD_PROTOBUF_DECLARE(Kind::ServiceAccount)
SAGUARD_PROTOBUF_DECLARE(Kind::RoleBinding)
SAGUARD_PROTOBUF_DECLARE(Kind::ClusterRoleBinding)
SAGUARD_PROTOBUF_DECLARE(Kind::Namespace)
#undef SAGUARD_PROTOBUF_DECLARE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace saguard::codec
