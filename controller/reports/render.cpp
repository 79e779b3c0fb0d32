#include "reports/render.h"

#include <algorithm>
#include <cstdio>

#include "base/hash.h"
#include "base/utf8.h"

namespace saguard::reports {
namespace {

nlohmann::json renderRef(const objects::ObjectRef& ref) {
  nlohmann::json out = nlohmann::json::object();
  out["apiVersion"] = ref.apiVersion;
  out["kind"] = ref.kind;
  if (!ref.namespace_.empty()) out["namespace"] = ref.namespace_;
  out["name"] = ref.name;
  if (!ref.uid.empty()) out["uid"] = ref.uid;
  return out;
}

nlohmann::json renderResult(const Result& r) {
  nlohmann::json out = nlohmann::json::object();
  out["policy"] = r.policy;
  if (!r.rule.empty()) out["rule"] = r.rule;
  out["result"] = toString(r.result);
  if (r.severity) out["severity"] = toWire(*r.severity);
  out["scored"] = r.scored;
  out["source"] = r.source;
  out["timestamp"] = {{"seconds", r.timestamp.seconds}, {"nanos", r.timestamp.nanos}};
  if (!r.resources.empty()) {
    nlohmann::json resources = nlohmann::json::array();
    for (const auto& ref : r.resources) resources.push_back(renderRef(ref));
    out["resources"] = std::move(resources);
  }
  if (!r.message.empty()) out["message"] = std::string(cutUtf8(r.message, kMaxMessageLength));
  if (!r.properties.empty()) out["properties"] = r.properties;
  return out;
}

nlohmann::json renderSummary(const Summary& s) {
  return {
      {"pass", s.pass}, {"fail", s.fail}, {"warn", s.warn}, {"error", s.error}, {"skip", s.skip}};
}

std::string hex16(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// `object.at(key)` when it is there, else null: a live object may lack any field.
const nlohmann::json& field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(std::string(key));
  return it == object.end() ? kNull : *it;
}

}  // namespace

nlohmann::json render(const Report& report, Flavour flavour, std::string_view name) {
  const ReportKind& kind = kindOf(flavour, report.clusterScoped());
  std::vector<const Result*> kept;
  kept.reserve(report.results.size());
  for (const Result& r : report.results) kept.push_back(&r);
  std::sort(kept.begin(), kept.end(),
            [](const Result* a, const Result* b) { return rendersBefore(*a, *b); });
  const std::size_t omitted = kept.size() > kMaxResults ? kept.size() - kMaxResults : 0;
  kept.resize(kept.size() - omitted);

  nlohmann::json object = nlohmann::json::object();
  object["apiVersion"] = std::string(kind.apiVersion);
  object["kind"] = std::string(kind.kind);
  nlohmann::json& metadata = object["metadata"];
  metadata["name"] = std::string(name);
  if (!report.clusterScoped()) metadata["namespace"] = report.namespace_;
  metadata["labels"][std::string(kManagedByLabel)] = std::string(kManagedByValue);
  if (omitted > 0) {
    metadata["annotations"][std::string(kResultsOmittedAnnotation)] = std::to_string(omitted);
  }
  Summary summary;
  nlohmann::json results = nlohmann::json::array();
  for (const Result* r : kept) {
    summary.add(r->result);
    results.push_back(renderResult(*r));
  }
  object["summary"] = renderSummary(summary);
  object["results"] = std::move(results);
  metadata["annotations"][std::string(kRenderedHashAnnotation)] = contentHash(object);
  return object;
}

std::string contentHash(const nlohmann::json& object) {
  const nlohmann::json& metadata = field(object, "metadata");
  nlohmann::json content = nlohmann::json::object();
  content["apiVersion"] = field(object, "apiVersion");
  content["kind"] = field(object, "kind");
  content["name"] = field(metadata, "name");
  content["namespace"] = field(metadata, "namespace");
  content["managedBy"] = field(field(metadata, "labels"), kManagedByLabel);
  content["omitted"] = field(field(metadata, "annotations"), kResultsOmittedAnnotation);
  content["scope"] = field(object, "scope");
  content["summary"] = field(object, "summary");
  nlohmann::json results = field(object, "results");
  if (results.is_array()) {
    for (auto& r : results) {
      if (r.is_object()) r.erase("timestamp");
    }
  }
  content["results"] = std::move(results);
  return hex16(fnv1a64(content.dump()));
}

bool sameContent(const nlohmann::json& a, const nlohmann::json& b) {
  return contentHash(a) == contentHash(b);
}

std::string renderedHashOf(const nlohmann::json& object) {
  const nlohmann::json& hash =
      field(field(field(object, "metadata"), "annotations"), kRenderedHashAnnotation);
  return hash.is_string() ? hash.get<std::string>() : std::string();
}

}  // namespace saguard::reports
