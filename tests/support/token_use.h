// One policy::TokenUse built from named fields, for the tests of the records folded from uses
// (policy/token_use.h), of the ledger that keeps them (evidence/ledger.h) and of the store
// that persists them (evidence/store.h). Header-only.
//
//   recordUse(record, test_support::tokenUse({.verb = "list", .at = 100, .podUid = "u1"}));
//   ledger.record(test_support::useBy("team-a", "web", 100, "list", "configmaps", 403, "u1"));
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

// The same, positional, for tests that record many uses of many accounts: a use of
// ns/account's token at `at`; a pod uid names its pod "pod-<uid>".
inline policy::TokenUse useBy(std::string ns, std::string account, std::int64_t at,
                              std::string verb = "get", std::string resource = "configmaps",
                              int code = 200, std::string podUid = "") {
  std::string podName = podUid.empty() ? "" : "pod-" + podUid;
  return tokenUse({.ns = std::move(ns),
                   .account = std::move(account),
                   .verb = std::move(verb),
                   .resource = std::move(resource),
                   .at = at,
                   .code = code,
                   .podUid = std::move(podUid),
                   .podName = std::move(podName)});
}

}  // namespace saguard::test_support
