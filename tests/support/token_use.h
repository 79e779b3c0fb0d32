// One policy::TokenUse built from named fields, for the tests of the records folded from uses
// (policy/token_use.h) and of the ledger that keeps them (evidence/ledger.h). Header-only.
//
//   recordUse(record, test_support::tokenUse({.verb = "list", .at = 100, .podUid = "u1"}));
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "policy/token_use.h"

namespace saguard::test_support {

// What an accepted audit event says; a field left out is its default here.
struct UseSpec {
  std::string ns = "team-a";
  std::string account = "web";
  std::string verb = "get";
  std::string resource = "configmaps";
  std::int64_t at = 0;
  int code = 200;
  std::string podUid{};  // empty: a token not bound to a pod
  std::string podName{};
};

inline policy::TokenUse tokenUse(UseSpec spec) {
  policy::TokenUse u;
  u.namespace_ = std::move(spec.ns);
  u.account = std::move(spec.account);
  u.verb = std::move(spec.verb);
  u.resource = std::move(spec.resource);
  u.at = spec.at;
  u.code = spec.code;
  u.podUid = std::move(spec.podUid);
  u.podName = std::move(spec.podName);
  return u;
}

}  // namespace saguard::test_support
