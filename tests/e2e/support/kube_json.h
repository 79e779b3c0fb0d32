// What the end-to-end tests read out of kubectl's JSON, one copy each:
//
//   for (const json& pod : listItems(plane, "pods -n " + ns)) if (holdsToken(pod)) ...;
//   for (const json& doc : jsonStream(plane.kubectl("create --dry-run=client -o json -f F").out))
//   ...;
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {

// `kubectl get ARGS -o json`'s items; an empty array (and a test failure) when kubectl fails.
// Returned by value: a range-for over a member of a temporary would dangle.
nlohmann::json listItems(const ControlPlane& plane, const std::string& args);

// The objects of kubectl's -o json output when it prints several: one per document of
// `create --dry-run=client -f` (pretty-printed, its braces in column 0) or one per event of
// `get --watch --output-watch-events` (a line each). What does not parse is left out.
std::vector<nlohmann::json> jsonStream(const std::string& text);

// Whether the API server gave the pod a ServiceAccount token: a projected volume with a
// serviceAccountToken source (kube-api-access-*, what the ServiceAccount admission adds).
bool holdsToken(const nlohmann::json& pod);

}  // namespace saguard::testing
