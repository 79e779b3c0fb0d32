#include "e2e/support/kube_json.h"

#include <gtest/gtest.h>

#include <sstream>

namespace saguard::testing {

using nlohmann::json;

json listItems(const ControlPlane& plane, const std::string& args) {
  auto r = plane.kubectl("get " + args + " -o json");
  if (r.exitCode != 0) {
    ADD_FAILURE() << "kubectl get " << args << ": " << r.err;
    return json::array();
  }
  return json::parse(r.out).value("items", json::array());
}

std::vector<json> jsonStream(const std::string& text) {
  std::vector<json> objects;
  std::istringstream lines(text);
  std::string line, chunk;
  while (std::getline(lines, line)) {
    if (chunk.empty() && line.starts_with('{') && line.ends_with('}')) {  // one line each
      json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) objects.push_back(std::move(parsed));
      continue;
    }
    chunk += line + "\n";
    if (line == "}") {
      json parsed = json::parse(chunk, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) objects.push_back(std::move(parsed));
      chunk.clear();
    }
  }
  return objects;
}

bool holdsToken(const json& pod) {
  const json& spec = pod.contains("spec") ? pod["spec"] : json::object();
  for (const json& v : spec.value("volumes", json::array())) {
    if (!v.contains("projected")) continue;
    for (const json& s : v["projected"].value("sources", json::array())) {
      if (s.contains("serviceAccountToken")) return true;
    }
  }
  return false;
}

}  // namespace saguard::testing
