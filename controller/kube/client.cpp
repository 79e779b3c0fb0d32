#include "kube/client.h"

namespace saguard::kube {

const char* contentType(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
    case PatchType::Json:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

Status listPages(Client& client, const Resource& resource, std::string_view ns,
                 const ListOptions& options, const PageSink& sink, const CallOptions& call) {
  ListOptions current = options;
  for (int index = 0;; ++index) {
    auto body = client.list(resource, ns, current, call);
    if (!body) {
      if (!body.is(ErrorKind::Gone) || current.continueToken.empty()) return body.error();
      // The continue token expired (etcd compacted the revision it pins): list everything
      // again, now, in one request.
      ListOptions full = options;
      full.limit = 0;
      full.continueToken.clear();
      auto all = client.list(resource, ns, full, call);
      if (!all) return all.error();
      auto meta = peekListMeta(*all);
      if (!meta) return meta.error();
      return sink(Page{*all, std::move(*meta), 0});
    }
    auto meta = peekListMeta(*body);
    if (!meta) return meta.error();
    std::string next = meta->continueToken;
    if (Status st = sink(Page{*body, std::move(*meta), index}); !st) return st;
    if (next.empty()) return {};
    if (next == current.continueToken) {
      return makeError(ErrorKind::Internal, "the server returned the same continue token twice");
    }
    // Continue pages carry the selectors and the limit; the token pins the resourceVersion.
    ListOptions following;
    following.labelSelector = options.labelSelector;
    following.fieldSelector = options.fieldSelector;
    following.limit = options.limit;
    following.timeoutSeconds = options.timeoutSeconds;
    following.continueToken = std::move(next);
    current = std::move(following);
  }
}

RequestObserver& noopRequestObserver() {
  class Noop final : public RequestObserver {
   public:
    void onRequest(const RequestRecord&) override {}
  };
  static Noop noop;
  return noop;
}

}  // namespace saguard::kube
