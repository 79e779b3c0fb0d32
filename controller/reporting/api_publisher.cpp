#include "reporting/api_publisher.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <set>

#include "kube/discovery.h"
#include "reports/render.h"

namespace saguard::reporting {
namespace {

using nlohmann::json;

kube::Resource resourceOf(const reports::ReportKind& kind) {
  return kube::Resource{std::string(kind.group), std::string(kind.version),
                        std::string(kind.resource), kind.namespaced};
}

const json& metadataOf(const json& object) {
  static const json kEmpty = json::object();
  auto m = object.find("metadata");
  return m != object.end() && m->is_object() ? *m : kEmpty;
}

std::string field(const json& object, const char* name) {
  const json& meta = metadataOf(object);
  auto it = meta.find(name);
  return it != meta.end() && it->is_string() ? it->get<std::string>() : "";
}

// The owners as publish() compares them: "name/uid" of each reference, sorted.
std::string ownersOf(const json& object) {
  std::set<std::string> owners;
  const json& meta = metadataOf(object);
  if (auto refs = meta.find("ownerReferences"); refs != meta.end() && refs->is_array()) {
    for (const auto& r : *refs) {
      if (r.is_object()) owners.insert(r.value("name", "") + "/" + r.value("uid", ""));
    }
  }
  std::string out;
  for (const auto& o : owners) out += o + ",";
  return out;
}

std::string wantOf(const json& object) {
  return reports::renderedHashOf(object) + "|" + ownersOf(object);
}

bool labelledOurs(const json& object) {
  const json& meta = metadataOf(object);
  auto labels = meta.find("labels");
  if (labels == meta.end() || !labels->is_object()) return false;
  auto it = labels->find(std::string(reports::kManagedByLabel));
  return it != labels->end() && it->is_string() &&
         it->get<std::string>() == reports::kManagedByValue;
}

std::string describeObject(const reports::ReportKind& kind, const std::string& ns,
                           const std::string& name) {
  return std::string(kind.apiVersion) + " " + std::string(kind.kind) + " " +
         (ns.empty() ? name : ns + "/" + name);
}

// Why a stored report is not what saguard rendered, or "" when it is: its content (what
// the API server kept) no longer has the hash saguard rendered it with. The CRD's schema
// dropped fields (pruning), or someone edited the report.
std::string problemOf(const reports::ReportKind& kind, const json& stored) {
  if (reports::contentHash(stored) == reports::renderedHashOf(stored)) return "";
  return describeObject(kind, field(stored, "namespace"), field(stored, "name")) +
         " is stored without some of what saguard wrote: the installed CRD's schema is not the "
         "one saguard writes (it must keep summary and results[] with policy, rule, result, "
         "severity, scored, source, timestamp, resources, message, properties)";
}

const reports::ReportKind* kindNamed(std::string_view resource) {
  for (reports::Flavour f : reports::kFlavoursByPreference) {
    for (bool cluster : {false, true}) {
      const reports::ReportKind& kind = reports::kindOf(f, cluster);
      if (kind.resource == resource) return &kind;  // the four resource names differ
    }
  }
  return nullptr;
}

}  // namespace

ApiPublisher::ApiPublisher(kube::Client& client, ApiPublisherOptions options)
    : client_(client),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : SteadyClock::instance()) {}

