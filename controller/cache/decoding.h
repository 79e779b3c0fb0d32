// What a reflector needs to turn the API's bytes into records: decode one list page,
// decode one watch line. Pluggable, so the same reflector serves the built-in kinds
// (decoded by codec/ with simdjson) and the ServiceAccountPolicy kind (parsed by
// policy/ with nlohmann): only the functions differ.
//
//   Decoding<objects::Pod> pods = codecDecoding<codec::Kind::Pod>();
//
//   Decoding<PolicyRecord> policies{
//     .list = [](std::string_view page, const codec::ListSink<PolicyRecord>& sink) -> Status {...},
//     .event = [](codec::PaddedView line) -> Result<codec::WatchEvent<PolicyRecord>> {...},
//   };
//
// The event and list shapes are codec's (codec::WatchEvent, codec::ListSink,
// codec::SkippedItem): they are templates over the record and carry nothing
// simdjson-specific. A Decoding is used by one reflector thread at a time.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "codec/decoder.h"
#include "codec/padded.h"

namespace saguard::cache {

template <typename R>
struct Decoding {
  // Decodes one page of a list (a List document). Each record goes to sink.onItem;
  // each malformed item goes to sink.onSkipped (the reflector logs it with its
  // namespace/name and carries on). An error means the page as a whole is unusable
  // (not JSON, wrong kind): the reflector drops the listing and retries with backoff.
  std::function<Status(std::string_view page, const codec::ListSink<R>& sink)> list;

  // Decodes one watch line ({"type": ..., "object": ...}). An Invalid error means this
  // event is malformed: it is logged and skipped, and the watch goes on. Any other
  // error ends the watch (retried with backoff).
  std::function<Result<codec::WatchEvent<R>>(codec::PaddedView line)> event;

  // Optional: "namespace/name" of the object in a line that `event` rejected, for the
  // log line. When unset the reflector uses peekObjectKey().
  std::function<std::string(codec::PaddedView line)> describe;

  // Optional: decodes one frame of a watch in Kubernetes' protobuf (codec/protobuf.h).
  // When set (and ReflectorOptions::protobuf), the reflector's watches and streaming
  // lists ask for protobuf and hand it each length-prefixed frame; `event` then serves
  // only a server that refused protobuf (406). Lists stay JSON (`list`).
  std::function<Result<codec::WatchEvent<R>>(std::string_view frame)> protobufEvent;
  // With protobufEvent: "namespace/name" of the object in a frame it rejected, for logs.
  std::function<std::string(std::string_view frame)> describeProtobuf;

  // Optional: called after each listing (complete or failed), to give back buffers
  // sized for list pages (megabytes) that the watch's small events do not need.
  std::function<void()> release;
};

// The Decoding of a kind that codec/ decodes, JSON and protobuf watches alike. Each call
// makes a Decoding with its own codec::Decoder (parser buffers are per reflector).
template <codec::Kind K>
Decoding<codec::RecordOf<K>> codecDecoding();

// Best effort, for logs: "namespace/name" (or "name") of object.metadata in a watch
// line, read without validating anything else; "" when the line does not get that far.
std::string peekObjectKey(codec::PaddedView line);

extern template Decoding<objects::Pod> codecDecoding<codec::Kind::Pod>();
extern template Decoding<objects::ServiceAccount> codecDecoding<codec::Kind::ServiceAccount>();
extern template Decoding<objects::Binding> codecDecoding<codec::Kind::RoleBinding>();
extern template Decoding<objects::Binding> codecDecoding<codec::Kind::ClusterRoleBinding>();
extern template Decoding<objects::Namespace> codecDecoding<codec::Kind::Namespace>();

}  // namespace saguard::cache
