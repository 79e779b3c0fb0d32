#include "codec/detail/record_facts.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>

#include "codec/decoder.h"

namespace saguard::codec::detail {
namespace {

namespace od = simdjson::ondemand;

objects::ControllerKind controllerKindOf(std::string_view kind) {
  using objects::ControllerKind;
  if (kind.empty()) return ControllerKind::None;
  if (kind == "ReplicaSet") return ControllerKind::ReplicaSet;
  if (kind == "StatefulSet") return ControllerKind::StatefulSet;
  if (kind == "DaemonSet") return ControllerKind::DaemonSet;
  if (kind == "Job") return ControllerKind::Job;
  if (kind == "ReplicationController") return ControllerKind::ReplicationController;
  if (kind == "Node") return ControllerKind::Node;
  return ControllerKind::Other;
}

// "<account>-token-<5 chars>": the name the token controller gave legacy token Secrets
// (generateName "<account>-token-" plus a 5-character random suffix of [a-z0-9]).
bool isLegacyTokenSecretName(std::string_view secret, std::string_view account) {
  constexpr std::string_view kInfix = "-token-";
  constexpr std::size_t kSuffix = 5;
  if (secret.size() != account.size() + kInfix.size() + kSuffix) return false;
  if (secret.substr(0, account.size()) != account) return false;
  if (secret.substr(account.size(), kInfix.size()) != kInfix) return false;
  for (char ch : secret.substr(account.size() + kInfix.size())) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) return false;
  }
  return true;
}

// JSON inside a document being decoded (an annotation's value, a protobuf's fieldsV1):
// parsed with a parser of its own (the outer document may still be being read), kept
// per thread and released when a huge one grew it.
struct NestedParser {
  od::parser parser;
  std::string buffer;

  // Calls visit(key, field) for each top-level field of `json`; false when it is not one
  // well-formed JSON object (or visit said stop by returning false).
  template <typename Visit>
  bool forEachTopField(std::string_view json, Visit&& visit) {
    constexpr std::size_t kRetainBytes = std::size_t{1} << 20;
    buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(json);
    bool wellFormed = false;
    od::document doc;
    if (!parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc)) {
      od::object object;
      wellFormed = !doc.get_object().get(object);
      if (wellFormed) {
        for (auto result : object) {
          od::field field;
          std::string_view key;
          if (std::move(result).get(field) || field.unescaped_key().get(key) ||
              !visit(key, field)) {
            wellFormed = false;
            break;
          }
        }
        // Nothing may follow the object (simdjson 3.0 has no document::at_end()).
        const char* trailing = nullptr;
        wellFormed = wellFormed && doc.current_location().get(trailing) == simdjson::OUT_OF_BOUNDS;
      }
    }
    if (parser.capacity() > kRetainBytes) parser = od::parser{};
    if (buffer.capacity() > kRetainBytes) buffer = std::string{};
    return wellFormed;
  }
};

thread_local NestedParser nested;

}  // namespace

void finishPod(objects::Pod& pod, const PodFacts& facts, SymbolMemo& memo) {
  std::string_view account = !facts.serviceAccountName.empty() ? facts.serviceAccountName
                             : !facts.serviceAccount.empty()   ? facts.serviceAccount
                                                               : std::string_view("default");
  pod.serviceAccountName = memo.get(account);
  pod.automount = facts.automount;
  // The controller's name as a length of the pod's: "<controller>-<suffix>" (objects.h).
  pod.controllerKind = controllerKindOf(facts.controllerKind);
  const std::string_view podName = pod.meta.name();
  const std::string_view controller = facts.controllerName;
  const bool prefix = !controller.empty() && podName.size() > controller.size() &&
                      podName.substr(0, controller.size()) == controller &&
                      podName[controller.size()] == '-';
  // A prefix is shorter than the pod's name, itself at most kMaxFieldBytes (65,536): it fits.
  static_assert(kMaxFieldBytes - 1 <= std::numeric_limits<std::uint16_t>::max());
  pod.controllerNameLength = prefix ? static_cast<std::uint16_t>(controller.size()) : 0;
  pod.token = objects::TokenVolume::None;
  if (facts.projectedToken) {
    pod.token = objects::TokenVolume::Projected;
  } else {
    for (std::string_view secret : facts.secretNames) {
      if (isLegacyTokenSecretName(secret, account)) {
        pod.token = objects::TokenVolume::LegacySecret;
        break;
      }
    }
  }
}

objects::Tristate lastAppliedAutomount(std::string_view configuration) {
  objects::Tristate declared = objects::Tristate::Unset;
  const bool wellFormed =
      nested.forEachTopField(configuration, [&](std::string_view key, od::field& field) {
        if (key != "automountServiceAccountToken") return true;
        bool flag = false;
        // null or a non-boolean declares nothing; a later duplicate key wins, as in Go.
        if (field.value().get_bool().get(flag)) {
          declared = objects::Tristate::Unset;
        } else {
          declared = flag ? objects::Tristate::True : objects::Tristate::False;
        }
        return true;
      });
  return wellFormed ? declared : objects::Tristate::Unset;
}

std::optional<bool> fieldsV1OwnsAutomount(std::string_view fieldsV1) {
  bool owns = false;
  const bool wellFormed = nested.forEachTopField(fieldsV1, [&](std::string_view key, od::field&) {
    if (key == "f:automountServiceAccountToken") owns = true;
    return true;
  });
  if (!wellFormed) return std::nullopt;
  return owns;
}

std::optional<Error> statusError(std::int64_t code, std::string_view reason,
                                 std::string_view message, std::int64_t retryAfterSeconds,
                                 std::vector<ErrorCause> causes) {
  if (code < 0 || code > 999) return std::nullopt;
  Error out =
      makeError(kindFromStatus(static_cast<int>(code), reason),
                message.empty() ? std::string("watch stream reported an error without a message")
                                : std::string(message));
  out.httpCode = static_cast<int>(code);
  constexpr std::int64_t kMaxRetryAfter = std::int64_t{24} * 3600;
  if (retryAfterSeconds > 0)
    out.retryAfter = std::chrono::seconds(std::min(retryAfterSeconds, kMaxRetryAfter));
  out.causes = std::move(causes);
  return out;
}

void sortLabels(objects::Labels& labels) {
  // Sorted by key; a key repeated keeps its last value, as Go's decoder does.
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto last = std::unique(labels.rbegin(), labels.rend(),
                          [](const auto& a, const auto& b) { return a.first == b.first; });
  labels.erase(labels.begin(), last.base());
}

}  // namespace saguard::codec::detail
