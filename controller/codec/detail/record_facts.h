// The decisions a record makes from what a decoder read, shared by the JSON projections
// (project.cpp) and the protobuf ones (protobuf.cpp) so that both wire formats give the
// same record (tests/integration/protobuf_codec_test.cpp compares them on the real API
// server's answers). Inputs are views into the document being decoded.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "codec/detail/symbol_memo.h"
#include "objects/objects.h"

namespace saguard::codec::detail {

// What a pod's spec and metadata tell about its token and its controller.
struct PodFacts {
  std::string_view serviceAccountName;
  std::string_view serviceAccount;  // deprecated alias
  objects::Tristate automount = objects::Tristate::Unset;
  bool projectedToken = false;
  std::vector<std::string_view> secretNames;  // spec.volumes[].secret.secretName, non-empty
  std::string_view controllerKind;            // of the ownerReference with controller: true
  std::string_view controllerName;

  // Empty again, keeping secretNames' buffer (reused across the items of a list).
  void reset() {
    auto names = std::move(secretNames);
    names.clear();
    *this = PodFacts();
    secretNames = std::move(names);
  }
};

// Fills the pod's account, automount, token and controller fields from `facts`
// (decoder.h's field rules); pod.meta must hold the pod's name already.
void finishPod(objects::Pod& pod, const PodFacts& facts, SymbolMemo& memo);

// What a kubectl.kubernetes.io/last-applied-configuration declares for
// automountServiceAccountToken. Anything but a well-formed JSON object whose field is a
// boolean declares nothing (Unset): a malformed annotation is never an error, since
// kubectl itself would ignore it (it would fail to apply, not fight over the field).
objects::Tristate lastAppliedAutomount(std::string_view configuration);

// Whether a managedFields entry's fieldsV1 (JSON text, as protobuf carries it) owns
// f:automountServiceAccountToken. Nullopt when it is not a JSON object.
std::optional<bool> fieldsV1OwnsAutomount(std::string_view fieldsV1);

// A watch ERROR event's metav1.Status as an Error: its kind from kindFromStatus(code,
// reason), the message (a default when empty), Retry-After clamped to a day (a hostile
// value must not overflow the conversion to milliseconds). Nullopt when `code` is not an
// HTTP status code (0..999).
std::optional<Error> statusError(std::int64_t code, std::string_view reason,
                                 std::string_view message, std::int64_t retryAfterSeconds,
                                 std::vector<ErrorCause> causes);

// Keeps the last value of each key, sorted by key (as Go's JSON decoder does with a
// repeated key).
void sortLabels(objects::Labels& labels);

}  // namespace saguard::codec::detail
