// The projections: one JSON object in, one record out. Each walks the object's fields
// once, in whatever order they come, and descends only into the few it needs; the
// rest (status, containers, a Pod's managedFields, ...) is skipped by simdjson unparsed.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "codec/detail/ondemand.h"
#include "codec/detail/record_facts.h"
#include "codec/rfc3339.h"

namespace saguard::codec::detail {
namespace {

using objects::Labels;
using objects::Meta;

bool readLabels(od::value& value, Labels& labels, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  labels.clear();
  if (!present) return true;
  const bool ok = forEachEntry(object, c, [&](std::string_view key, od::value& v) {
    if (key.size() > kMaxFieldBytes) return c.fail("label key exceeds the size limit");
    std::string_view text;
    if (!readString(v, text, c)) return false;
    labels.emplace_back(c.intern(key), c.intern(text));
    return true;
  });
  if (!ok) return false;
  sortLabels(labels);
  return true;
}

// A controller ownerReference as read: views into the document.
struct ControllerView {
  std::string_view kind;
  std::string_view name;
};

// What a kind wants from metadata beyond the identity.
struct MetaWant {
  bool namespaced = true;
  Labels* labels = nullptr;
  std::int64_t* creationTimestamp = nullptr;
  bool* initialEventsEnd = nullptr;
  Symbol* tokenLastUsed = nullptr;  // the saguard.io/token-last-used annotation
  // What the last-applied-configuration annotation declares for automountServiceAccountToken.
  objects::Tristate* lastAppliedAutomount = nullptr;
  // The managedFields entries owning automountServiceAccountToken.
  objects::FieldOwners* automountOwners = nullptr;
  // The ownerReferences entry with controller: true.
  ControllerView* controller = nullptr;
};

// metadata.managedFields: the entries whose fieldsV1 owns f:automountServiceAccountToken,
// collected in c.fieldOwners. Operations other than Apply and Update (the API server
// allows no others) are ignored.
bool readAutomountOwners(od::value& value, Ctx& c) {
  c.fieldOwners.clear();
  od::array entries;
  bool present = false;
  if (!readArray(value, entries, present, c)) return false;
  if (!present) return true;
  return forEachElement(entries, c, [&](std::size_t, od::value& entry) {
    od::object fields;
    if (!openItem(entry, fields, c)) return false;
    std::string_view manager;
    std::string_view operation;
    bool owns = false;
    const bool ok = forEachField(fields, c, [&](std::string_view key, od::value& v) {
      if (key == "manager") return readString(v, manager, c);
      if (key == "operation") return readString(v, operation, c);
      if (key != "fieldsV1") return true;
      od::object set;
      bool has = false;
      if (!readObject(v, set, has, c)) return false;
      if (!has) return true;
      return forEachEntry(set, c, [&](std::string_view path, od::value&) {
        if (path == "f:automountServiceAccountToken") owns = true;
        return true;
      });
    });
    if (!ok) return false;
    if (!owns) return true;
    if (operation == "Apply") {
      c.fieldOwners.push_back({c.intern(manager), objects::FieldOperation::Apply});
    } else if (operation == "Update") {
      c.fieldOwners.push_back({c.intern(manager), objects::FieldOperation::Update});
    }
    return true;
  });
}

// metadata.ownerReferences: the entry with controller: true (the API server allows at most
// one), or none. The other entries are read for their types only.
bool readController(od::value& value, ControllerView& controller, Ctx& c) {
  controller = {};
  od::array entries;
  bool present = false;
  if (!readArray(value, entries, present, c)) return false;
  if (!present) return true;
  return forEachElement(entries, c, [&](std::size_t, od::value& entry) {
    od::object fields;
    if (!openItem(entry, fields, c)) return false;
    std::string_view kind, name;
    objects::Tristate isController = objects::Tristate::Unset;
    const bool ok = forEachField(fields, c, [&](std::string_view key, od::value& v) {
      if (key == "kind") return readString(v, kind, c);
      if (key == "name") return readString(v, name, c);
      if (key == "controller") return readTristate(v, isController, c);
      return true;
    });
    if (!ok) return false;
    if (isController == objects::Tristate::True && !kind.empty() && controller.kind.empty())
      controller = {kind, name};
    return true;
  });
}

// readString never hands out more than kMaxFieldBytes, so Meta's lengths always fit.
static_assert(kMaxFieldBytes <= Meta::kMaxFieldLength);

bool readMeta(od::value& value, Meta& meta, const MetaWant& want, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return true;
  // Meta keeps name, uid and resourceVersion in one block, so collect them as views (they
  // live as long as the document) and build it once, after the walk. The walk's result
  // does not matter: a failed item still reports the name read so far (SkippedItem).
  // Start from what meta holds, as assigning field by field did, for a repeated metadata.
  std::string_view name = meta.name();
  std::string_view uid = meta.uid();
  std::string_view resourceVersion = meta.resourceVersion();
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    std::string_view text;
    if (key == "name") {
      if (!readString(v, text, c)) return false;
      name = text;
    } else if (key == "namespace") {
      if (!readString(v, text, c)) return false;
      if (want.namespaced) meta.namespace_ = c.intern(text);
    } else if (key == "uid") {
      if (!readString(v, text, c)) return false;
      uid = text;
    } else if (key == "resourceVersion") {
      if (!readString(v, text, c)) return false;
      resourceVersion = text;
    } else if (key == "creationTimestamp" && want.creationTimestamp != nullptr) {
      if (!readString(v, text, c)) return false;
      if (text.empty()) {
        *want.creationTimestamp = 0;
      } else if (auto seconds = parseRfc3339(text)) {
        *want.creationTimestamp = *seconds;
      } else {
        return c.fail("not an RFC 3339 time: " + quoted(text));
      }
    } else if (key == "labels" && want.labels != nullptr) {
      return readLabels(v, *want.labels, c);
    } else if (key == "ownerReferences" && want.controller != nullptr) {
      return readController(v, *want.controller, c);
    } else if (key == "managedFields" && want.automountOwners != nullptr) {
      if (!readAutomountOwners(v, c)) return false;
      *want.automountOwners = objects::FieldOwners(c.fieldOwners);
    } else if (key == "annotations" &&
               (want.initialEventsEnd != nullptr || want.tokenLastUsed != nullptr ||
                want.lastAppliedAutomount != nullptr)) {
      od::object annotations;
      bool has = false;
      if (!readObject(v, annotations, has, c)) return false;
      if (want.lastAppliedAutomount != nullptr)
        *want.lastAppliedAutomount = objects::Tristate::Unset;
      if (!has) return true;
      return forEachEntry(annotations, c, [&](std::string_view annotation, od::value& a) {
        if (annotation == "k8s.io/initial-events-end" && want.initialEventsEnd != nullptr) {
          std::string_view flag;
          if (!readString(a, flag, c)) return false;
          *want.initialEventsEnd = flag == "true";
        } else if (annotation == objects::kTokenLastUsedAnnotation &&
                   want.tokenLastUsed != nullptr) {
          std::string_view day;
          if (!readString(a, day, c)) return false;
          *want.tokenLastUsed = c.intern(day);
        } else if (annotation == objects::kLastAppliedAnnotation &&
                   want.lastAppliedAutomount != nullptr) {
          // Not readString: the configuration may exceed kMaxFieldBytes and is not kept.
          // A non-string value (the API server allows none) declares nothing.
          std::string_view configuration;
          auto error = a.get_string().get(configuration);
          if (error == simdjson::INCORRECT_TYPE) return true;
          if (error) return c.failJson(error, "string");
          *want.lastAppliedAutomount = lastAppliedAutomount(configuration);
        }
        return true;
      });
    }
    return true;
  });
  meta.setIdentity(name, uid, resourceVersion);
  return ok;
}

