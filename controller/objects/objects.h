// Projected records: the few fields of each Kubernetes kind that saguard's
// decisions need, decoded straight from the API's JSON (codec/decoder.h) and held in
// the informer caches (cache/). Whole JSON documents are never kept.
//
// These are plain values with no behaviour; policy/ decides, cache/ stores, codec/
// decodes. Repeated strings are interned Symbols (base/intern.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/intern.h"
#include "base/packed_strings.h"

namespace saguard::objects {

// A boolean field that may be absent: `automountServiceAccountToken` is
// unset, true or false, and unset is different from both.
enum class Tristate : std::uint8_t { Unset, True, False };

const char* toString(Tristate t);

// Labels as sorted (key, value) pairs: small, and cheap to match.
using Labels = std::vector<std::pair<Symbol, Symbol>>;

// The identity every record shares. Every cached object holds one, so it is kept to
// 16 bytes: the interned namespace and one heap block holding name, uid and
// resourceVersion (base/packed_strings.h). Build it once with the constructor when the
// three are known; the setters rebuild the block and are for tests and stubs.
class Meta {
 public:
  // Each of name, uid and resourceVersion may be up to this many bytes; the
  // constructor and setters throw std::length_error past it (never truncate).
  static constexpr std::size_t kMaxFieldLength = PackedStrings<3>::kMaxLength;

  Meta() = default;
  Meta(Symbol ns, std::string_view name, std::string_view uid, std::string_view resourceVersion)
      : namespace_(ns), text_({name, uid, resourceVersion}) {}

  Symbol namespace_;  // empty for cluster-scoped kinds

  // Views into this Meta: valid until it is next assigned, set or destroyed.
  std::string_view name() const { return text_.get(kName); }
  std::string_view uid() const { return text_.get(kUid); }
  std::string_view resourceVersion() const { return text_.get(kResourceVersion); }

  void setName(std::string_view name) { text_.set(kName, name); }
  void setUid(std::string_view uid) { text_.set(kUid, uid); }
  void setResourceVersion(std::string_view resourceVersion) {
    text_.set(kResourceVersion, resourceVersion);
  }
  // All three at once, with one allocation.
  void setIdentity(std::string_view name, std::string_view uid, std::string_view resourceVersion) {
    text_ = PackedStrings<3>({name, uid, resourceVersion});
  }

  friend bool operator==(const Meta&, const Meta&) = default;

 private:
  static constexpr std::size_t kName = 0;
  static constexpr std::size_t kUid = 1;
  static constexpr std::size_t kResourceVersion = 2;

  PackedStrings<3> text_;
};

// How a pod holds an API token, judged from its spec.volumes (the ground truth).
enum class TokenVolume : std::uint8_t {
  None,          // no token volume at all
  Projected,     // a projected volume with a serviceAccountToken source
  LegacySecret,  // a secret volume of a kubernetes.io/service-account-token Secret
};

const char* toString(TokenVolume v);

struct Pod {
  Meta meta;
  Symbol serviceAccountName;             // "default" when the pod names none
  Tristate automount = Tristate::Unset;  // spec.automountServiceAccountToken
  TokenVolume token = TokenVolume::None;
  std::int64_t creationTimestamp = 0;  // seconds since the epoch
};

struct ServiceAccount {
  Meta meta;
  Labels labels;
  Tristate automount = Tristate::Unset;  // automountServiceAccountToken
  // The saguard.io/token-last-used annotation ("2026-12-06"), as written; empty when
  // absent. policy/token_use.h reads it.
  Symbol tokenLastUsed;
  std::int64_t creationTimestamp = 0;  // seconds since the epoch; 0 when absent
};

// The annotation saguard keeps the day of an account's last recorded token use in.
inline constexpr std::string_view kTokenLastUsedAnnotation = "saguard.io/token-last-used";

struct Subject {
  Symbol kind;  // ServiceAccount, User, Group
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
