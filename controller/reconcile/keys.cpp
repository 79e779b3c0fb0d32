#include "reconcile/keys.h"

#include "objects/ref.h"

namespace saguard::reconcile {
namespace {
constexpr std::string_view kAccount = "account/";
constexpr std::string_view kPolicy = "policy/";
}  // namespace

std::string accountWorkKey(std::string_view ns, std::string_view name) {
  return std::string(kAccount) + objects::objectKey(ns, name);
}

std::string policyWorkKey(std::string_view name) {
  return std::string(kPolicy) + objects::objectKey({}, name);
}

std::optional<ParsedKey> parseKey(std::string_view key) {
  if (key == kReportsWorkKey) return ParsedKey{ParsedKey::Type::Reports, "", ""};
  if (key.starts_with(kAccount)) {
    std::string_view rest = key.substr(kAccount.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    return ParsedKey{ParsedKey::Type::Account, std::string(rest.substr(0, slash)),
                     std::string(rest.substr(slash + 1))};
  }
  if (key.starts_with(kPolicy)) {
    std::string_view rest = key.substr(kPolicy.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
    return ParsedKey{ParsedKey::Type::Policy, "", std::string(rest)};
  }
  return std::nullopt;
}

}  // namespace saguard::reconcile