// The fields every record must have, checked after the object was read.
bool checkIdentity(const Meta& meta, bool namespaced, Ctx& c) {
  if (meta.name().empty()) return c.missing({"metadata", "name"});
  if (namespaced && meta.namespace_.empty()) return c.missing({"metadata", "namespace"});
  return true;
}

bool readProjectedSources(od::value& value, PodFacts& facts, Ctx& c) {
  od::object projected;
  bool present = false;
  if (!readObject(value, projected, present, c)) return false;
  if (!present) return true;
  return forEachField(projected, c, [&](std::string_view key, od::value& v) {
    if (key != "sources") return true;
    od::array sources;
    bool has = false;
    if (!readArray(v, sources, has, c)) return false;
    if (!has) return true;
    return forEachElement(sources, c, [&](std::size_t, od::value& source) {
      od::object fields;
      bool isObject = false;
      if (!readObject(source, fields, isObject, c)) return false;
      if (!isObject) return true;
      return forEachField(fields, c, [&](std::string_view kind, od::value& s) {
        if (kind != "serviceAccountToken") return true;
        od::object token;
        bool hasToken = false;
        if (!readObject(s, token, hasToken, c)) return false;
        if (hasToken) facts.projectedToken = true;
        return true;
      });
    });
  });
}

bool readSecretVolume(od::value& value, PodFacts& facts, Ctx& c) {
  od::object secret;
  bool present = false;
  if (!readObject(value, secret, present, c)) return false;
  if (!present) return true;
  return forEachField(secret, c, [&](std::string_view key, od::value& v) {
    if (key != "secretName") return true;
    std::string_view name;
    if (!readString(v, name, c)) return false;
    if (!name.empty()) facts.secretNames.push_back(name);
    return true;
  });
}

