// The kubelet's part, played without a kubelet: a service-account token bound to a real
// Pod (what the kubelet asks the TokenRequest API for and mounts into the pod's token
// volume), and a request made with it, as a process in that pod would make it. The API
// server then authenticates the request as the account, with the pod's name and UID and
// the token's ID in the user's extra: what its audit events (evidence of use) record.
//
//   auto created = plane.kubectl("create -o jsonpath='{.metadata.uid}' -f -", podYaml);
//   std::string token = podBoundToken(plane, ns, "app", "web-0", created.out);
//   EXPECT_EQ(callApiWithToken(plane, token, "/api/v1/namespaces/" + ns + "/configmaps"), 200);
//
// A token is a credential even in a test: neither function puts one on a command line
// (where `ps` shows it) or into a message.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "integration/support/controlplane_env.h"

namespace saguard::testing {

// `kubectl create token SERVICE_ACCOUNT -n NS --bound-object-kind Pod --bound-object-name
// POD --bound-object-uid UID`, as the admin: a token (valid 1 h) that the API server accepts
// only while that pod exists with that UID. Throws std::runtime_error with kubectl's message
// when the API server refuses it (no such account or pod, or another UID).
std::string podBoundToken(const ControlPlane& plane, const std::string& ns,
                          const std::string& serviceAccount, const std::string& podName,
                          const std::string& podUid);

// GET `path` ("/api/v1/namespaces/NS/configmaps", a query included) on the API server with
// `Authorization: Bearer TOKEN`, the server's certificate checked against the cluster CA.
// Returns the HTTP status (200, 401, 403, ...), or 0 when no HTTP answer came within 60 s.
// A watch (`?watch=1&timeoutSeconds=N`) returns when the server ends it.
int callApiWithToken(const ControlPlane& plane, const std::string& token, const std::string& path);

// Whether a Pod object (as the API server returned it) holds a service-account token: the
// ground truth, a projected volume with a serviceAccountToken source (what the ServiceAccount
// admission plugin adds as kube-api-access-*).
bool hasProjectedTokenVolume(const nlohmann::json& pod);

}  // namespace saguard::testing
