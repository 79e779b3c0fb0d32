// The protobuf decoding of protobuf.h: a bounds-checked wire reader, and one function per
// message that reads the fields by number (k8s.io/api's generated.proto) into the record.
#include "codec/protobuf.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "codec/detail/error_path.h"
#include "codec/detail/record_facts.h"

namespace saguard::codec {
namespace {

using detail::PodFacts;
using objects::Meta;

// --- the wire ------------------------------------------------------------------------

enum Wire : std::uint8_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  std::uint8_t wire = 0;
  std::uint64_t varint = 0;  // kVarint
  std::string_view bytes;    // kBytes
};

// Reads the fields of one message. next() is false at the end and on malformed data;
// error() tells which (nullptr at a clean end).
class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool next(Field& field) {
    if (p_ == end_) return false;
    std::uint64_t tag = 0;
    if (!varint(tag)) return false;
    field.number = static_cast<std::uint32_t>(tag >> 3);
    field.wire = static_cast<std::uint8_t>(tag & 7);
    if (field.number == 0 || (tag >> 3) > 0x1FFFFFFF) return failed("a field number out of range");
    switch (field.wire) {
      case kVarint:
        return varint(field.varint);
      case kFixed64:
        return skip(8);
      case kFixed32:
        return skip(4);
      case kBytes: {
        std::uint64_t length = 0;
        if (!varint(length)) return false;
        if (length > static_cast<std::uint64_t>(end_ - p_))
          return failed("a length runs past the end of its message");
        field.bytes = std::string_view(p_, static_cast<std::size_t>(length));
        p_ += length;
        return true;
      }
      default:
        return failed("an unsupported wire type");
    }
  }
  const char* error() const { return error_; }

 private:
  bool varint(std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return failed("a varint runs past the end of its message");
      const auto byte = static_cast<std::uint8_t>(*p_++);
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return failed("a varint longer than 10 bytes");
  }
  bool skip(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) return failed("a fixed field runs past the end");
    p_ += n;
    return true;
  }
  bool failed(const char* what) {
    error_ = what;
    return false;
  }

  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

// --- failures, with the path where they happened --------------------------------------

class Ctx : public detail::ErrorPath {
 public:
  explicit Ctx(detail::SymbolMemo& memo) : memo_(memo) {}

  Error error() const { return makeError(ErrorKind::Invalid, message()); }

  Symbol intern(std::string_view text) { return memo_.get(text); }
  detail::SymbolMemo& memo() { return memo_; }

  PodFacts podFacts;  // reused across the items of a list
  std::vector<objects::FieldOwner> fieldOwners;

 private:
  detail::SymbolMemo& memo_;
};

// Walks a message: visit(field) for each field; false (with c's failure set) when the
// wire data is malformed or visit said so.
template <typename Visit>
bool forEachField(std::string_view message, Ctx& c, Visit&& visit) {
  Reader reader(message);
  Field field;
  while (reader.next(field)) {
    if (!visit(field)) return false;
  }
  if (reader.error() != nullptr) return c.fail(reader.error());
  return true;
}

bool wrongWire(const Field& field, Ctx& c) {
  return c.fail("field " + std::to_string(field.number) + " has wire type " +
                std::to_string(field.wire));
}

// A string field kept in a record: UTF-8 and at most kMaxFieldBytes, as the JSON decoder
// enforces.
bool readString(const Field& field, std::string_view& out, Ctx& c) {
  if (field.wire != kBytes) return wrongWire(field, c);
  if (field.bytes.size() > kMaxFieldBytes) return c.fail("a string exceeds the size limit");
  if (!simdjson::validate_utf8(field.bytes.data(), field.bytes.size()))
    return c.fail("a string is not UTF-8");
  out = field.bytes;
  return true;
}

bool readMessage(const Field& field, std::string_view& out, Ctx& c) {
  if (field.wire != kBytes) return wrongWire(field, c);
  out = field.bytes;
  return true;
}

