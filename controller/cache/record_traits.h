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

#include "objects/ref.h"

namespace saguard::cache {

template <typename R>
struct RecordTraits {
  // Empty for cluster-scoped kinds.
  static std::string_view namespaceOf(const R& r) { return r.meta.namespace_.view(); }
  static std::string_view nameOf(const R& r) { return r.meta.name(); }
  static std::string_view resourceVersionOf(const R& r) { return r.meta.resourceVersion(); }
};

// The key format and its views are objects/ref.h's; the cache uses them under these names.
using objects::objectKey;
using objects::ObjectName;
using objects::splitObjectKey;

template <typename R>
ObjectName refOf(const R& record) {
  return {RecordTraits<R>::namespaceOf(record), RecordTraits<R>::nameOf(record)};
}

template <typename R>
std::string keyOf(const R& record) {
  return objectKey(RecordTraits<R>::namespaceOf(record), RecordTraits<R>::nameOf(record));
}

}  // namespace saguard::cache
