// The projection of an audit.k8s.io/v1 Event: the fields evidence of token use needs
// (objects/audit_event.h), read in one pass. requestObject and responseObject (present
// at the Request and RequestResponse levels), annotations and sourceIPs are skipped
// unparsed.
#include <string>

#include "codec/detail/ondemand.h"
#include "codec/rfc3339.h"

namespace saguard::codec::detail {
namespace {

using objects::AuditEventView;

// The first element of a string array ("extra" values are lists), or null / [] (empty).
bool readFirstString(od::value& value, std::string_view& out, Ctx& c) {
  od::array array;
  bool present = false;
  if (!readArray(value, array, present, c)) return false;
  out = {};
  if (!present) return true;
  bool first = true;
  return forEachElement(array, c, [&](std::size_t, od::value& element) {
    std::string_view text;
    if (!readString(element, text, c)) return false;
    if (first) out = text;
    first = false;
    return true;
  });
}

bool readExtra(od::value& value, AuditEventView& out, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return true;
  constexpr std::string_view kPrefix = "authentication.kubernetes.io/";
  return forEachEntry(object, c, [&](std::string_view key, od::value& v) {
    if (key.substr(0, kPrefix.size()) != kPrefix) return true;
    const std::string_view name = key.substr(kPrefix.size());
    if (name == "pod-name") return readFirstString(v, out.podName, c);
    if (name == "pod-uid") return readFirstString(v, out.podUid, c);
    if (name == "node-name") return readFirstString(v, out.nodeName, c);
    if (name == "credential-id") return readFirstString(v, out.credentialId, c);
    return true;
  });
}

bool readUser(od::value& value, AuditEventView& out, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return true;
  return forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "username") return readString(v, out.username, c);
    if (key == "extra") return readExtra(v, out, c);
    return true;
  });
}

bool readObjectRef(od::value& value, AuditEventView& out, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return true;
  return forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key == "resource") return readString(v, out.resource, c);
    if (key == "subresource") return readString(v, out.subresource, c);
    if (key == "apiGroup") return readString(v, out.apiGroup, c);
    return true;
  });
}

bool readResponseStatus(od::value& value, AuditEventView& out, Ctx& c) {
  od::object object;
  bool present = false;
  if (!readObject(value, object, present, c)) return false;
  if (!present) return true;
  return forEachField(object, c, [&](std::string_view key, od::value& v) {
    if (key != "code") return true;
    std::int64_t code = 0;
    bool has = false;
    if (!readInt(v, code, has, c)) return false;
    if (!has) return true;
    if (code < 0 || code > 999) return c.fail("not an HTTP status code: " + std::to_string(code));
    out.code = static_cast<int>(code);
    return true;
  });
}

bool readTime(od::value& value, std::int64_t& out, Ctx& c) {
  std::string_view text;
  if (!readString(value, text, c)) return false;
  if (text.empty()) {
    out = 0;
    return true;
  }
  auto seconds = parseRfc3339(text);
  if (!seconds) return c.fail("not an RFC 3339 time: " + quoted(text));
  out = *seconds;
  return true;
}

}  // namespace

bool projectAuditEvent(od::object& object, AuditEventView& out, Ctx& c) {
  return forEachField(object, c, [&](std::string_view key, od::value& v) {
    // Most frequent first; the API server writes them in this order too.
    if (key == "auditID") return readString(v, out.auditId, c);
    if (key == "stage") return readString(v, out.stage, c);
    if (key == "requestURI") return readString(v, out.requestUri, c);
    if (key == "verb") return readString(v, out.verb, c);
    if (key == "user") return readUser(v, out, c);
    if (key == "objectRef") return readObjectRef(v, out, c);
    if (key == "responseStatus") return readResponseStatus(v, out, c);
    if (key == "requestReceivedTimestamp") return readTime(v, out.requestReceivedTimestamp, c);
    if (key == "stageTimestamp") return readTime(v, out.stageTimestamp, c);
    if (key == "kind") return checkKind(v, "Event", {}, c);
    return true;
  });
}

}  // namespace saguard::codec::detail
