#include "events/event.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

namespace saguard::events {
namespace {

using nlohmann::json;

ObjectRef makeRef(std::string_view kind, const objects::Meta& meta) {
  const KindSpec* spec = findKind(kind);
  return ObjectRef{
      .apiVersion = std::string(spec->apiVersion),
      .kind = std::string(kind),
      .namespace_ = spec->namespaced ? meta.namespace_.str() : std::string(),
      .name = std::string(meta.name()),
      .uid = std::string(meta.uid()),
      .resourceVersion = std::string(meta.resourceVersion()),
  };
}

json refJson(const ObjectRef& ref) {
  json out = json::object();
  out["apiVersion"] = ref.apiVersion;
  out["kind"] = ref.kind;
  if (!ref.namespace_.empty()) out["namespace"] = ref.namespace_;
  out["name"] = ref.name;
  if (!ref.uid.empty()) out["uid"] = ref.uid;
  if (!ref.resourceVersion.empty()) out["resourceVersion"] = ref.resourceVersion;
  return out;
}

json seriesJson(const Series& series) {
  return json{{"count", series.count},
              {"lastObservedTime", formatMicroTime(series.lastObservedTime)}};
}

bool isContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!isContinuationByte(text[i + k])) return 0;
  }
  return length;
}

// Invalid UTF-8 bytes become '?': JSON needs valid UTF-8, and a replacement that
// keeps the length keeps the note within its limit.
void replaceInvalidUtf8(std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      text[i] = '?';
      length = 1;
    }
    i += length;
  }
}

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// `name` made a DNS subdomain of at most `limit` bytes (see eventName()).
std::string subdomainPrefix(std::string_view name, std::size_t limit) {
  std::string out;
  std::string label;
  auto flush = [&] {
    std::size_t begin = label.find_first_not_of('-');
    if (begin == std::string::npos) {
      label.clear();
      return;
    }
    std::size_t end = label.find_last_not_of('-');
    if (!out.empty()) out += '.';
    out.append(label, begin, end - begin + 1);
    label.clear();
  };
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      flush();
    } else {
      label += isLabelChar(c) ? c : '-';
    }
  }
  flush();
  if (out.size() > limit) {
    out.resize(limit);
    // The cut may leave a label ending in '-' or a trailing '.'.
    while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  }
  if (out.empty()) out = "event";
  return out;
}

}  // namespace

ObjectRef refTo(const objects::ServiceAccount& account) {
  return makeRef("ServiceAccount", account.meta);
}

ObjectRef refTo(const objects::Pod& pod) {
  return makeRef("Pod", pod.meta);
}

ObjectRef refTo(const objects::Binding& binding) {
  return makeRef(binding.clusterScoped ? "ClusterRoleBinding" : "RoleBinding", binding.meta);
}

ObjectRef policyRef(std::string name, std::string uid, std::string resourceVersion) {
  const KindSpec* spec = findKind("ServiceAccountPolicy");
  return ObjectRef{.apiVersion = std::string(spec->apiVersion),
                   .kind = std::string(spec->kind),
                   .namespace_ = {},
                   .name = std::move(name),
                   .uid = std::move(uid),
                   .resourceVersion = std::move(resourceVersion)};
}

Status validateRegarding(Reason reason, const ObjectRef& regarding) {
  auto invalid = [&](const std::string& what) {
    return makeError(ErrorKind::Invalid, std::string("event ") + toString(reason) + " about " +
                                             (regarding.kind.empty() ? "?" : regarding.kind) +
                                             " \"" + regarding.name + "\": " + what);
  };
  if (regarding.apiVersion.empty()) return invalid("regarding.apiVersion is empty");
  if (regarding.kind.empty()) return invalid("regarding.kind is empty");
  if (regarding.name.empty()) return invalid("regarding.name is empty");
  if (!isAbout(reason, regarding.kind)) {
    const auto& kinds = specOf(reason).kinds;
    std::string allowed(kinds[0]);
    if (!kinds[1].empty()) allowed += " or " + std::string(kinds[1]);
    return invalid("reason " + std::string(toString(reason)) + " is about a " + allowed);
  }
  const KindSpec* kind = findKind(regarding.kind);
  if (kind != nullptr && kind->namespaced && regarding.namespace_.empty()) {
    return invalid("regarding.namespace is empty but " + regarding.kind + " is namespaced");
  }
  if (kind != nullptr && !kind->namespaced && !regarding.namespace_.empty()) {
    return invalid("regarding.namespace is set but " + regarding.kind + " is cluster-scoped");
  }
  return Status::Ok();
}

std::string eventNamespace(const ObjectRef& regarding) {
  return regarding.namespace_.empty() ? std::string("default") : regarding.namespace_;
}

std::string truncateNote(std::string note) {
  replaceInvalidUtf8(note);
  if (note.size() <= kMaxNoteBytes) return note;
  static constexpr std::string_view kEllipsis = "...";
  std::size_t keep = kMaxNoteBytes - kEllipsis.size();
  // Never cut a multi-byte character: back up to the start of the one at the cut.
  while (keep > 0 && isContinuationByte(note[keep])) --keep;
  note.resize(keep);
  note += kEllipsis;
  return note;
}

std::string formatMicroTime(WallTime time) {
  using namespace std::chrono;
  auto micros = floor<microseconds>(time.time_since_epoch()).count();
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {  // before 1970: keep the fraction positive
    fraction += 1'000'000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(fraction));
  return buffer;
}

std::string eventName(std::string_view objectName, std::uint64_t nanos) {
  char suffix[24];
  int n = std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  std::string name = subdomainPrefix(objectName, kMaxNameBytes - static_cast<std::size_t>(n));
  name.append(suffix, static_cast<std::size_t>(n));
  return name;
}

std::string toJson(const Event& event) {
  json out = json::object();
  out["apiVersion"] = "events.k8s.io/v1";
  out["kind"] = "Event";
  out["metadata"] = json{{"name", event.name}, {"namespace", event.namespace_}};
  out["eventTime"] = formatMicroTime(event.eventTime);
  if (event.series) out["series"] = seriesJson(*event.series);
  out["reportingController"] = event.reportingController;
  out["reportingInstance"] = event.reportingInstance;
  out["action"] = event.action;
  out["reason"] = event.reason;
  out["note"] = event.note;
  out["type"] = toString(event.type);
  out["regarding"] = refJson(event.regarding);
  if (event.related) out["related"] = refJson(*event.related);
  // Strings that are not valid UTF-8 would make dump() throw; replace them instead
  // (the recorder's notes are already clean: truncateNote()).
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string seriesPatch(const Series& series) {
  return json{{"series", seriesJson(series)}}.dump();
}

}  // namespace saguard::events
