#include "policy/parse.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policy/detail/text.h"
#include "policy/duration.h"
#include "policy/glob.h"
#include "policy/label_selector.h"

namespace saguard::policy {
namespace {

using nlohmann::json;

constexpr std::string_view kApiVersion = "saguard.io/v1alpha1";
constexpr std::string_view kKind = "ServiceAccountPolicy";

// Collects every problem instead of stopping at the first, so one `kubectl describe`
// shows all that is wrong with a policy. Only reads through the non-throwing parts of
// nlohmann::json (type tests, find, get_ref on a checked type).
class Parser {
 public:
  std::vector<ErrorCause> causes;

  void fail(const std::string& field, std::string message) {
    causes.push_back({field, std::move(message)});
  }

  // The member `key` of `object`, or nullptr when it is absent or null.
  static const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
  }

  bool expect(const json& value, json::value_t type, const std::string& field) {
    bool ok = value.type() == type ||
              (type == json::value_t::number_integer && value.is_number_unsigned());
    if (!ok) {
      fail(field,
           std::string("Invalid type: expected ") + typeName(type) + ", got " + value.type_name());
    }
    return ok;
  }

  // The string at object[key]; nullopt when absent or of another type (reported).
  std::optional<std::string> string(const json& object, const char* key, const std::string& field) {
    const json* value = member(object, key);
    if (value == nullptr || !expect(*value, json::value_t::string, field)) return std::nullopt;
    return value->get_ref<const std::string&>();
  }

  bool boolean(const json& object, const char* key, const std::string& field, bool fallback) {
    const json* value = member(object, key);
    if (value == nullptr || !expect(*value, json::value_t::boolean, field)) return fallback;
    return value->get_ref<const json::boolean_t&>();
  }

  // The array at object[key] (nullptr when absent or not an array), with its size checked.
  const json* array(const json& object, const char* key, const std::string& field,
                    std::size_t maxItems) {
    const json* value = member(object, key);
    if (value == nullptr || !expect(*value, json::value_t::array, field)) return nullptr;
    if (value->size() > maxItems) {
      fail(field, "Too many: " + std::to_string(value->size()) + ": must have at most " +
                      std::to_string(maxItems) + " items");
      return nullptr;
    }
    return value;
  }

  const json* object(const json& parent, const char* key, const std::string& field) {
    const json* value = member(parent, key);
    if (value == nullptr || !expect(*value, json::value_t::object, field)) return nullptr;
    return value;
  }

