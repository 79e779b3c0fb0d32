// How the policy informer turns ServiceAccountPolicy JSON into PolicyRecords: small
// documents, parsed with nlohmann/json (not the simdjson hot path) and handed to
// policy::parsePolicy. A policy whose spec is invalid still becomes a record (with
// `invalid` set), so the reconciler can report Ready=False instead of ignoring it.
#pragma once

#include "cache/decoding.h"
#include "cache/record_traits.h"
#include "reconcile/cluster_reader.h"

namespace saguard::cache {
template <>
struct RecordTraits<reconcile::PolicyRecord> {
  static std::string_view namespaceOf(const reconcile::PolicyRecord&) { return {}; }
  static std::string_view nameOf(const reconcile::PolicyRecord& r) { return r.name; }
  static std::string_view resourceVersionOf(const reconcile::PolicyRecord& r) { return r.resourceVersion; }
};
}  // namespace saguard::cache

namespace saguard::reconcile {

// One object (as the API returns it) as a record; Invalid only when it has no name.
Result<PolicyRecord> policyRecordFromJson(std::string_view objectJson);

cache::Decoding<PolicyRecord> policyDecoding();

}  // namespace saguard::reconcile