std::optional<reports::Flavour> ApiPublisher::flavour(std::string& why) {
  const auto now = clock_.now();
  {
    std::lock_guard lock(mu_);
    const auto trusted = flavour_ ? options_.reverifyAfter : options_.recheckAbsent;
    if (discovered_ && now - discoveredAt_ < trusted) {
      why = why_;
      return flavour_;
    }
  }
  std::optional<reports::Flavour> found;
  std::string missing;
  for (reports::Flavour f : reports::kFlavoursByPreference) {
    // Both kinds of a flavour are in one group version: one discovery GET answers for both.
    const reports::ReportKind& namespaced = reports::kindOf(f, false);
    auto served = kube::servedResources(client_, namespaced.group, namespaced.version);
    if (!served.ok()) {
      // The API server could not answer: keep what was known, ask again next time.
      std::lock_guard lock(mu_);
      why = discovered_
                ? why_
                : "could not find out which report API is served: " + served.error().describe();
      return flavour_;
    }
    bool both = true;
    for (bool cluster : {false, true}) {
      const reports::ReportKind& kind = reports::kindOf(f, cluster);
      if (served->contains(std::string(kind.resource))) continue;
      both = false;
      missing +=
          std::string(kind.apiVersion) + " " + std::string(kind.resource) + " is not served; ";
      break;
    }
    if (both) {
      found = f;
      break;
    }
  }
  std::lock_guard lock(mu_);
  if (discovered_ && found != flavour_) {
    spdlog::info("policy reports: {}",
                 found ? "writing " + std::string(reports::kindOf(*found, false).apiVersion)
                       : std::string("no report API is served any more"));
    listed_ = false;  // list again: the reports of the other flavour are deleted
  }
  flavour_ = found;
  why_ = found ? ""
               : "no report API is served (" + missing.substr(0, missing.size() - 2) +
                     "): install the OpenReports CRDs (openreports.io/v1alpha1) or "
                     "wgpolicyk8s.io/v1alpha2";
  discovered_ = true;
  discoveredAt_ = now;
  why = why_;
  return flavour_;
}

// A report of saguard's as listed. One whose stored content is not what it was
// rendered as is written once more (someone edited it, and it is saguard's): `want` is
// left empty so that publish() replaces it. If the API server keeps dropping fields (a
// CRD of another shape), that is one write per report per reverifyAfter, and the
// problem is said each time.
ApiPublisher::Known ApiPublisher::ownKnown(const reports::ReportKind& kind, const json& item) {
  std::string problem = problemOf(kind, item);
  return Known{problem.empty() ? wantOf(item) : "", field(item, "resourceVersion"),
               std::move(problem)};
}

Status ApiPublisher::listOwn(const reports::ReportKind& kind) {
  kube::ListOptions options;
  options.labelSelector =
      std::string(reports::kManagedByLabel) + "=" + std::string(reports::kManagedByValue);
  options.limit = 500;
  std::map<Key, Known> found;
  Status st = kube::listPages(client_, resourceOf(kind), "", options, [&](const kube::Page& page) {
    if (page.index == 0) found.clear();
    const json list = json::parse(page.body, nullptr, /*allow_exceptions=*/false);
    if (!list.is_object()) {
      return Status(
          makeError(ErrorKind::Internal, "listing " + std::string(kind.resource) + ": not JSON"));
    }
    for (const auto& item : list.value("items", json::array())) {
      if (!item.is_object()) continue;
      found[Key{std::string(kind.resource), field(item, "namespace"), field(item, "name")}] =
          ownKnown(kind, item);
    }
    return Status{};
  });
  if (!st.ok()) return st.is(ErrorKind::NotFound) ? Status{} : st;  // not served: none
  std::lock_guard lock(mu_);
  known_.merge(found);
  return {};
}

void ApiPublisher::countWrite() {
  std::lock_guard lock(mu_);
  ++writes_;
}

std::size_t ApiPublisher::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

