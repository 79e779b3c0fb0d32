#include "policy/label_selector.h"

#include <algorithm>
#include <cstddef>

#include "policy/detail/text.h"

namespace saguard::policy {
namespace {

// Labels are a handful per object: a linear scan comparing interned pointers beats a
// binary search comparing strings, and does not depend on the sort order.
const Symbol* findLabel(const objects::Labels& labels, Symbol key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool contains(const std::vector<Symbol>& values, Symbol value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, the "name" part of a qualified name and a
// non-empty label value.
bool isQualifiedNamePart(std::string_view s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A lower-case DNS-1123 subdomain.
bool isDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    auto lowerAlnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (label.empty() || label.size() > 63 || !lowerAlnum(label.front()) ||
        !lowerAlnum(label.back())) {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [&](char c) { return lowerAlnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

const char* kNameRule =
    "must be 63 characters or less, consist of alphanumeric characters, '-', '_' or '.', and "
    "start and end with an alphanumeric character";

}  // namespace

bool matches(const SelectorRequirement& requirement, const objects::Labels& labels) {
  const Symbol* value = findLabel(labels, requirement.key);
  switch (requirement.op) {
    case SelectorOperator::In:
      return value != nullptr && contains(requirement.values, *value);
    case SelectorOperator::NotIn:
      return value == nullptr || !contains(requirement.values, *value);
    case SelectorOperator::Exists:
      return value != nullptr;
    case SelectorOperator::DoesNotExist:
      return value == nullptr;
  }
  return false;
}

bool matches(const LabelSelector& selector, const objects::Labels& labels) {
  for (const auto& [key, wanted] : selector.matchLabels) {
    const Symbol* value = findLabel(labels, key);
    if (value == nullptr || !(*value == wanted)) return false;
  }
  return std::all_of(selector.matchExpressions.begin(), selector.matchExpressions.end(),
                     [&](const SelectorRequirement& r) { return matches(r, labels); });
}

std::optional<std::string> validateLabelKey(std::string_view key) {
  std::string_view name = key;
  if (auto slash = key.find('/'); slash != std::string_view::npos) {
    std::string_view p = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (p.empty()) {
      return "Invalid value: " + detail::quote(key) + ": prefix part must be non-empty";
    }
    if (!isDnsSubdomain(p)) {
      return "Invalid value: " + detail::quote(key) +
             ": prefix part must be a lowercase DNS-1123 subdomain of at most 253 characters "
             "(e.g. 'example.com')";
    }
  }
  if (name.empty()) return "Invalid value: " + detail::quote(key) + ": name part must be non-empty";
  if (name.size() > 63 || !isQualifiedNamePart(name)) {
    std::string why = "Invalid value: " + detail::quote(key) + ": name part " + kNameRule +
                      " (e.g. 'app.kubernetes.io/name')";
    if (name.find('/') != std::string_view::npos) why += "; a key has at most one '/'";
    return why;
  }
  return std::nullopt;
}

std::optional<std::string> validateLabelValue(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (value.size() > 63 || !isQualifiedNamePart(value)) {
    return "Invalid value: " + detail::quote(value) + ": a label value " + kNameRule;
  }
  return std::nullopt;
}

}  // namespace saguard::policy
