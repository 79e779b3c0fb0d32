// Internal to codec/: the building blocks shared by the decoders. Every reader
// returns true on success; on failure it records what went wrong in the Ctx and
// returns false, and each enclosing level prefixes its field name or index on the
// way out, so the final message reads "items[3].spec.volumes[0].secret: expected object".
//
// Failures come in two strengths. Item-level ones (a wrong type, a missing field, a
// bad timestamp) leave simdjson's iterator usable, so a list can skip the item and go
// on. Fatal ones (the JSON itself is broken) end the document.
#pragma once

#include <simdjson.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/intern.h"
#include "codec/decoder.h"
#include "codec/detail/error_path.h"
#include "codec/detail/record_facts.h"
#include "codec/detail/symbol_memo.h"
#include "objects/objects.h"

namespace saguard::codec::detail {

namespace od = simdjson::ondemand;

class Ctx : public ErrorPath {
 public:
  Ctx(const char* end, SymbolMemo& memo) : end_(end), memo_(memo) {}

  // A simdjson error while reading a value of the `expected` JSON type: a wrong type or
  // an unusable number fails the item; anything else means the JSON is broken.
  bool failJson(simdjson::error_code error, std::string_view expected) {
    switch (error) {
      case simdjson::INCORRECT_TYPE:
        return set("expected " + std::string(expected), false);
      case simdjson::NUMBER_ERROR:
      case simdjson::NUMBER_OUT_OF_RANGE:
        // The number was not consumed; the iterator is intact.
        return set(
            std::string("invalid ") + std::string(expected) + ": " + simdjson::error_message(error),
            false);
      default:
        return set(simdjson::error_message(error), true);
    }
  }

  const char* end() const { return end_; }
  Symbol intern(std::string_view text) { return memo_.get(text); }
  SymbolMemo& memo() { return memo_; }

  // Reused across items so a list does not allocate per pod or account.
  PodFacts podFacts;
  std::vector<objects::FieldOwner> fieldOwners;

 private:
  const char* end_;
  SymbolMemo& memo_;
};

// The key of a field without copying it: a view into the input when it has no escape
// sequences (always, for the API server's field names), unescaped otherwise.
inline bool keyOf(od::field& field, std::string_view& key, Ctx& c) {
  const char* const raw = field.key().raw();
  const char* const end = c.end();
  // Keys are short: an inline scan beats two library calls; eight bytes a step (the
  // input is padded, so a word may read past `end`).
  const char* p = raw;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    while (p < end) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof word);
      const std::uint64_t quote = word ^ (kOnes * '"');
      const std::uint64_t slash = word ^ (kOnes * '\\');
      // A zero byte of either: exact at its lowest set bit (a borrow only runs upward).
      const std::uint64_t hit =
          ((quote - kOnes) & ~quote & kHighs) | ((slash - kOnes) & ~slash & kHighs);
      if (hit != 0) {
        p += std::countr_zero(hit) / 8;
        break;
      }
      p += sizeof word;
    }
    if (p > end) p = end;
  } else {
    while (p < end && *p != '"' && *p != '\\') ++p;
  }
  if (p < end && *p == '"') {
    key = std::string_view(raw, static_cast<std::size_t>(p - raw));
    return true;
  }
  if (p == end) return c.failFatal("unterminated object key");
  if (auto error = field.unescaped_key().get(key)) return c.failJson(error, "string key");
  return true;
}

// A value's type when a typed read failed: null stands for "absent".
inline bool isNull(od::value& value) {
  od::json_type type;
  return !value.type().get(type) && type == od::json_type::null;
}

// Calls onField(key, value) for each field; a failure inside is prefixed with the key.
template <typename F>
bool forEachField(od::object& object, Ctx& c, F&& onField) {
  for (auto result : object) {
    od::field field;
    if (auto error = std::move(result).get(field)) return c.failJson(error, "object");
    std::string_view key;
    if (!keyOf(field, key, c)) return false;
    if (!onField(key, field.value())) return c.in(key);
  }
  return true;
}

// The same over a map (labels, annotations): a failure is prefixed with ["key"].
template <typename F>
bool forEachEntry(od::object& object, Ctx& c, F&& onEntry) {
  for (auto result : object) {
    od::field field;
    if (auto error = std::move(result).get(field)) return c.failJson(error, "object");
    std::string_view key;
    if (!keyOf(field, key, c)) return false;
    if (!onEntry(key, field.value())) return c.inEntry(key);
  }
  return true;
}

