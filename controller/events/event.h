// An events.k8s.io/v1 Event as saguard writes it, and its wire form.
//
// The recorder (recorder.h) fills an Event from the vocabulary (vocabulary.h) and the
// object reference the caller gives; an EventSink (sink.h) sends it. The helpers here
// are the rules of the API, kept apart so they are tested on their own:
//   - eventNamespace(): Events about cluster-scoped objects (regarding.namespace empty:
//     ClusterRoleBinding, ServiceAccountPolicy) go to namespace "default" (the API
//     server refuses them anywhere else), others to the object's namespace.
//   - truncateNote(): `note` is at most 1 KiB (1024 bytes) or the server refuses the Event.
//   - formatMicroTime(): eventTime and series.lastObservedTime are MicroTime, RFC 3339
//     in UTC with exactly six fractional digits ("2024-05-01T10:00:00.250000Z").
//   - eventName(): "<object name>.<hex nanoseconds>", as client-go names Events, made a
//     valid DNS subdomain (RBAC names such as "system:basic-user" are not).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "events/vocabulary.h"
#include "objects/objects.h"
#include "objects/ref.h"

namespace saguard::events {

using WallTime = std::chrono::system_clock::time_point;

// The object an Event is about (`regarding`) or an object it also concerns (`related`):
// objects/ref.h's one reference type.
using objects::ObjectRef;

// References to the objects saguard's Events are about, from the projected records.
ObjectRef refTo(const objects::ServiceAccount& account);
ObjectRef refTo(const objects::Pod& pod);
ObjectRef refTo(const objects::Binding& binding);  // RoleBinding or ClusterRoleBinding
ObjectRef policyRef(std::string name, std::string uid = {}, std::string resourceVersion = {});

// Ok when an Event with `reason` may be about `regarding`: apiVersion, kind and name
// set, the kind one the reason is about (vocabulary.h), and a namespace exactly when
// the kind is namespaced. Invalid, naming what is wrong, otherwise.
Status validateRegarding(Reason reason, const ObjectRef& regarding);

// events.k8s.io/v1 EventSeries: present once an Event has been seen at least twice.
struct Series {
  std::int32_t count = 2;
  WallTime lastObservedTime;

  friend bool operator==(const Series&, const Series&) = default;
};

struct Event {
  std::string namespace_;  // metadata.namespace: eventNamespace(regarding)
  std::string name;        // metadata.name
  WallTime eventTime;      // when it first happened
  std::optional<Series> series;
  std::string reportingController{kReportingController};
  std::string reportingInstance;
  std::string action;
  std::string reason;
  std::string note;
  EventType type = EventType::Normal;
  ObjectRef regarding;
  std::optional<ObjectRef> related;

  friend bool operator==(const Event&, const Event&) = default;
};

// The API's limits (k8s.io/kubernetes pkg/apis/core/validation, events.k8s.io/v1).
inline constexpr std::size_t kMaxNoteBytes = 1024;
inline constexpr std::size_t kMaxReportingInstanceBytes = 128;
inline constexpr std::size_t kMaxNameBytes = 253;  // a DNS subdomain

// The namespace an Event about `regarding` is written to.
std::string eventNamespace(const ObjectRef& regarding);

// `note` fit for the API: bytes that are not valid UTF-8 replaced by '?' (JSON needs
// UTF-8), then cut to at most kMaxNoteBytes bytes on a character boundary, ending in
// "..." when something was cut. A valid note that fits is returned unchanged.
std::string truncateNote(std::string note);

std::string formatMicroTime(WallTime time);

// "<objectName>.<nanos in lower-case hex>", the object name turned into a valid DNS
// subdomain first (lower case; characters other than [a-z0-9.-] become '-'; each
// dot-separated label trimmed of '-' and dropped when empty; "event" when nothing is
// left) and shortened so the whole name fits in kMaxNameBytes.
std::string eventName(std::string_view objectName, std::uint64_t nanos);

// The Event as the JSON body of a create (apiVersion events.k8s.io/v1, kind Event).
// Empty optional fields (uid, resourceVersion, related, series) are left out.
std::string toJson(const Event& event);

// The merge patch that sets an Event's series: {"series":{"count":N,"lastObservedTime":T}}.
std::string seriesPatch(const Series& series);

}  // namespace saguard::events