bool readBool(const Field& field, objects::Tristate& out, Ctx& c) {
  if (field.wire != kVarint) return wrongWire(field, c);
  out = field.varint != 0 ? objects::Tristate::True : objects::Tristate::False;
  return true;
}

bool readInt(const Field& field, std::int64_t& out, Ctx& c) {
  if (field.wire != kVarint) return wrongWire(field, c);
  out = static_cast<std::int64_t>(field.varint);
  return true;
}

// A map<string, string> entry: {1: key, 2: value}.
bool readEntry(std::string_view entry, std::string_view& key, std::string_view& value, Ctx& c) {
  key = value = {};
  return forEachField(entry, c, [&](const Field& f) {
    if (f.number == 1) return readString(f, key, c);
    if (f.number == 2) return readString(f, value, c);
    return true;
  });
}

// --- metadata ------------------------------------------------------------------------

// What a kind wants from metadata beyond the identity (as project.cpp's MetaWant).
struct MetaWant {
  bool namespaced = true;
  objects::Labels* labels = nullptr;
  std::int64_t* creationTimestamp = nullptr;
  bool* initialEventsEnd = nullptr;
  Symbol* tokenLastUsed = nullptr;
  objects::Tristate* lastAppliedAutomount = nullptr;
  objects::FieldOwners* automountOwners = nullptr;
  PodFacts* controller = nullptr;  // controllerKind and controllerName
};

// metav1.Time {1: seconds, 2: nanos}; Go's zero time is sent as an empty message.
bool readTime(std::string_view message, std::int64_t& seconds, Ctx& c) {
  seconds = 0;
  return forEachField(message, c, [&](const Field& f) {
    if (f.number == 1) return readInt(f, seconds, c);
    return true;
  });
}

// OwnerReference {1: kind, 3: name, 6: controller}; the first with controller: true.
bool readOwnerReference(std::string_view message, PodFacts& facts, Ctx& c) {
  std::string_view kind, name;
  objects::Tristate controller = objects::Tristate::Unset;
  const bool ok = forEachField(message, c, [&](const Field& f) {
    if (f.number == 1) return readString(f, kind, c);
    if (f.number == 3) return readString(f, name, c);
    if (f.number == 6) return readBool(f, controller, c);
    return true;
  });
  if (!ok) return false;
  if (controller == objects::Tristate::True && !kind.empty() && facts.controllerKind.empty()) {
    facts.controllerKind = kind;
    facts.controllerName = name;
  }
  return true;
}

// ManagedFieldsEntry {1: manager, 2: operation, 7: fieldsV1 {1: raw JSON}}.
bool readManagedFields(std::string_view message, Ctx& c) {
  std::string_view manager, operation, fieldsV1;
  const bool ok = forEachField(message, c, [&](const Field& f) {
    if (f.number == 1) return readString(f, manager, c);
    if (f.number == 2) return readString(f, operation, c);
    if (f.number != 7) return true;
    std::string_view fields;
    if (!readMessage(f, fields, c)) return false;
    return forEachField(fields, c, [&](const Field& raw) {
      if (raw.number == 1) return readMessage(raw, fieldsV1, c);
      return true;
    });
  });
  if (!ok) return false;
  if (fieldsV1.empty()) return true;
  const std::optional<bool> owns = detail::fieldsV1OwnsAutomount(fieldsV1);
  if (!owns) return c.fail("fieldsV1 is not a JSON object") || c.in("fieldsV1");
  if (!*owns) return true;
  if (operation == "Apply") {
    c.fieldOwners.push_back({c.intern(manager), objects::FieldOperation::Apply});
  } else if (operation == "Update") {
    c.fieldOwners.push_back({c.intern(manager), objects::FieldOperation::Update});
  }
  return true;
}

