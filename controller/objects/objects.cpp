#include "objects/objects.h"

#include <algorithm>

namespace saguard::objects {

const char* toString(Tristate t) {
  switch (t) {
    case Tristate::Unset:
      return "unset";
    case Tristate::True:
      return "true";
    case Tristate::False:
      return "false";
  }
  return "unset";
}

const char* toString(TokenVolume v) {
  switch (v) {
    case TokenVolume::None:
      return "none";
    case TokenVolume::Projected:
      return "projected";
    case TokenVolume::LegacySecret:
      return "legacy-secret";
  }
  return "none";
}

const char* toString(ControllerKind kind) {
  switch (kind) {
    case ControllerKind::None:
      return "";
    case ControllerKind::ReplicaSet:
      return "ReplicaSet";
    case ControllerKind::StatefulSet:
      return "StatefulSet";
    case ControllerKind::DaemonSet:
      return "DaemonSet";
    case ControllerKind::Job:
      return "Job";
    case ControllerKind::ReplicationController:
      return "ReplicationController";
    case ControllerKind::Node:
      return "Node";
    case ControllerKind::Other:
      return "Other";
  }
  return "";
}

const char* toString(FieldOperation op) {
  switch (op) {
    case FieldOperation::Apply:
      return "Apply";
    case FieldOperation::Update:
      return "Update";
  }
  return "Update";
}

namespace {
// Marks the end of a FieldOwners block; never a value the decoder stores.
constexpr auto kEndOfOwners = static_cast<FieldOperation>(0xFF);
}  // namespace

FieldOwners::FieldOwners(std::span<const FieldOwner> owners) {
  if (owners.empty()) return;
  block_ = std::make_unique<FieldOwner[]>(owners.size() + 1);
  std::copy(owners.begin(), owners.end(), block_.get());
  block_[owners.size()].operation = kEndOfOwners;
}

std::size_t FieldOwners::size() const {
  if (!block_) return 0;
  std::size_t n = 0;
  while (block_[n].operation != kEndOfOwners) ++n;
  return n;
}

bool operator==(const FieldOwners& a, const FieldOwners& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace saguard::objects
