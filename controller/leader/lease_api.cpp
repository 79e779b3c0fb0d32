#include "leader/lease_api.h"

#include "kube/resource.h"

namespace saguard::leader {

Result<std::string> KubeLeaseApi::get(std::string_view ns, std::string_view name,
                                      std::chrono::milliseconds timeout) {
  return client_.get(kube::resources::kLeases, ns, name, {.timeout = timeout});
}

Result<std::string> KubeLeaseApi::create(std::string_view ns, std::string_view body,
                                         std::chrono::milliseconds timeout) {
  return client_.create(kube::resources::kLeases, ns, body,
                        {.fieldManager = fieldManager_, .timeout = timeout});
}

Result<std::string> KubeLeaseApi::update(std::string_view ns, std::string_view name,
                                         std::string_view body, std::chrono::milliseconds timeout) {
  return client_.update(kube::resources::kLeases, ns, name, body,
                        {.fieldManager = fieldManager_, .timeout = timeout});
}

}  // namespace saguard::leader
