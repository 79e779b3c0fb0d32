// Projected records: the few fields of each Kubernetes kind that saguard's
// decisions need, decoded straight from the API's JSON (codec/decoder.h) and held in
// the informer caches (cache/). Whole JSON documents are never kept.
//
// These are plain values with no behaviour; policy/ decides, cache/ stores, codec/
// decodes. Repeated strings are interned Symbols (base/intern.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/intern.h"

namespace saguard::objects {

// A boolean field that may be absent: `automountServiceAccountToken` is
// unset, true or false, and unset is different from both.
enum class Tristate : std::uint8_t { Unset, True, False };

const char* toString(Tristate t);

// Labels as sorted (key, value) pairs: small, and cheap to match.
using Labels = std::vector<std::pair<Symbol, Symbol>>;

// The identity every record shares.
struct Meta {
  Symbol namespace_;          // empty for cluster-scoped kinds
  std::string name;
  std::string uid;
  std::string resourceVersion;
};

// How a pod holds an API token, judged from its spec.volumes (the ground truth).
enum class TokenVolume : std::uint8_t {
  None,            // no token volume at all
  Projected,       // a projected volume with a serviceAccountToken source
  LegacySecret,    // a secret volume of a kubernetes.io/service-account-token Secret
};

const char* toString(TokenVolume v);

struct Pod {
  Meta meta;
  Symbol serviceAccountName;        // "default" when the pod names none
  Tristate automount = Tristate::Unset;  // spec.automountServiceAccountToken
  TokenVolume token = TokenVolume::None;
  std::int64_t creationTimestamp = 0;    // seconds since the epoch
};

struct ServiceAccount {
  Meta meta;
  Labels labels;
  Tristate automount = Tristate::Unset;  // automountServiceAccountToken
};

struct Subject {
  Symbol kind;        // ServiceAccount, User, Group
  Symbol name;
  Symbol namespace_;  // ServiceAccount subjects only; may be empty for ClusterRoleBinding subjects
};

struct RoleRef {
  Symbol kind;  // Role or ClusterRole
  Symbol name;
};

// A RoleBinding (namespaced) or a ClusterRoleBinding (meta.namespace_ empty).
struct Binding {
  Meta meta;
  bool clusterScoped = false;
  RoleRef roleRef;
  std::vector<Subject> subjects;
};

struct Namespace {
  Meta meta;
  Labels labels;
  Symbol phase;  // Active, Terminating
};

}  // namespace saguard::objects