// ObjectMeta {1: name, 3: namespace, 5: uid, 6: resourceVersion, 8: creationTimestamp,
// 11: labels, 12: annotations, 13: ownerReferences, 17: managedFields}.
bool readMeta(std::string_view message, Meta& meta, const MetaWant& want, Ctx& c) {
  std::string_view name = meta.name();
  std::string_view uid = meta.uid();
  std::string_view resourceVersion = meta.resourceVersion();
  std::size_t owners = 0, managed = 0;
  if (want.labels != nullptr) want.labels->clear();
  if (want.automountOwners != nullptr) c.fieldOwners.clear();
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view text;
    switch (f.number) {
      case 1:
        return readString(f, name, c) || c.in("name");
      case 3:
        if (!readString(f, text, c)) return c.in("namespace");
        if (want.namespaced) meta.namespace_ = c.intern(text);
        return true;
      case 5:
        return readString(f, uid, c) || c.in("uid");
      case 6:
        return readString(f, resourceVersion, c) || c.in("resourceVersion");
      case 8:
        if (want.creationTimestamp == nullptr) return true;
        if (!readMessage(f, text, c)) return c.in("creationTimestamp");
        return readTime(text, *want.creationTimestamp, c) || c.in("creationTimestamp");
      case 11: {
        if (want.labels == nullptr) return true;
        std::string_view key, value;
        if (!readMessage(f, text, c) || !readEntry(text, key, value, c)) return c.in("labels");
        want.labels->emplace_back(c.intern(key), c.intern(value));
        return true;
      }
      case 12: {
        std::string_view key, value;
        if (!readMessage(f, text, c)) return c.in("annotations");
        // Only the keys saguard reads are checked; the others are never kept.
        if (!forEachField(text, c, [&](const Field& e) {
              if (e.number == 1 && e.wire == kBytes) key = e.bytes;
              return true;
            })) {
          return c.in("annotations");
        }
        if (key == "k8s.io/initial-events-end" && want.initialEventsEnd != nullptr) {
          if (!readEntry(text, key, value, c)) return c.in("annotations");
          *want.initialEventsEnd = value == "true";
        } else if (key == objects::kTokenLastUsedAnnotation && want.tokenLastUsed != nullptr) {
          if (!readEntry(text, key, value, c)) return c.in("annotations");
          *want.tokenLastUsed = c.intern(value);
        } else if (key == objects::kLastAppliedAnnotation && want.lastAppliedAutomount != nullptr) {
          // Not readString: the configuration may exceed kMaxFieldBytes and is not kept.
          forEachField(text, c, [&](const Field& e) {
            if (e.number == 2 && e.wire == kBytes) value = e.bytes;
            return true;
          });
          *want.lastAppliedAutomount = detail::lastAppliedAutomount(value);
        }
        return true;
      }
      case 13:
        ++owners;
        if (want.controller == nullptr) return true;
        if (!readMessage(f, text, c) || !readOwnerReference(text, *want.controller, c))
          return c.at(owners - 1) || c.in("ownerReferences");
        return true;
      case 17:
        ++managed;
        if (want.automountOwners == nullptr) return true;
        if (!readMessage(f, text, c) || !readManagedFields(text, c))
          return c.at(managed - 1) || c.in("managedFields");
        return true;
      default:
        return true;
    }
  });
  meta.setIdentity(name, uid, resourceVersion);
  if (!ok) return false;
  if (want.labels != nullptr) detail::sortLabels(*want.labels);
  if (want.automountOwners != nullptr) *want.automountOwners = objects::FieldOwners(c.fieldOwners);
  return true;
}

bool checkIdentity(const Meta& meta, bool namespaced, Ctx& c) {
  if (meta.name().empty()) return c.missing({"metadata", "name"});
  if (namespaced && meta.namespace_.empty()) return c.missing({"metadata", "namespace"});
  return true;
}

// --- the kinds -----------------------------------------------------------------------

