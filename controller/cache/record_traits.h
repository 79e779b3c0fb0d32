// How the cache identifies a record: its namespace, name and resourceVersion. The
// store keys records by namespace/name and the reflector's relist compares
// resourceVersions, so every record type the cache holds must answer these three.
//
// The projected kinds of objects/objects.h carry an objects::Meta named `meta` and
// work as they are. Any other record type either carries such a `meta` too (the
// simplest: wrap the parsed value, `struct PolicyRecord { objects::Meta meta;
// policy::Policy policy; };`) or specializes RecordTraits before instantiating a
// Store/Reflector/Informer over it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace saguard::cache {

template <typename R>
struct RecordTraits {
  // Empty for cluster-scoped kinds.
  static std::string_view namespaceOf(const R& r) { return r.meta.namespace_.view(); }
  static std::string_view nameOf(const R& r) { return r.meta.name(); }
  static std::string_view resourceVersionOf(const R& r) { return r.meta.resourceVersion(); }
};

// An object's identity as two views (into a record, or into a key string).
struct ObjectRef {
  std::string_view namespace_;  // empty for cluster-scoped objects
  std::string_view name;

  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
  std::size_t hash() const noexcept {
    const std::size_t a = std::hash<std::string_view>()(namespace_);
    const std::size_t b = std::hash<std::string_view>()(name);
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  }
};

// The key of an object, as work queues and logs spell it: "namespace/name", or just
// "name" for a cluster-scoped object (client-go's MetaNamespaceKeyFunc).
std::string objectKey(std::string_view ns, std::string_view name);

// The inverse of objectKey(): "a/b" is namespace a, name b; "b" is cluster-scoped b.
// The views point into `key`.
ObjectRef splitObjectKey(std::string_view key);

template <typename R>
ObjectRef refOf(const R& record) {
  return {RecordTraits<R>::namespaceOf(record), RecordTraits<R>::nameOf(record)};
}

template <typename R>
std::string keyOf(const R& record) {
  return objectKey(RecordTraits<R>::namespaceOf(record), RecordTraits<R>::nameOf(record));
}

}  // namespace saguard::cache
