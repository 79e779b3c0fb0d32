#include "cache/reflector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "cache/record_traits.h"

namespace saguard::cache {

Status validate(const ReflectorOptions& options) {
  auto invalid = [](const std::string& message) {
    return makeError(ErrorKind::Invalid, "reflector." + message);
  };
  if (options.resource.plural.empty())
    return invalid("resource.plural: must name the resource to watch");
  if (options.resource.version.empty()) return invalid("resource.version: must be set");
  if (options.pageSize <= 0) return invalid("pageSize: must be positive");
  if (options.minWatchTimeout <= std::chrono::seconds::zero())
    return invalid("minWatchTimeout: must be positive");
  if (options.maxWatchTimeout <= options.minWatchTimeout) {
    return invalid("maxWatchTimeout: must be above minWatchTimeout");
  }
  if (options.shortWatch < std::chrono::milliseconds::zero())
    return invalid("shortWatch: must not be negative");
  if (Status st = validate(options.backoff); !st) return invalid(st.error().message);
  return {};
}

namespace detail {

const std::string& reflectorName(const ReflectorOptions& options) {
  return options.name.empty() ? options.resource.plural : options.name;
}

int drawWatchTimeout(const ReflectorOptions& options, const kube::RandomSource& random) {
  const auto low = options.minWatchTimeout.count();
  const auto span = options.maxWatchTimeout.count() - low;
  const double r = std::clamp(random(), 0.0, 1.0);
  auto offset = static_cast<std::int64_t>(std::floor(r * static_cast<double>(span)));
  offset = std::clamp<std::int64_t>(offset, 0, span - 1);  // r may be 1.0 from a sloppy source
  return static_cast<int>(low + offset);
}

void logSkippedListItem(const std::string& reflector, const codec::SkippedItem& item) {
  const std::string key =
      item.name.empty() ? std::string("<unnamed>") : objectKey(item.namespace_, item.name);
  spdlog::warn("reflector {}: skipping malformed object {} (list item {}): {}", reflector, key,
               item.index, item.error.message);
}

void logSkippedEvent(const std::string& reflector, const std::string& key, const Error& error) {
  spdlog::warn("reflector {}: skipping malformed watch event for {}: {}", reflector,
               key.empty() ? std::string("<unknown object>") : key, error.message);
}

void logFailure(const std::string& reflector, std::string_view step, const Error& error,
                std::chrono::milliseconds wait) {
  spdlog::warn("reflector {}: {} failed: {}; retrying in {} ms", reflector, step, error.describe(),
               wait.count());
}

void logGone(const std::string& reflector, std::string_view resourceVersion, const Error& error) {
  spdlog::info("reflector {}: resourceVersion {} is gone ({}); listing again", reflector,
               resourceVersion, error.message);
}

void logListed(const std::string& reflector, std::size_t count, std::string_view resourceVersion) {
  spdlog::debug("reflector {}: listed {} objects at resourceVersion {}", reflector, count,
                resourceVersion);
}

void logNoStreamingList(const std::string& reflector, const Error& error) {
  spdlog::info("reflector {}: the API server does not serve streaming lists ({}); listing instead",
               reflector, error.message);
}

void logNoProtobuf(const std::string& reflector, const Error& error) {
  spdlog::info("reflector {}: the API server does not send protobuf ({}); watching in JSON",
               reflector, error.message);
}

}  // namespace detail
}  // namespace saguard::cache
