// How saguard names an object, in one place:
//   ObjectRef      a core/v1 ObjectReference (apiVersion, kind, namespace, name, uid,
//                  resourceVersion): what an Event is about, what a finding points at.
//                  events::refTo() builds one from a cached record.
//   objectKey()    the key of an object as caches, work queues and logs spell it:
//                  "namespace/name", or "name" for a cluster-scoped object (client-go's
//                  MetaNamespaceKeyFunc). Work keys (reconcile/keys.h) prefix it with
//                  what to do ("account/" + objectKey(ns, name)).
//   ObjectName     the two parts of a key as views, for hashing and lookups without
//                  copies (splitObjectKey() is the inverse of objectKey()).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace saguard::objects {

struct ObjectRef {
  std::string apiVersion;  // "v1", "rbac.authorization.k8s.io/v1", "saguard.io/v1alpha1"
  std::string kind;        // "ServiceAccount", "Pod", "RoleBinding", ...
  std::string namespace_;  // empty for cluster-scoped objects
  std::string name;
  std::string uid;              // may be empty
  std::string resourceVersion;  // may be empty

  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

struct ObjectName {
  std::string_view namespace_;  // empty for cluster-scoped objects
  std::string_view name;

  friend bool operator==(const ObjectName&, const ObjectName&) = default;
  std::size_t hash() const noexcept {
    const std::size_t a = std::hash<std::string_view>()(namespace_);
    const std::size_t b = std::hash<std::string_view>()(name);
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  }
};

std::string objectKey(std::string_view ns, std::string_view name);

// "a/b" is namespace a, name b; "b" is cluster-scoped b. The views point into `key`.
ObjectName splitObjectKey(std::string_view key);

}  // namespace saguard::objects
