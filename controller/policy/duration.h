// Durations as Kubernetes users write them in specs: Go's time.ParseDuration format
// restricted to whole hours, minutes and seconds ("720h", "1h30m", "90s"), the way
// metav1.Duration fields are written in practice. Fractions and sub-second units are
// refused: no policy decision needs them, and refusing them keeps the CRD's pattern,
// this parser and the messages in agreement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saguard::policy {

// Seconds, or nullopt when `text` is not one or more <digits><h|m|s> groups (or overflows).
std::optional<std::int64_t> parseDuration(std::string_view text);

// A duration for people: "30d", "2h", "5m", "40s" (the largest whole unit, days included,
// rounded down); "0s" for zero or less.
std::string humanDuration(std::int64_t seconds);

}  // namespace saguard::policy