// VolumeProjection {4: serviceAccountToken}.
bool readProjected(std::string_view message, PodFacts& facts, Ctx& c) {
  return forEachField(message, c, [&](const Field& f) {
    if (f.number != 1) return true;  // ProjectedVolumeSource {1: sources}
    std::string_view source;
    if (!readMessage(f, source, c)) return c.in("sources");
    return forEachField(source, c, [&](const Field& s) {
      if (s.number != 4) return true;
      if (s.wire != kBytes) return wrongWire(s, c) || c.in("sources");
      facts.projectedToken = true;
      return true;
    });
  });
}

// Volume {2: VolumeSource {6: secret {1: secretName}, 26: projected}}.
bool readVolume(std::string_view message, PodFacts& facts, Ctx& c) {
  return forEachField(message, c, [&](const Field& f) {
    if (f.number != 2) return true;
    std::string_view source;
    if (!readMessage(f, source, c)) return false;
    return forEachField(source, c, [&](const Field& s) {
      std::string_view body;
      if (s.number == 26) {
        if (!readMessage(s, body, c)) return c.in("projected");
        return readProjected(body, facts, c) || c.in("projected");
      }
      if (s.number != 6) return true;
      if (!readMessage(s, body, c)) return c.in("secret");
      return forEachField(body, c, [&](const Field& secret) {
        if (secret.number != 1) return true;
        std::string_view name;
        if (!readString(secret, name, c)) return c.in("secretName") || c.in("secret");
        if (!name.empty()) facts.secretNames.push_back(name);
        return true;
      });
    });
  });
}

// PodSpec {1: volumes, 8: serviceAccountName, 9: serviceAccount, 21: automount...}.
bool readPodSpec(std::string_view message, PodFacts& facts, Ctx& c) {
  std::size_t volumes = 0;
  return forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    switch (f.number) {
      case 1:
        ++volumes;
        if (!readMessage(f, body, c) || !readVolume(body, facts, c))
          return c.at(volumes - 1) || c.in("volumes");
        return true;
      case 8:
        return readString(f, facts.serviceAccountName, c) || c.in("serviceAccountName");
      case 9:
        return readString(f, facts.serviceAccount, c) || c.in("serviceAccount");
      case 21:
        return readBool(f, facts.automount, c) || c.in("automountServiceAccountToken");
      default:
        return true;
    }
  });
}

template <Kind K>
bool project(std::string_view message, RecordOf<K>& record, Ctx& c);

template <>
bool project<Kind::Pod>(std::string_view message, objects::Pod& pod, Ctx& c) {
  PodFacts& facts = c.podFacts;
  facts.reset();
  const MetaWant want{
      .namespaced = true, .creationTimestamp = &pod.creationTimestamp, .controller = &facts};
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1)
      return (readMessage(f, body, c) && readMeta(body, pod.meta, want, c)) || c.in("metadata");
    if (f.number == 2)
      return (readMessage(f, body, c) && readPodSpec(body, facts, c)) || c.in("spec");
    return true;
  });
  if (!ok || !checkIdentity(pod.meta, true, c)) return false;
  detail::finishPod(pod, facts, c.memo());
  return true;
}

template <>
bool project<Kind::ServiceAccount>(std::string_view message, objects::ServiceAccount& account,
                                   Ctx& c) {
  const MetaWant want{.namespaced = true,
                      .labels = &account.labels,
                      .creationTimestamp = &account.creationTimestamp,
                      .tokenLastUsed = &account.tokenLastUsed,
                      .lastAppliedAutomount = &account.lastAppliedAutomount,
                      .automountOwners = &account.automountOwners};
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1) {
      return (readMessage(f, body, c) && readMeta(body, account.meta, want, c)) || c.in("metadata");
    }
    if (f.number == 4)
      return readBool(f, account.automount, c) || c.in("automountServiceAccountToken");
    return true;
  });
  return ok && checkIdentity(account.meta, true, c);
}

