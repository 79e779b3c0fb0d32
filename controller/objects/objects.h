// Projected records: the few fields of each Kubernetes kind that saguard's
// decisions need, decoded straight from the API's JSON (codec/decoder.h) and held in
// the informer caches (cache/). Whole JSON documents are never kept.
//
// These are plain values with no behaviour; policy/ decides, cache/ stores, codec/
// decodes. Repeated strings are interned Symbols (base/intern.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
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

// The kind of a pod's controller: its metadata.ownerReferences[] entry with controller:
// true, which recreates the pod (`saguard restart` acts through it). Other = any kind not
// listed (an Argo Rollout's ReplicaSet is a ReplicaSet; a CloneSet is Other).
enum class ControllerKind : std::uint8_t {
  None,
  ReplicaSet,
  StatefulSet,
  DaemonSet,
  Job,
  ReplicationController,
  Node,  // a static pod's mirror
  Other,
};

const char* toString(ControllerKind kind);  // "ReplicaSet", ...; "" for None, "Other"

// 40 bytes on 64-bit hosts (one 64-byte chunk with shared_ptr's control block): the
// controller costs no byte. Controllers name their pods "<controller>-<suffix>"
// (generateName, or a StatefulSet's ordinal), so the controller's name is kept as a length
// of the pod's own name; its uid is not kept. A controller whose name is not such a prefix
// (another naming scheme, a static pod's node) keeps its kind and length 0: read the pod's
// ownerReferences when the name is needed (the CLI does, for the few pods it acts on).
struct Pod {
  Meta meta;
  Symbol serviceAccountName;             // "default" when the pod names none
  Tristate automount = Tristate::Unset;  // spec.automountServiceAccountToken
  TokenVolume token = TokenVolume::None;
  ControllerKind controllerKind = ControllerKind::None;
  std::uint16_t controllerNameLength = 0;  // 0: unknown (or no controller)
  std::int64_t creationTimestamp = 0;      // seconds since the epoch

  // The controller's name when it prefixes the pod's name, else "".
  std::string_view controllerName() const { return meta.name().substr(0, controllerNameLength); }
};

// How a field manager last wrote an object (metadata.managedFields[].operation):
// server-side apply, whose applied configuration declares every field the manager
// owns, or any other write (create, update, JSON or merge patch, `kubectl edit`).
enum class FieldOperation : std::uint8_t { Apply, Update };

const char* toString(FieldOperation op);  // "Apply", "Update" as on the wire

// One metadata.managedFields entry that owns a given field.
struct FieldOwner {
  Symbol manager;  // "argocd-controller", "kustomize-controller", "helm", "kubectl-edit", ...
  FieldOperation operation = FieldOperation::Update;

  friend bool operator==(const FieldOwner&, const FieldOwner&) = default;
};

// The managers that own one field, in managedFields order. Most accounts have none;
// an account saguard enforces has one or two (a shared apply). Held in one pointer
// (no block when empty) so a cached account grows by 8 bytes, not a vector's 24:
// the block is the owners followed by an end marker, so it needs no size field.
// Copies are deep, moves move the pointer.
class FieldOwners {
 public:
  FieldOwners() = default;
  FieldOwners(std::initializer_list<FieldOwner> owners)
      : FieldOwners(std::span<const FieldOwner>(owners.begin(), owners.size())) {}
  explicit FieldOwners(std::span<const FieldOwner> owners);

  FieldOwners(const FieldOwners& other) : FieldOwners(other.view()) {}
  FieldOwners& operator=(const FieldOwners& other) {
    if (this != &other) *this = FieldOwners(other.view());
    return *this;
  }
  FieldOwners(FieldOwners&&) noexcept = default;
  FieldOwners& operator=(FieldOwners&&) noexcept = default;
  ~FieldOwners() = default;

  std::size_t size() const;
  bool empty() const { return !block_; }
  const FieldOwner* begin() const { return block_.get(); }
  const FieldOwner* end() const { return block_.get() + size(); }
  std::span<const FieldOwner> view() const { return {begin(), size()}; }

  friend bool operator==(const FieldOwners& a, const FieldOwners& b);

 private:
  std::unique_ptr<FieldOwner[]> block_;
};

struct ServiceAccount {
  Meta meta;
  Labels labels;
  Tristate automount = Tristate::Unset;  // automountServiceAccountToken
  // What the kubectl.kubernetes.io/last-applied-configuration annotation (client-side
  // apply: kubectl, Argo CD) declares for automountServiceAccountToken: Unset when the
  // annotation is absent, does not name the field, or is not a JSON object. Only this
  // is read; the annotation itself is not kept.
  Tristate lastAppliedAutomount = Tristate::Unset;
  // The saguard.io/token-last-used annotation ("2026-12-06"), as written; empty when
  // absent. policy/token_use.h reads it.
  Symbol tokenLastUsed;
  std::int64_t creationTimestamp = 0;  // seconds since the epoch; 0 when absent
  // The managers owning automountServiceAccountToken: the metadata.managedFields
  // entries whose fieldsV1 holds "f:automountServiceAccountToken". policy/ownership.h
  // decides from these and lastAppliedAutomount who declares the field.
  FieldOwners automountOwners;
};

// The annotation client-side apply keeps the applied configuration in.
inline constexpr std::string_view kLastAppliedAnnotation =
    "kubectl.kubernetes.io/last-applied-configuration";

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