bool readVolumes(od::value& value, PodFacts& facts, Ctx& c) {
  od::array volumes;
  bool present = false;
  if (!readArray(value, volumes, present, c)) return false;
  if (!present) return true;
  return forEachElement(volumes, c, [&](std::size_t, od::value& volume) {
    od::object fields;
    if (!openItem(volume, fields, c)) return false;
    return forEachField(fields, c, [&](std::string_view key, od::value& v) {
      if (key == "projected") return readProjectedSources(v, facts, c);
      if (key == "secret") return readSecretVolume(v, facts, c);
      return true;
    });
  });
}

bool readPodSpec(od::value& value, PodFacts& facts, Ctx& c) {
  od::object spec;
  bool present = false;
  if (!readObject(value, spec, present, c)) return false;
  if (!present) return true;
  return forEachField(spec, c, [&](std::string_view key, od::value& v) {
    if (key == "volumes") return readVolumes(v, facts, c);
    if (key == "serviceAccountName") return readString(v, facts.serviceAccountName, c);
    if (key == "serviceAccount") return readString(v, facts.serviceAccount, c);
    if (key == "automountServiceAccountToken") return readTristate(v, facts.automount, c);
    return true;
  });
}

}  // namespace

bool checkKind(od::value& value, std::string_view expected, std::string_view alternative, Ctx& c) {
  std::string_view kind;
  if (!readString(value, kind, c)) return false;
  if (kind.empty() || kind == expected || (!alternative.empty() && kind == alternative))
    return true;
  return c.fail("expected " + quoted(expected) + ", got " + quoted(kind));
}

bool projectPod(od::object& object, objects::Pod& pod, Ctx& c) {
  PodFacts& facts = c.podFacts;
  facts.reset();
  ControllerView controller;
  const MetaWant want{
      .namespaced = true, .creationTimestamp = &pod.creationTimestamp, .controller = &controller};
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "metadata") return readMeta(v, pod.meta, want, c);
    if (key == "spec") return readPodSpec(v, facts, c);
    if (key == "kind") return checkKind(v, "Pod", {}, c);
    return true;
  });
  if (!ok || !checkIdentity(pod.meta, true, c)) return false;
  facts.controllerKind = controller.kind;
  facts.controllerName = controller.name;
  finishPod(pod, facts, c.memo());
  return true;
}

bool projectServiceAccount(od::object& object, objects::ServiceAccount& account, Ctx& c) {
  const MetaWant want{.namespaced = true,
                      .labels = &account.labels,
                      .creationTimestamp = &account.creationTimestamp,
                      .tokenLastUsed = &account.tokenLastUsed,
                      .lastAppliedAutomount = &account.lastAppliedAutomount,
                      .automountOwners = &account.automountOwners};
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "metadata") return readMeta(v, account.meta, want, c);
    if (key == "automountServiceAccountToken") return readTristate(v, account.automount, c);
    if (key == "kind") return checkKind(v, "ServiceAccount", {}, c);
    return true;
  });
  return ok && checkIdentity(account.meta, true, c);
}