// RoleBinding / ClusterRoleBinding {1: metadata, 2: subjects, 3: roleRef}.
bool projectBinding(std::string_view message, objects::Binding& binding, bool clusterScoped,
                    Ctx& c) {
  binding.clusterScoped = clusterScoped;
  binding.subjects.clear();
  const MetaWant want{.namespaced = !clusterScoped};
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1) {
      return (readMessage(f, body, c) && readMeta(body, binding.meta, want, c)) || c.in("metadata");
    }
    if (f.number == 3) {  // RoleRef {2: kind, 3: name}
      if (!readMessage(f, body, c)) return c.in("roleRef");
      return forEachField(body, c, [&](const Field& r) {
        std::string_view text;
        if (r.number == 2) {
          if (!readString(r, text, c)) return c.in("kind") || c.in("roleRef");
          binding.roleRef.kind = c.intern(text);
        } else if (r.number == 3) {
          if (!readString(r, text, c)) return c.in("name") || c.in("roleRef");
          binding.roleRef.name = c.intern(text);
        }
        return true;
      });
    }
    if (f.number != 2) return true;
    const std::size_t index = binding.subjects.size();
    objects::Subject subject;  // Subject {1: kind, 3: name, 4: namespace}
    const bool read = readMessage(f, body, c) && forEachField(body, c, [&](const Field& s) {
                        std::string_view text;
                        if (s.number == 1) {
                          if (!readString(s, text, c)) return c.in("kind");
                          subject.kind = c.intern(text);
                        } else if (s.number == 3) {
                          if (!readString(s, text, c)) return c.in("name");
                          subject.name = c.intern(text);
                        } else if (s.number == 4) {
                          if (!readString(s, text, c)) return c.in("namespace");
                          subject.namespace_ = c.intern(text);
                        }
                        return true;
                      });
    if (!read) return c.at(index) || c.in("subjects");
    if (subject.kind.empty()) return c.missing({"kind"}) || c.at(index) || c.in("subjects");
    if (subject.name.empty()) return c.missing({"name"}) || c.at(index) || c.in("subjects");
    binding.subjects.push_back(subject);
    return true;
  });
  if (!ok || !checkIdentity(binding.meta, !clusterScoped, c)) return false;
  if (binding.roleRef.kind.empty()) return c.missing({"roleRef", "kind"});
  if (binding.roleRef.name.empty()) return c.missing({"roleRef", "name"});
  return true;
}

template <>
bool project<Kind::RoleBinding>(std::string_view message, objects::Binding& binding, Ctx& c) {
  return projectBinding(message, binding, false, c);
}

template <>
bool project<Kind::ClusterRoleBinding>(std::string_view message, objects::Binding& binding,
                                       Ctx& c) {
  return projectBinding(message, binding, true, c);
}

template <>
bool project<Kind::Namespace>(std::string_view message, objects::Namespace& ns, Ctx& c) {
  const MetaWant want{.namespaced = false, .labels = &ns.labels};
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1)
      return (readMessage(f, body, c) && readMeta(body, ns.meta, want, c)) || c.in("metadata");
    if (f.number != 3) return true;  // NamespaceStatus {1: phase}
    if (!readMessage(f, body, c)) return c.in("status");
    return forEachField(body, c, [&](const Field& s) {
      if (s.number != 1) return true;
      std::string_view phase;
      if (!readString(s, phase, c)) return c.in("phase") || c.in("status");
      ns.phase = c.intern(phase);
      return true;
    });
  });
  return ok && checkIdentity(ns.meta, false, c);
}

