// RFC 3339 timestamps as Kubernetes writes them (metav1.Time: "2024-05-01T10:00:00Z";
// other producers add fractions or offsets: "2024-05-01T12:00:00.25+02:00").
// The projected records keep whole seconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saguard::codec {

// Seconds since 1970-01-01T00:00:00Z, the fraction dropped (rounded toward the
// past). nullopt unless `text` is a complete RFC 3339 date-time with a valid date
// (leap years checked), hour 00-23, minute 00-59, second 00-60 and an offset of
// "Z" or +/-HH:MM; "T"/"Z" may be lower case as RFC 3339 allows.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

// The other way: "2026-12-06T22:50:08Z" (UTC, whole seconds), as metav1.Time writes it.
std::string formatRfc3339(std::int64_t seconds);

}  // namespace saguard::codec