bool projectBinding(od::object& object, objects::Binding& binding, bool clusterScoped, Ctx& c) {
  binding.clusterScoped = clusterScoped;
  const MetaWant want{.namespaced = !clusterScoped};
  bool hasRoleRef = false;
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "metadata") return readMeta(v, binding.meta, want, c);
    if (key == "kind")
      return checkKind(v, clusterScoped ? "ClusterRoleBinding" : "RoleBinding", {}, c);
    if (key == "roleRef") {
      od::object ref;
      if (!readObject(v, ref, hasRoleRef, c)) return false;
      if (!hasRoleRef) return true;
      return forEachField(ref, c, [&](std::string_view field, od::value& r) {
        std::string_view text;
        if (field == "kind") {
          if (!readString(r, text, c)) return false;
          binding.roleRef.kind = c.intern(text);
        } else if (field == "name") {
          if (!readString(r, text, c)) return false;
          binding.roleRef.name = c.intern(text);
        }
        return true;
      });
    }
    if (key == "subjects") {
      od::array subjects;
      bool has = false;
      if (!readArray(v, subjects, has, c)) return false;
      binding.subjects.clear();
      if (!has) return true;
      return forEachElement(subjects, c, [&](std::size_t, od::value& s) {
        od::object fields;
        if (!openItem(s, fields, c)) return false;
        objects::Subject subject;
        const bool read = forEachField(fields, c, [&](std::string_view field, od::value& f) {
          std::string_view text;
          if (field == "kind") {
            if (!readString(f, text, c)) return false;
            subject.kind = c.intern(text);
          } else if (field == "name") {
            if (!readString(f, text, c)) return false;
            subject.name = c.intern(text);
          } else if (field == "namespace") {
            if (!readString(f, text, c)) return false;
            subject.namespace_ = c.intern(text);
          }
          return true;
        });
        if (!read) return false;
        if (subject.kind.empty()) return c.missing({"kind"});
        if (subject.name.empty()) return c.missing({"name"});
        binding.subjects.push_back(subject);
        return true;
      });
    }
    return true;
  });
  if (!ok || !checkIdentity(binding.meta, !clusterScoped, c)) return false;
  if (binding.roleRef.kind.empty()) return c.missing({"roleRef", "kind"});
  if (binding.roleRef.name.empty()) return c.missing({"roleRef", "name"});
  return true;
}

bool projectNamespace(od::object& object, objects::Namespace& ns, Ctx& c) {
  const MetaWant want{.namespaced = false, .labels = &ns.labels};
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "metadata") return readMeta(v, ns.meta, want, c);
    if (key == "kind") return checkKind(v, "Namespace", {}, c);
    if (key == "status") {
      od::object status;
      bool has = false;
      if (!readObject(v, status, has, c)) return false;
      if (!has) return true;
      return forEachField(status, c, [&](std::string_view field, od::value& s) {
        if (field != "phase") return true;
        std::string_view phase;
        if (!readString(s, phase, c)) return false;
        ns.phase = c.intern(phase);
        return true;
      });
    }
    return true;
  });
  return ok && checkIdentity(ns.meta, false, c);
}

bool projectBookmark(od::object& object, std::string& resourceVersion, bool& initialEventsEnd,
                     Ctx& c) {
  Meta meta;
  const MetaWant want{.namespaced = false, .initialEventsEnd = &initialEventsEnd};
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "metadata") return readMeta(v, meta, want, c);
    return true;
  });
  if (!ok) return false;
  if (meta.resourceVersion().empty()) return c.missing({"metadata", "resourceVersion"});
  resourceVersion.assign(meta.resourceVersion());
  return true;
}

bool projectStatus(od::object& object, Error& out, Ctx& c) {
  std::int64_t code = 0;
  std::string_view reason;
  std::string_view message;
  std::int64_t retryAfterSeconds = 0;
  std::vector<ErrorCause> causes;
  const bool ok = forEachField(object, c, [&](std::string_view key, od::value& v) {
    bool present = false;
    if (key == "code") return readInt(v, code, present, c);
    if (key == "reason") return readString(v, reason, c);
    if (key == "message") return readString(v, message, c);
    if (key == "kind") return checkKind(v, "Status", {}, c);
    if (key != "details") return true;
    od::object details;
    if (!readObject(v, details, present, c)) return false;
    if (!present) return true;
    return forEachField(details, c, [&](std::string_view field, od::value& d) {
      bool has = false;
      if (field == "retryAfterSeconds") return readInt(d, retryAfterSeconds, has, c);
      if (field != "causes") return true;
      od::array list;
      if (!readArray(d, list, has, c)) return false;
      if (!has) return true;
      return forEachElement(list, c, [&](std::size_t, od::value& cause) {
        od::object fields;
        if (!openItem(cause, fields, c)) return false;
        std::string_view causeReason, causeMessage, causeField;
        const bool read = forEachField(fields, c, [&](std::string_view name, od::value& f) {
          if (name == "reason") return readString(f, causeReason, c);
          if (name == "message") return readString(f, causeMessage, c);
          if (name == "field") return readString(f, causeField, c);
          return true;
        });
        if (!read) return false;
        causes.push_back(
            ErrorCause{std::string(causeField),
                       std::string(causeMessage.empty() ? causeReason : causeMessage)});
        return true;
      });
    });
  });
  if (!ok) return false;
  auto error = statusError(code, reason, message, retryAfterSeconds, std::move(causes));
  if (!error) {
    c.fail("not an HTTP status code: " + std::to_string(code));
    return c.in("code");
  }
  out = std::move(*error);
  return true;
}

}  // namespace saguard::codec::detail