// metav1.Status {3: message, 4: reason, 5: details {4: causes, 5: retryAfterSeconds},
// 6: code}, as the Error of a watch ERROR event.
bool projectStatus(std::string_view message, Error& out, Ctx& c) {
  std::int64_t code = 0, retryAfterSeconds = 0;
  std::string_view reason, text;
  std::vector<ErrorCause> causes;
  const bool ok = forEachField(message, c, [&](const Field& f) {
    if (f.number == 3) return readString(f, text, c) || c.in("message");
    if (f.number == 4) return readString(f, reason, c) || c.in("reason");
    if (f.number == 6) return readInt(f, code, c) || c.in("code");
    if (f.number != 5) return true;
    std::string_view details;
    if (!readMessage(f, details, c)) return c.in("details");
    return forEachField(details, c, [&](const Field& d) {
      if (d.number == 5) return readInt(d, retryAfterSeconds, c) || c.in("retryAfterSeconds");
      if (d.number != 4) return true;
      std::string_view cause, causeReason, causeMessage, causeField;
      if (!readMessage(d, cause, c)) return c.in("causes");
      const bool read = forEachField(cause, c, [&](const Field& x) {
        if (x.number == 1) return readString(x, causeReason, c);
        if (x.number == 2) return readString(x, causeMessage, c);
        if (x.number == 3) return readString(x, causeField, c);
        return true;
      });
      if (!read) return c.in("causes");
      causes.push_back(ErrorCause{std::string(causeField),
                                  std::string(causeMessage.empty() ? causeReason : causeMessage)});
      return true;
    });
  });
  if (!ok) return false;
  auto error = detail::statusError(code, reason, text, retryAfterSeconds, std::move(causes));
  if (!error) return c.fail("not an HTTP status code: " + std::to_string(code)) || c.in("code");
  out = std::move(*error);
  return true;
}

// A bookmark's object: only metadata.resourceVersion and the initial-events-end mark.
bool projectBookmark(std::string_view message, std::string& resourceVersion, bool& initialEventsEnd,
                     Ctx& c) {
  Meta meta;
  const MetaWant want{.namespaced = false, .initialEventsEnd = &initialEventsEnd};
  const bool ok = forEachField(message, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1)
      return (readMessage(f, body, c) && readMeta(body, meta, want, c)) || c.in("metadata");
    return true;
  });
  if (!ok) return false;
  if (meta.resourceVersion().empty()) return c.missing({"metadata", "resourceVersion"});
  resourceVersion.assign(meta.resourceVersion());
  return true;
}

// --- the envelope --------------------------------------------------------------------

constexpr std::string_view kMagic("k8s\0", 4);

struct Envelope {
  std::string_view kind;
  std::string_view raw;
};

// "k8s\0" + runtime.Unknown {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw,
// 3: contentEncoding}.
Result<Envelope> openEnvelope(std::string_view body, Ctx& c) {
  if (body.substr(0, kMagic.size()) != kMagic)
    return makeError(ErrorKind::Invalid, "not a Kubernetes protobuf message (no k8s\\0 prefix)");
  Envelope envelope;
  std::string_view encoding;
  const bool ok = forEachField(body.substr(kMagic.size()), c, [&](const Field& f) {
    std::string_view text;
    if (f.number == 1) {
      if (!readMessage(f, text, c)) return c.in("typeMeta");
      return forEachField(text, c, [&](const Field& t) {
        if (t.number == 2) return readString(t, envelope.kind, c) || c.in("typeMeta.kind");
        return true;
      });
    }
    if (f.number == 2) return readMessage(f, envelope.raw, c) || c.in("raw");
    if (f.number == 3) return readString(f, encoding, c) || c.in("contentEncoding");
    return true;
  });
  if (!ok) return c.error();
  if (!encoding.empty())
    return makeError(ErrorKind::Invalid, "unsupported content encoding \"" +
                                             std::string(encoding.substr(0, 64)) + "\"");
  return envelope;
}

Status expectKind(std::string_view got, std::string_view expected) {
  if (got.empty() || got == expected) return {};
  return makeError(ErrorKind::Invalid, "expected \"" + std::string(expected) + "\", got \"" +
                                           std::string(got.substr(0, 64)) + "\"");
}

