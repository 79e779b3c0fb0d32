// Standard base64 (RFC 4648, with padding) decoding for the kubeconfig's *-data fields.
// Internal to kube/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace saguard::kube::detail {

// Decodes `text`, ignoring ASCII whitespace (kubeconfigs sometimes wrap long values).
// nullopt on any other byte outside the alphabet, or on bad length or padding.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace saguard::kube::detail
