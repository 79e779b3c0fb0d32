#include "cache/policy_informer.h"

#include <nlohmann/json.hpp>

#include "kube/api_status.h"
#include "kube/resource.h"
#include "policy/record.h"

namespace saguard::cache {

using nlohmann::json;
using policy::PolicyRecord;

Decoding<PolicyRecord> policyDecoding() {
  Decoding<PolicyRecord> decoding;
  decoding.list = [](std::string_view page, const codec::ListSink<PolicyRecord>& sink) -> Status {
    auto items = policy::policyRecordsFromList(page);
    if (!items.ok()) return items.error();
    for (std::size_t index = 0; index < items->size(); ++index) {
      auto& item = (*items)[index];
      if (item.ok()) {
        sink.onItem(std::move(*item));
      } else if (sink.onSkipped) {
        codec::SkippedItem skipped;
        skipped.index = index;
        skipped.error = item.error();
        sink.onSkipped(std::move(skipped));
      }
    }
    return {};
  };
  decoding.event = [](codec::PaddedView line) -> Result<codec::WatchEvent<PolicyRecord>> {
    json event = json::parse(line.view(), nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object())
      return makeError(ErrorKind::Invalid, "watch event: not JSON");
    auto type = event.find("type");
    auto object = event.find("object");
    if (type == event.end() || !type->is_string() || object == event.end()) {
      return makeError(ErrorKind::Invalid, "watch event: needs type and object");
    }
    codec::WatchEvent<PolicyRecord> out;
    const std::string& t = type->get_ref<const std::string&>();
    if (t == "ERROR") {
      out.type = codec::EventType::Error;
      out.error = kube::errorFromStatus(object->dump());
      return out;
    }
    if (t == "BOOKMARK") {
      out.type = codec::EventType::Bookmark;
      if (object->is_object()) {
        const auto& meta = object->value("metadata", json::object());
        out.resourceVersion = meta.value("resourceVersion", "");
        const auto& annotations = meta.value("annotations", json::object());
        out.initialEventsEnd =
            annotations.is_object() && annotations.value("k8s.io/initial-events-end", "") == "true";
      }
      return out;
    }
    if (t == "ADDED") {
      out.type = codec::EventType::Added;
    } else if (t == "MODIFIED") {
      out.type = codec::EventType::Modified;
    } else if (t == "DELETED") {
      out.type = codec::EventType::Deleted;
    } else {
      return makeError(ErrorKind::Invalid, "watch event: unknown type " + t);
    }
    auto record = policy::policyRecordFromJson(*object);
    if (!record.ok()) return record.error();
    out.resourceVersion = record->resourceVersion;
    out.object = std::move(*record);
    return out;
  };
  return decoding;
}

Result<std::unique_ptr<PolicyInformer>> makePolicyInformer(kube::Client& client,
                                                           ReflectorOptions options) {
  options.resource = kube::resources::kServiceAccountPolicies;
  if (options.name.empty()) options.name = "serviceaccountpolicies";
  InformerOptions<policy::PolicyRecord> informerOptions;
  informerOptions.reflector = std::move(options);
  return PolicyInformer::create(client, policyDecoding(), std::move(informerOptions));
}

}  // namespace saguard::cache