// The name and namespace read before a failure, for SkippedItem.
void identityOf(std::string_view message, std::string& ns, std::string& name) {
  detail::SymbolMemo memo;
  Ctx scratch(memo);
  forEachField(message, scratch, [&](const Field& f) {
    if (f.number != 1 || f.wire != kBytes) return true;
    forEachField(f.bytes, scratch, [&](const Field& m) {
      if (m.wire == kBytes && m.bytes.size() <= 253 &&
          simdjson::validate_utf8(m.bytes.data(), m.bytes.size())) {
        if (m.number == 1) name.assign(m.bytes);
        if (m.number == 3) ns.assign(m.bytes);
      }
      return true;
    });
    return true;
  });
}

template <Kind K>
std::string listKind() {
  return std::string(toString(K)) + "List";
}

}  // namespace

template <Kind K>
Result<ListMeta> ProtobufDecoder::list(std::string_view body, const ListSink<RecordOf<K>>& sink) {
  Ctx c(memo_);
  auto envelope = openEnvelope(body, c);
  if (!envelope) return envelope.error();
  if (Status kind = expectKind(envelope->kind, listKind<K>()); !kind) return kind.error();
  ListMeta meta;
  std::size_t index = 0;
  const bool ok = forEachField(envelope->raw, c, [&](const Field& f) {
    std::string_view body;
    if (f.number == 1) {  // ListMeta {2: resourceVersion, 3: continue, 4: remainingItemCount}
      if (!readMessage(f, body, c)) return c.in("metadata");
      return forEachField(body, c, [&](const Field& m) {
        std::string_view text;
        if (m.number == 2) {
          if (!readString(m, text, c)) return c.in("metadata.resourceVersion");
          meta.resourceVersion.assign(text);
        } else if (m.number == 3) {
          if (!readString(m, text, c)) return c.in("metadata.continue");
          meta.continueToken.assign(text);
        } else if (m.number == 4) {
          std::int64_t remaining = 0;
          if (!readInt(m, remaining, c)) return c.in("metadata.remainingItemCount");
          meta.remainingItemCount = remaining;
        }
        return true;
      });
    }
    if (f.number != 2) return true;
    if (!readMessage(f, body, c)) return c.at(index) || c.in("items");
    RecordOf<K> record;
    if (project<K>(body, record, c)) {
      ++meta.itemCount;
      sink.onItem(std::move(record));
    } else {
      c.at(index);
      c.in("items");
      ++meta.skippedCount;
      if (sink.onSkipped) {
        SkippedItem skipped;
        skipped.index = index;
        skipped.error = c.error();
        identityOf(body, skipped.namespace_, skipped.name);
        sink.onSkipped(std::move(skipped));
      }
    }
    ++index;
    return true;
  });
  if (!ok) return c.error();
  return meta;
}

