// Which resources the API server serves, from its discovery documents (Client::discover):
// one GET of a group version answers for every resource in it, where a one-item LIST of
// each would cost a request per resource and read etcd.
//
//   auto served = kube::servedResources(client, "openreports.io", "v1alpha1");
//   if (served.ok() && served->contains("reports")) ...   // NotFound group: an empty set
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "base/result.h"
#include "kube/client.h"

namespace saguard::kube {

// The plural names of the resources the group version serves (subresources such as
// "pods/status" left out); empty when the group version is not served. Errors: the API
// server's (Unavailable, Forbidden, ...), Invalid when the answer is not an
// APIResourceList.
Result<std::set<std::string>> servedResources(Client& client, std::string_view group,
                                              std::string_view version);

// Parses an APIResourceList (the answer of Client::discover).
Result<std::set<std::string>> parseResourceList(std::string_view json);

}  // namespace saguard::kube
