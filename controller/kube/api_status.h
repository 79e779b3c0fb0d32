// Turning the API server's answers into values: a failed HTTP answer (usually a
// metav1.Status body) into an Error with the right kind, causes and retry-after; and
// the metadata of a List body (resourceVersion, continue) without decoding its items.
//
// The client (rest_client.h) uses these on every answer; the informer cache uses
// errorFromStatus() on watch ERROR events, which carry a metav1.Status too.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::kube {

// An Error from an HTTP answer that is not 2xx. `body` is parsed as a metav1.Status
// when it is one (reason, message, details.causes, details.retryAfterSeconds); any
// other body contributes at most its first 200 printable bytes to the message.
// `retryAfterHeader` is the Retry-After header ("" when absent). `server` and `path`
// (no query string: selectors may be sensitive) name the request in the message; an
// Unauthorized message always names the server.
Error errorFromResponse(int httpCode, std::string_view body, std::string_view retryAfterHeader,
                        std::string_view server, std::string_view path);

// An Error from a metav1.Status document alone (a watch ERROR event's object). Its
// `code` field gives httpCode; a 410 or reason Expired/Gone gives ErrorKind::Gone.
// A body that is not a Status gives ErrorKind::Internal.
Error errorFromStatus(std::string_view statusJson);

// Retry-After as delta-seconds ("3"). HTTP dates are not used by the API server and
// give nullopt, as does anything malformed or negative.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view header);

// The top-level `metadata` of a List. Parsed with a streaming parser that stops at the
// end of `metadata`, which the API server writes before `items`, so it costs
// microseconds even on a 60 MB PodList; the items are left to the caller's decoder.
struct ListMeta {
  std::string resourceVersion{};
  std::string continueToken{};  // empty on the last page
  std::optional<std::int64_t> remainingItemCount{};
};
Result<ListMeta> peekListMeta(std::string_view listJson);

}  // namespace saguard::kube