// Calls onElement(index, value) for each element; a failure inside is prefixed with [index].
template <typename F>
bool forEachElement(od::array& array, Ctx& c, F&& onElement) {
  std::size_t index = 0;
  for (auto result : array) {
    od::value element;
    // get() is rvalue-qualified, whatever the type.
    if (auto error = std::move(result).get(element)) {  // NOLINT(performance-move-const-arg)
      return c.failJson(error, "array element");
    }
    if (!onElement(index, element)) return c.at(index);
    ++index;
  }
  return true;
}

// An object, or null (present = false).
inline bool readObject(od::value& value, od::object& out, bool& present, Ctx& c) {
  auto error = value.get_object().get(out);
  present = !error;
  if (!error) return true;
  if (error == simdjson::INCORRECT_TYPE && isNull(value)) return true;
  return c.failJson(error, "object");
}

// An array, or null (present = false).
inline bool readArray(od::value& value, od::array& out, bool& present, Ctx& c) {
  auto error = value.get_array().get(out);
  present = !error;
  if (!error) return true;
  if (error == simdjson::INCORRECT_TYPE && isNull(value)) return true;
  return c.failJson(error, "array");
}

// A string, or null (empty). The view lives as long as the parsed document.
inline bool readString(od::value& value, std::string_view& out, Ctx& c) {
  auto error = value.get_string().get(out);
  if (!error) {
    if (out.size() > kMaxFieldBytes) {
      return c.fail("string of " + std::to_string(out.size()) + " bytes exceeds the " +
                    std::to_string(kMaxFieldBytes) + "-byte limit");
    }
    return true;
  }
  out = {};
  if (error == simdjson::INCORRECT_TYPE && isNull(value)) return true;
  return c.failJson(error, "string");
}

// A boolean, or null (Unset).
inline bool readTristate(od::value& value, objects::Tristate& out, Ctx& c) {
  bool flag = false;
  auto error = value.get_bool().get(flag);
  if (!error) {
    out = flag ? objects::Tristate::True : objects::Tristate::False;
    return true;
  }
  out = objects::Tristate::Unset;
  if (error == simdjson::INCORRECT_TYPE && isNull(value)) return true;
  return c.failJson(error, "boolean");
}

// An integer, or null (present = false).
inline bool readInt(od::value& value, std::int64_t& out, bool& present, Ctx& c) {
  auto error = value.get_int64().get(out);
  present = !error;
  if (!error) return true;
  if (error == simdjson::INCORRECT_TYPE && isNull(value)) return true;
  return c.failJson(error, "integer");
}

// An object that must be there: null is "expected object" too.
inline bool openItem(od::value& value, od::object& object, Ctx& c) {
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return c.fail("expected object");
  return true;
}

// The projections, one per kind (project.cpp). Each reads one object into its
// record, checks the required fields, and fails item-level or fatally as above.
bool projectPod(od::object& object, objects::Pod& out, Ctx& c);
bool projectServiceAccount(od::object& object, objects::ServiceAccount& out, Ctx& c);
bool projectBinding(od::object& object, objects::Binding& out, bool clusterScoped, Ctx& c);
bool projectNamespace(od::object& object, objects::Namespace& out, Ctx& c);

template <Kind K>
bool project(od::object& object, RecordOf<K>& out, Ctx& c) {
  if constexpr (K == Kind::Pod) {
    return projectPod(object, out, c);
  } else if constexpr (K == Kind::ServiceAccount) {
    return projectServiceAccount(object, out, c);
  } else if constexpr (K == Kind::RoleBinding) {
    return projectBinding(object, out, false, c);
  } else if constexpr (K == Kind::ClusterRoleBinding) {
    return projectBinding(object, out, true, c);
  } else {
    static_assert(K == Kind::Namespace);
    return projectNamespace(object, out, c);
  }
}

// One audit.k8s.io/v1 Event (audit_event.cpp). The views in `out` live as long as the
// document.
bool projectAuditEvent(od::object& object, objects::AuditEventView& out, Ctx& c);

// The object of a BOOKMARK event: metadata.resourceVersion (required) and the
// k8s.io/initial-events-end annotation.
bool projectBookmark(od::object& object, std::string& resourceVersion, bool& initialEventsEnd,
                     Ctx& c);

// The metav1.Status of an ERROR event, as an Error (kind from kindFromStatus).
bool projectStatus(od::object& object, Error& out, Ctx& c);

// Whether a "kind" string field names `expected` or `alternative` (when not
// empty); absent, null or "" passes.
bool checkKind(od::value& value, std::string_view expected, std::string_view alternative, Ctx& c);

}  // namespace saguard::codec::detail
