// A ServiceAccountPolicy as saguard keeps it: its identity and generation, the parsed
// spec or why it cannot be parsed, and the status the API server last returned (so the
// status is written only when its content changes). With types.h (the spec), parse.h
// (its decoding) and status.h (the status and its rendering), this is the API of the
// CRD in one place, as kubebuilder keeps api/v1alpha1.
//
// Built from the object as the API server returns it by policyRecordFromJson(); the
// policy informer (cache/policy_informer.h) does that for every listed or watched policy.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "policy/types.h"

namespace saguard::policy {

struct PolicyRecord {
  std::string name;
  std::string uid;
  std::string resourceVersion;
  std::int64_t generation = 0;
  std::shared_ptr<const Policy> policy;  // null when the spec is invalid
  std::optional<Error> invalid;          // set when policy is null
  std::string statusJson;                // `status` as the server has it ("" = none)
};

// One object as a record. A spec that parsePolicy() rejects still gives a record (with
// `invalid` set), so that the reconciler reports Ready=False instead of ignoring it.
// Errors (Invalid): not a JSON object, or no metadata.name.
Result<PolicyRecord> policyRecordFromJson(const nlohmann::json& object);
Result<PolicyRecord> policyRecordFromJson(std::string_view objectJson);

// One item of a ServiceAccountPolicyList: the record, or why the item is not one (the
// error's message starts with "items[<index>].").
using ListItem = Result<PolicyRecord>;

// The items of a ServiceAccountPolicyList page, in order. Errors (Invalid): the page is
// not a JSON object, or its `items` is not an array (absent or null: no items).
Result<std::vector<ListItem>> policyRecordsFromList(std::string_view listJson);

}  // namespace saguard::policy
