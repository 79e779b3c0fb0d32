// Reads the Prometheus text exposition format back into samples, for tests that check
// what /metrics says (the metrics/ unit tests). Test-only: part of saguard_testing, never
// linked into saguard.
//
//   auto scraped = parseExposition(body);
//   scraped->value("workqueue_depth", {{"name", "serviceaccountpolicy"}});   // optional<double>
//   scraped->declared("rest_client_requests_total");                        // HELP/TYPE seen
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace saguard::metrics {

using LabelSet = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // with its suffix: "x_bucket", "x_sum", "x_count" for a histogram
  LabelSet labels;   // unescaped values
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;               // in the order of the text
  std::map<std::string, std::string> types;  // family name -> "counter", "gauge", "histogram", ...
  std::map<std::string, std::string> helps;  // family name -> help text (unescaped)

  // The sample with exactly this name and these labels, or nullopt.
  std::optional<double> value(std::string_view name, const LabelSet& labels = {}) const;
  // Every sample of this exact name.
  std::vector<const Sample*> series(std::string_view name) const;
  // Whether a # TYPE line declared the family (it may still have no samples).
  bool declared(std::string_view family) const { return types.count(std::string(family)) != 0; }
};

// Invalid, naming the line, when a line is neither a comment nor "name{labels} value [timestamp]".
Result<Exposition> parseExposition(std::string_view text);

}  // namespace saguard::metrics
