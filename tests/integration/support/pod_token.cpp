#include "integration/support/pod_token.h"

#include <stdexcept>

#include "integration/support/helpers.h"

namespace saguard::testing {

std::string podBoundToken(const ControlPlane& plane, const std::string& ns,
                          const std::string& serviceAccount, const std::string& podName,
                          const std::string& podUid) {
  auto created = plane.kubectl("create token " + shellQuote(serviceAccount) + " -n " +
                               shellQuote(ns) + " --bound-object-kind Pod --bound-object-name " +
                               shellQuote(podName) + " --bound-object-uid " + shellQuote(podUid));
  std::string token = trimmed(created.out);
  if (created.exitCode != 0 || token.empty()) {
    throw std::runtime_error("kubectl create token " + serviceAccount + " -n " + ns +
                             " bound to pod " + podName + " (" + podUid + "): " + created.err);
  }
  return token;
}

int callApiWithToken(const ControlPlane& plane, const std::string& token, const std::string& path) {
  // The header comes from standard input (-H @-), not from the command line.
  auto called =
      run("curl -s -o /dev/null -w '%{http_code}' --max-time 60 --cacert " +
              shellQuote(plane.caFile) + " -H @- " + shellQuote(plane.apiServerUrl + path),
          "Authorization: Bearer " + token + "\n");
  try {
    return std::stoi(called.out);  // "000" when curl got no answer
  } catch (const std::exception&) {
    return 0;
  }
}

bool hasProjectedTokenVolume(const nlohmann::json& pod) {
  if (!pod.contains("spec")) return false;
  for (const auto& volume : pod["spec"].value("volumes", nlohmann::json::array())) {
    if (!volume.contains("projected")) continue;
    for (const auto& source : volume["projected"].value("sources", nlohmann::json::array())) {
      if (source.contains("serviceAccountToken")) return true;
    }
  }
  return false;
}

}  // namespace saguard::testing
