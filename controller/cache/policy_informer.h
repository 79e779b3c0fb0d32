// The informer of ServiceAccountPolicies. Policies are few and small: they are parsed
// with nlohmann/json (not the simdjson hot path) into policy::PolicyRecords by
// policy::policyRecordFromJson(). A policy whose spec is invalid still becomes a record
// (with `invalid` set), so the reconciler can report Ready=False instead of ignoring it.
#pragma once

#include <memory>

#include "cache/decoding.h"
#include "cache/informer.h"
#include "cache/record_traits.h"
#include "cache/reflector.h"
#include "kube/client.h"
#include "policy/record.h"

namespace saguard::cache {

template <>
struct RecordTraits<policy::PolicyRecord> {
  static std::string_view namespaceOf(const policy::PolicyRecord&) { return {}; }
  static std::string_view nameOf(const policy::PolicyRecord& r) { return r.name; }
  static std::string_view resourceVersionOf(const policy::PolicyRecord& r) {
    return r.resourceVersion;
  }
};

using PolicyInformer = Informer<policy::PolicyRecord>;

// How listed pages and watch lines become records; malformed items are skipped (each
// reported to the sink's onSkipped), never fatal.
Decoding<policy::PolicyRecord> policyDecoding();

// Fills in `options.resource` (and the name, when empty), as the factories of kinds.h do.
Result<std::unique_ptr<PolicyInformer>> makePolicyInformer(kube::Client& client,
                                                           ReflectorOptions options = {});

}  // namespace saguard::cache