  // A list of name globs; duplicates are rejected like the CRD's list-type "set".
  std::vector<std::string> globs(const json& list, const std::string& field, NameKind kind) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string itemField = field + "[" + std::to_string(i) + "]";
      if (!expect(list[i], json::value_t::string, itemField)) continue;
      const auto& glob = list[i].get_ref<const std::string&>();
      if (auto why = validateGlob(glob, kind)) {
        fail(itemField, *why);
        continue;
      }
      if (!seen.insert(glob).second) {
        fail(itemField, "Duplicate value: " + detail::quote(glob));
        continue;
      }
      out.push_back(glob);
    }
    return out;
  }

  // serviceAccounts.unusedFor: "720h"; between kMinUnusedForSeconds and kMaxUnusedForSeconds.
  std::optional<std::int64_t> unusedFor(const std::string& text, const std::string& field) {
    auto seconds = parseDuration(text);
    if (!seconds) {
      fail(field, "Invalid value: " + detail::quote(text) +
                      ": must be a duration of whole hours, minutes and seconds, like \"720h\"");
      return std::nullopt;
    }
    if (*seconds < kMinUnusedForSeconds || *seconds > kMaxUnusedForSeconds) {
      fail(field, "Invalid value: " + detail::quote(text) + ": must be between 1m and " +
                      std::to_string(kMaxUnusedForSeconds / 3600) + "h");
      return std::nullopt;
    }
    return seconds;
  }

  std::optional<LabelSelector> selector(const json& parent, const std::string& field) {
    const json* value = object(parent, "selector", field);
    if (value == nullptr) return std::nullopt;
    LabelSelector out;
    std::string labelsField = field + ".matchLabels";
    if (const json* labels = object(*value, "matchLabels", labelsField)) {
      if (labels->size() > kMaxSelectorEntries) {
        fail(labelsField, "Too many: " + std::to_string(labels->size()) + ": must have at most " +
                              std::to_string(kMaxSelectorEntries) + " entries");
      } else {
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (auto why = validateLabelKey(it.key())) {
            fail(labelsField, *why);
            continue;
          }
          if (!it.value().is_string()) {
            fail(labelsField + "[" + it.key() + "]",
                 std::string("Invalid type: expected string, got ") + it.value().type_name());
            continue;
          }
          const auto& text = it.value().get_ref<const std::string&>();
          if (auto why = validateLabelValue(text)) {
            fail(labelsField + "[" + it.key() + "]", *why);
            continue;
          }
          out.matchLabels.emplace_back(Symbol(it.key()), Symbol(text));
        }
        std::sort(out.matchLabels.begin(), out.matchLabels.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
      }
    }
    std::string exprsField = field + ".matchExpressions";
    if (const json* exprs = array(*value, "matchExpressions", exprsField, kMaxSelectorEntries)) {
      for (std::size_t i = 0; i < exprs->size(); ++i) {
        std::string itemField = exprsField + "[" + std::to_string(i) + "]";
        if (!expect((*exprs)[i], json::value_t::object, itemField)) continue;
        if (auto requirement = expression((*exprs)[i], itemField)) {
          out.matchExpressions.push_back(std::move(*requirement));
        }
      }
    }
    return out;
  }

  std::optional<SelectorRequirement> expression(const json& item, const std::string& field) {
    SelectorRequirement out;
    bool ok = true;
    auto key = string(item, "key", field + ".key");
    if (!key) {
      if (member(item, "key") == nullptr) fail(field + ".key", "Required value");
      ok = false;
    } else if (auto why = validateLabelKey(*key)) {
      fail(field + ".key", *why);
      ok = false;
    } else {
      out.key = Symbol(*key);
    }

    std::optional<SelectorOperator> op;
    auto opText = string(item, "operator", field + ".operator");
    if (!opText) {
      if (member(item, "operator") == nullptr) fail(field + ".operator", "Required value");
    } else if (*opText == "In") {
      op = SelectorOperator::In;
    } else if (*opText == "NotIn") {
      op = SelectorOperator::NotIn;
    } else if (*opText == "Exists") {
      op = SelectorOperator::Exists;
    } else if (*opText == "DoesNotExist") {
      op = SelectorOperator::DoesNotExist;
    } else {
      fail(field + ".operator", "Unsupported value: " + detail::quote(*opText) +
                                    ": supported values: \"In\", \"NotIn\", \"Exists\", "
                                    "\"DoesNotExist\"");
    }
    if (!op) ok = false;

    std::string valuesField = field + ".values";
    if (const json* values = array(item, "values", valuesField, kMaxSelectorEntries)) {
      for (std::size_t j = 0; j < values->size(); ++j) {
        std::string valueField = valuesField + "[" + std::to_string(j) + "]";
        if (!expect((*values)[j], json::value_t::string, valueField)) {
          ok = false;
          continue;
        }
        const auto& text = (*values)[j].get_ref<const std::string&>();
        if (auto why = validateLabelValue(text)) {
          fail(valueField, *why);
          ok = false;
          continue;
        }
        out.values.emplace_back(text);
      }
    } else if (member(item, "values") != nullptr) {
      ok = false;  // wrong type or too many: already reported
    }

    const json* valuesJson = member(item, "values");
    bool valuesUsable = valuesJson == nullptr ||
                        (valuesJson->is_array() && valuesJson->size() <= kMaxSelectorEntries);
    if (op && valuesUsable) {
      out.op = *op;
      bool needsValues = *op == SelectorOperator::In || *op == SelectorOperator::NotIn;
      bool hasValues = valuesJson != nullptr && !valuesJson->empty();
      if (needsValues && !hasValues) {
        fail(valuesField, std::string("Required value: must be specified when `operator` is '") +
                              toString(*op) + "'");
        ok = false;
      } else if (!needsValues && hasValues) {
        fail(valuesField, std::string("Forbidden: may not be specified when `operator` is '") +
                              toString(*op) + "'");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void metadata(const json& root, Policy& policy) {
    const json* meta = object(root, "metadata", "metadata");
    if (meta == nullptr) {
      if (member(root, "metadata") == nullptr) fail("metadata", "Required value");
      return;
    }
    if (auto name = string(*meta, "name", "metadata.name")) {
      if (name->empty()) fail("metadata.name", "Required value");
      policy.name = std::move(*name);
    } else if (member(*meta, "name") == nullptr) {
      fail("metadata.name", "Required value");
    }
    if (auto uid = string(*meta, "uid", "metadata.uid")) policy.uid = std::move(*uid);
    if (const json* generation = member(*meta, "generation")) {
      if (!generation->is_number_integer()) {
        fail("metadata.generation",
             std::string("Invalid type: expected integer, got ") + generation->type_name());
      } else if (generation->is_number_unsigned()) {
        auto g = generation->get_ref<const json::number_unsigned_t&>();
        if (g > static_cast<json::number_unsigned_t>(INT64_MAX)) {
          fail("metadata.generation", "Invalid value: out of range");
        } else {
          policy.generation = static_cast<std::int64_t>(g);
        }
      } else {
        auto g = generation->get_ref<const json::number_integer_t&>();
        if (g < 0) {
          fail("metadata.generation", "Invalid value: must be non-negative");
        } else {
          policy.generation = g;
        }
      }
    }
  }

  void spec(const json& root, Policy& policy) {
    const json* spec = object(root, "spec", "spec");
    if (spec == nullptr) {
      if (member(root, "spec") == nullptr) fail("spec", "Required value");
      return;
    }
    if (auto mode = string(*spec, "mode", "spec.mode")) {
      if (*mode == "Enforce") {
        policy.mode = Mode::Enforce;
      } else if (*mode == "Audit") {
        policy.mode = Mode::Audit;
      } else {
        fail("spec.mode", "Unsupported value: " + detail::quote(*mode) +
                              ": supported values: \"Enforce\", \"Audit\"");
      }
    }

    if (auto admission = string(*spec, "admission", "spec.admission")) {
      if (*admission == "None") {
        policy.admission = Admission::None;
      } else if (*admission == "Warn") {
        policy.admission = Admission::Warn;
      } else if (*admission == "Deny") {
        policy.admission = Admission::Deny;
      } else {
        fail("spec.admission", "Unsupported value: " + detail::quote(*admission) +
                                   ": supported values: \"None\", \"Warn\", \"Deny\"");
      }
    }

    if (const json* ns = object(*spec, "namespaces", "spec.namespaces")) {
      policy.namespaces.selector = selector(*ns, "spec.namespaces.selector");
      if (const json* exclude = array(*ns, "exclude", "spec.namespaces.exclude", kMaxGlobs)) {
        policy.namespaces.exclude = globs(*exclude, "spec.namespaces.exclude", NameKind::Namespace);
      }
    }

    if (const json* sa = object(*spec, "serviceAccounts", "spec.serviceAccounts")) {
      if (const json* names = array(*sa, "names", "spec.serviceAccounts.names", kMaxGlobs)) {
        if (names->empty()) {
          fail("spec.serviceAccounts.names",
               "Required value: must list at least one glob; omit the field to select every name");
        } else {
          policy.serviceAccounts.names =
              globs(*names, "spec.serviceAccounts.names", NameKind::ServiceAccount);
        }
      }
      policy.serviceAccounts.selector = selector(*sa, "spec.serviceAccounts.selector");
      policy.serviceAccounts.unboundOnly =
          boolean(*sa, "unboundOnly", "spec.serviceAccounts.unboundOnly", false);
      if (auto text = string(*sa, "unusedFor", "spec.serviceAccounts.unusedFor")) {
        policy.serviceAccounts.unusedFor = unusedFor(*text, "spec.serviceAccounts.unusedFor");
      }
    }

    if (const json* exemptions = array(*spec, "exemptions", "spec.exemptions", kMaxExemptions)) {
      for (std::size_t i = 0; i < exemptions->size(); ++i) {
        std::string field = "spec.exemptions[" + std::to_string(i) + "]";
        if (!expect((*exemptions)[i], json::value_t::object, field)) continue;
        if (auto exemption = this->exemption((*exemptions)[i], field)) {
          policy.exemptions.push_back(std::move(*exemption));
        }
      }
    }

    policy.reportPods = boolean(*spec, "reportPods", "spec.reportPods", true);
    policy.reportBindings = boolean(*spec, "reportBindings", "spec.reportBindings", true);
  }

  std::optional<Exemption> exemption(const json& item, const std::string& field) {
    Exemption out;
    bool ok = true;
    auto glob = [&](const char* key, NameKind kind, std::string& into) {
      std::string globField = field + "." + key;
      auto text = string(item, key, globField);
      if (!text) {
        if (member(item, key) == nullptr) fail(globField, "Required value");
        ok = false;
      } else if (auto why = validateGlob(*text, kind)) {
        fail(globField, *why);
        ok = false;
      } else {
        into = std::move(*text);
      }
    };
    glob("namespace", NameKind::Namespace, out.namespaceGlob);
    glob("name", NameKind::ServiceAccount, out.nameGlob);
    if (auto reason = string(item, "reason", field + ".reason")) {
      if (reason->size() > kMaxReasonLength) {
        fail(field + ".reason",
             "Too long: must have at most " + std::to_string(kMaxReasonLength) + " bytes");
        ok = false;
      } else {
        out.reason = std::move(*reason);
      }
    } else if (member(item, "reason") != nullptr) {
      ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void header(const json& root) {
    if (auto apiVersion = string(root, "apiVersion", "apiVersion")) {
      if (*apiVersion != kApiVersion) {
        fail("apiVersion", "Unsupported value: " + detail::quote(*apiVersion) +
                               ": supported values: \"" + std::string(kApiVersion) + "\"");
      }
    }
    if (auto kind = string(root, "kind", "kind")) {
      if (*kind != kKind) {
        fail("kind", "Unsupported value: " + detail::quote(*kind) + ": supported values: \"" +
                         std::string(kKind) + "\"");
      }
    }
  }

 private:
  static const char* typeName(json::value_t type) {
    switch (type) {
      case json::value_t::string:
        return "string";
      case json::value_t::boolean:
        return "boolean";
      case json::value_t::array:
        return "array";
      case json::value_t::object:
        return "object";
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
        return "integer";
      default:
        return "value";
    }
  }
};

Error invalid(const std::string& name, std::vector<ErrorCause> causes) {
  std::string what = name.empty() ? std::string("ServiceAccountPolicy")
                                  : "ServiceAccountPolicy " + detail::quote(name, 253);
  Error error = makeError(ErrorKind::Invalid, what + " is invalid");
  if (causes.size() > kMaxCauses) {
    std::size_t more = causes.size() - (kMaxCauses - 1);
    causes.resize(kMaxCauses - 1);
    causes.push_back({"", "and " + std::to_string(more) + " more errors"});
  }
  error.causes = std::move(causes);
  return error;
}

Result<Policy> parse(const json& root) {
  Parser parser;
  Policy policy;
  if (!root.is_object()) {
    parser.fail("", std::string("Invalid type: expected a ServiceAccountPolicy object, got ") +
                        root.type_name());
    return invalid("", std::move(parser.causes));
  }
  parser.header(root);
  parser.metadata(root, policy);
  parser.spec(root, policy);
  if (!parser.causes.empty()) return invalid(policy.name, std::move(parser.causes));
  return policy;
}

}  // namespace

Result<Policy> parsePolicy(const nlohmann::json& object) {
  try {
    return parse(object);
  } catch (const std::exception& e) {
    // Not expected: the parser only uses non-throwing accessors. Kept so that a
    // surprise (e.g. std::bad_alloc) stays a value and never unwinds into the caller.
    return makeError(ErrorKind::Internal, std::string("parsing ServiceAccountPolicy: ") + e.what());
  }
}

Result<Policy> parsePolicy(std::string_view text) {
  try {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      Error error = makeError(ErrorKind::Invalid, "ServiceAccountPolicy is not valid JSON");
      error.causes.push_back({"", "not valid JSON"});
      return error;
    }
    return parse(root);
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Internal, std::string("parsing ServiceAccountPolicy: ") + e.what());
  }
}

}  // namespace saguard::policy