Status ApiPublisher::write(const reports::ReportKind& kind, const json& object,
                           std::string& refused) {
  const kube::Resource resource = resourceOf(kind);
  const std::string ns = field(object, "namespace");
  const std::string name = field(object, "name");
  const Key key{std::string(kind.resource), ns, name};
  const std::string what = describeObject(kind, ns, name);
  std::optional<Known> known;
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) known = it->second;
  }
  // A refusal is the API server's answer about this report alone: publish() goes on with
  // the others and returns it at the end.
  auto refuse = [&](const std::string& message) {
    refused += (refused.empty() ? "" : "; ") + message;
  };

  Result<std::string> written = std::string();
  if (known) {
    json body = object;
    body["metadata"]["resourceVersion"] = known->resourceVersion;
    written = client_.update(resource, ns, name, body.dump());
    if (!written.ok() && written.is(ErrorKind::NotFound)) known.reset();  // deleted meanwhile
  }
  if (!known) {
    written = client_.create(resource, ns, object.dump());
    if (!written.ok() && written.is(ErrorKind::AlreadyExists)) {
      auto live = client_.get(resource, ns, name);
      if (!live.ok()) return live.error();
      const json existing = json::parse(*live, nullptr, /*allow_exceptions=*/false);
      if (!labelledOurs(existing)) {
        refuse(what + " exists and is not saguard's (it lacks the label " +
               std::string(reports::kManagedByLabel) + ": " +
               std::string(reports::kManagedByValue) +
               "): saguard leaves it alone; delete or rename it");
        return {};
      }
      json body = object;
      body["metadata"]["resourceVersion"] = field(existing, "resourceVersion");
      written = client_.update(resource, ns, name, body.dump());
    }
  }
  if (!written.ok()) {
    {
      std::lock_guard lock(mu_);
      known_.erase(key);  // read again next time
    }
    if (written.is(ErrorKind::Invalid) || written.is(ErrorKind::BadRequest) ||
        written.is(ErrorKind::Forbidden)) {
      refuse("the API server refused " + what + ": " + written.error().describe());
      return {};
    }
    if (written.is(ErrorKind::NotFound)) {
      std::lock_guard lock(mu_);
      discovered_ = false;  // the CRD went away: discover again
    }
    return written.error();
  }
  countWrite();
  const json answer = json::parse(*written, nullptr, /*allow_exceptions=*/false);
  Known stored{wantOf(object), field(answer, "resourceVersion"),
               answer.is_object() ? problemOf(kind, answer) : ""};
  if (!stored.problem.empty()) refuse(stored.problem);
  std::lock_guard lock(mu_);
  // Remembered as sent, even when stored with less: not sent again until it changes.
  known_[key] = std::move(stored);
  return {};
}

Status ApiPublisher::publish(reports::Flavour flavour, const std::vector<json>& objects) {
  const auto now = clock_.now();
  bool relist = false;
  {
    std::lock_guard lock(mu_);
    relist = !listed_ || now - listedAt_ >= options_.reverifyAfter;
    if (relist) known_.clear();
  }
  if (relist) {
    for (reports::Flavour f : reports::kFlavoursByPreference) {
      for (bool cluster : {false, true}) {
        if (Status st = listOwn(reports::kindOf(f, cluster)); !st.ok()) return st;
      }
    }
    std::lock_guard lock(mu_);
    listed_ = true;
    listedAt_ = now;
  }

  std::set<Key> desired;
  std::string refused;
  for (const json& object : objects) {
    const reports::ReportKind& kind = reports::kindOf(flavour, field(object, "namespace").empty());
    const Key key{std::string(kind.resource), field(object, "namespace"), field(object, "name")};
    desired.insert(key);
    {
      std::lock_guard lock(mu_);
      auto it = known_.find(key);
      if (it != known_.end() && it->second.want == wantOf(object)) {
        if (!it->second.problem.empty())
          refused += (refused.empty() ? "" : "; ") + it->second.problem;
        continue;
      }
    }
    if (Status st = write(kind, object, refused); !st.ok()) return st;
  }

  std::vector<Key> stale;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, known] : known_) {
      if (!desired.count(key)) stale.push_back(key);
    }
  }
  for (const Key& key : stale) {
    const auto& [resourceName, ns, name] = key;
    const reports::ReportKind* kind = kindNamed(resourceName);
    if (kind == nullptr) continue;
    auto removed = client_.remove(resourceOf(*kind), ns, name);
    if (!removed.ok() && !removed.is(ErrorKind::NotFound)) return removed.error();
    if (removed.ok()) countWrite();
    std::lock_guard lock(mu_);
    known_.erase(key);
  }
  if (!refused.empty()) return makeError(ErrorKind::Invalid, refused);
  return {};
}

}  // namespace saguard::reporting
