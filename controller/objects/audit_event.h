// The few fields of an audit.k8s.io/v1 Event that evidence of token use needs, as the
// decoder (codec/decoder.h, auditEventList / auditEvent) hands them over.
//
// A view, unlike the other records: its strings point into the decoder's buffers and are
// valid only during the callback that receives it. The audit stream is the hottest input
// saguard has (every request a service account makes, hundreds of thousands a second on
// a busy cluster), and most events are dropped after a glance at user and stage, so
// nothing is copied until evidence/ decides to keep an event.
#pragma once

#include <cstdint>
#include <string_view>

namespace saguard::objects {

struct AuditEventView {
  std::string_view auditId;   // auditID: the same for every stage of one request
  std::string_view stage;     // RequestReceived, ResponseStarted, ResponseComplete, Panic
  std::string_view verb;      // get, list, watch, create, ... (lowercase, as logged)
  std::string_view username;  // user.username (not impersonatedUser: that token was not used)
  // user.extra["authentication.kubernetes.io/..."][0]: set by the API server when the
  // token is bound to a pod (the kubelet's tokens) and, since 1.30, to a node.
  std::string_view podName;
  std::string_view podUid;
  std::string_view nodeName;
  std::string_view credentialId;  // "JTI=<uuid>"
  // objectRef: empty for a non-resource request (/version, /healthz), which has
  // requestURI only.
  std::string_view apiGroup;
  std::string_view resource;
  std::string_view subresource;
  std::string_view requestUri;
  int code = 0;                     // responseStatus.code; 0 when absent
  std::int64_t stageTimestamp = 0;  // seconds since the epoch; 0 when absent
  std::int64_t requestReceivedTimestamp = 0;
};

}  // namespace saguard::objects