template <Kind K>
Result<WatchEvent<RecordOf<K>>> ProtobufDecoder::watchEvent(std::string_view frame) {
  Ctx c(memo_);
  std::string_view type, object;
  const bool ok = forEachField(frame, c, [&](const Field& f) {
    if (f.number == 1) return readString(f, type, c) || c.in("type");
    if (f.number != 2) return true;
    std::string_view raw;
    if (!readMessage(f, raw, c)) return c.in("object");
    return forEachField(raw, c, [&](const Field& r) {
      if (r.number == 1) return readMessage(r, object, c) || c.in("object.raw");
      return true;
    });
  });
  if (!ok) return c.error();
  WatchEvent<RecordOf<K>> event;
  if (type == "ADDED") {
    event.type = EventType::Added;
  } else if (type == "MODIFIED") {
    event.type = EventType::Modified;
  } else if (type == "DELETED") {
    event.type = EventType::Deleted;
  } else if (type == "BOOKMARK") {
    event.type = EventType::Bookmark;
  } else if (type == "ERROR") {
    event.type = EventType::Error;
  } else {
    return makeError(ErrorKind::Invalid,
                     "type: unknown watch event type \"" + std::string(type.substr(0, 64)) + "\"");
  }
  auto envelope = openEnvelope(object, c);
  if (!envelope) return makeError(ErrorKind::Invalid, "object: " + envelope.error().message);
  if (event.type == EventType::Error) {
    if (Status kind = expectKind(envelope->kind, "Status"); !kind)
      return makeError(ErrorKind::Invalid, "object.kind: " + kind.error().message);
    Error error;
    if (!projectStatus(envelope->raw, error, c)) {
      c.in("object");
      return c.error();
    }
    event.error = std::move(error);
    return event;
  }
  if (Status kind = expectKind(envelope->kind, toString(K)); !kind)
    return makeError(ErrorKind::Invalid, "object.kind: " + kind.error().message);
  if (event.type == EventType::Bookmark) {
    if (!projectBookmark(envelope->raw, event.resourceVersion, event.initialEventsEnd, c)) {
      c.in("object");
      return c.error();
    }
    return event;
  }
  if (!project<K>(envelope->raw, event.object, c)) {
    c.in("object");
    return c.error();
  }
  event.resourceVersion.assign(event.object.meta.resourceVersion());
  return event;
}

template <Kind K>
Result<RecordOf<K>> ProtobufDecoder::object(std::string_view body) {
  Ctx c(memo_);
  auto envelope = openEnvelope(body, c);
  if (!envelope) return envelope.error();
  if (Status kind = expectKind(envelope->kind, toString(K)); !kind) return kind.error();
  RecordOf<K> record;
  if (!project<K>(envelope->raw, record, c)) return c.error();
  return record;
}

std::string peekProtobufObjectKey(std::string_view frame) {
  std::string ns, name;
  detail::SymbolMemo memo;
  Ctx c(memo);
  forEachField(frame, c, [&](const Field& f) {
    if (f.number != 2 || f.wire != kBytes) return true;
    forEachField(f.bytes, c, [&](const Field& r) {
      if (r.number != 1 || r.wire != kBytes) return true;
      auto envelope = openEnvelope(r.bytes, c);
      if (envelope) identityOf(envelope->raw, ns, name);
      return true;
    });
    return true;
  });
  if (name.empty()) return {};
  return ns.empty() ? name : ns + "/" + name;
}

std::string peekProtobufResourceVersion(std::string_view body) {
  detail::SymbolMemo memo;
  Ctx c(memo);
  auto envelope = openEnvelope(body, c);
  if (!envelope) return {};
  std::string resourceVersion;
  forEachField(envelope->raw, c, [&](const Field& f) {
    if (f.number != 1 || f.wire != kBytes) return true;
    forEachField(f.bytes, c, [&](const Field& m) {
      if (m.number == 6 && m.wire == kBytes && m.bytes.size() <= 253)
        resourceVersion.assign(m.bytes);
      return true;
    });
    return true;
  });
  return resourceVersion;
}

#define SAGUARD_PROTOBUF_DEFINE(K)                                                           \
  template Result<ListMeta> ProtobufDecoder::list<K>(std::string_view,                       \
                                                     const ListSink<RecordOf<K>>&);          \
  template Result<WatchEvent<RecordOf<K>>> ProtobufDecoder::watchEvent<K>(std::string_view); \
  template Result<RecordOf<K>> ProtobufDecoder::object<K>(std::string_view);
SAGUARD_PROTOBUF_DEFINE(Kind::Pod)
SAGUARD_PROTOBUF_DEFINE(Kind::ServiceAccount)
SAGUARD_PROTOBUF_DEFINE(Kind::RoleBinding)
SAGUARD_PROTOBUF_DEFINE(Kind::ClusterRoleBinding)
SAGUARD_PROTOBUF_DEFINE(Kind::Namespace)
#undef SAGUARD_PROTOBUF_DEFINE

}  // namespace saguard::codec
