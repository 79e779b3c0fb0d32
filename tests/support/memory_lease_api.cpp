#include "support/memory_lease_api.h"

#include <exception>
#include <nlohmann/json.hpp>

namespace saguard::leader {

using nlohmann::json;

std::string MemoryLeaseApi::key(std::string_view ns, std::string_view name) {
  return std::string(ns) + "/" + std::string(name);
}

std::optional<Error> MemoryLeaseApi::enter(Op op) {
  std::function<void(Op)> hook;
  {
    std::lock_guard lock(mu_);
    ++calls_[op];
    hook = hook_;
  }
  if (hook) hook(op);
  std::lock_guard lock(mu_);
  auto it = failures_.find(op);
  if (it == failures_.end()) return std::nullopt;
  Error error = it->second.error;
  if (it->second.remaining > 0 && --it->second.remaining == 0) failures_.erase(it);
  return error;
}

Result<std::string> MemoryLeaseApi::store(const std::string& k, std::string_view text) {
  try {
    json lease = json::parse(text);
    lease["metadata"]["resourceVersion"] = std::to_string(nextVersion_++);
    std::string stored = lease.dump();
    leases_[k] = stored;
    return stored;
  } catch (const std::exception& e) {
    return makeError(ErrorKind::BadRequest, std::string("Lease body: ") + e.what());
  }
}

Result<std::string> MemoryLeaseApi::get(std::string_view ns, std::string_view name,
                                        std::chrono::milliseconds) {
  if (auto failure = enter(Op::Get)) return *failure;
  std::lock_guard lock(mu_);
  auto it = leases_.find(key(ns, name));
  if (it == leases_.end()) {
    return makeError(ErrorKind::NotFound, "leases \"" + std::string(name) + "\" not found");
  }
  return it->second;
}

Result<std::string> MemoryLeaseApi::create(std::string_view ns, std::string_view body,
                                           std::chrono::milliseconds) {
  if (auto failure = enter(Op::Create)) return *failure;
  std::string name;
  try {
    json lease = json::parse(body);
    name = lease.at("metadata").at("name").get<std::string>();
    if (lease["metadata"].value("namespace", std::string(ns)) != ns) {
      return makeError(ErrorKind::BadRequest,
                       "the namespace of the object does not match the request");
    }
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Invalid, std::string("Lease body: metadata.name: ") + e.what());
  }
  std::lock_guard lock(mu_);
  std::string k = key(ns, name);
  if (leases_.count(k) != 0) {
    return makeError(ErrorKind::AlreadyExists, "leases \"" + name + "\" already exists");
  }
  return store(k, body);
}

Result<std::string> MemoryLeaseApi::update(std::string_view ns, std::string_view name,
                                           std::string_view body, std::chrono::milliseconds) {
  if (auto failure = enter(Op::Update)) return *failure;
  std::string version;
  try {
    json lease = json::parse(body);
    if (lease.at("metadata").value("name", "") != name) {
      return makeError(ErrorKind::BadRequest, "the name of the object does not match the request");
    }
    version = lease["metadata"].value("resourceVersion", "");
  } catch (const std::exception& e) {
    return makeError(ErrorKind::BadRequest, std::string("Lease body: ") + e.what());
  }
  std::lock_guard lock(mu_);
  std::string k = key(ns, name);
  auto it = leases_.find(k);
  if (it == leases_.end()) {
    return makeError(ErrorKind::NotFound, "leases \"" + std::string(name) + "\" not found");
  }
  if (!version.empty() &&
      json::parse(it->second)["metadata"].value("resourceVersion", "") != version) {
    return makeError(ErrorKind::Conflict, "Operation cannot be fulfilled on leases \"" +
                                              std::string(name) +
                                              "\": the object has been modified; please apply your "
                                              "changes to the latest version and try again");
  }
  return store(k, body);
}

void MemoryLeaseApi::failNext(Op op, Error error, int times) {
  if (times <= 0) return;
  std::lock_guard lock(mu_);
  failures_[op] = Failure{std::move(error), times};
}

void MemoryLeaseApi::failAlways(Op op, Error error) {
  std::lock_guard lock(mu_);
  failures_[op] = Failure{std::move(error), -1};
}

void MemoryLeaseApi::clearFailures() {
  std::lock_guard lock(mu_);
  failures_.clear();
}

void MemoryLeaseApi::setHook(std::function<void(Op op)> hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

void MemoryLeaseApi::put(std::string_view ns, std::string_view name, const LeaseRecord& record) {
  std::lock_guard lock(mu_);
  std::string k = key(ns, name);
  auto it = leases_.find(k);
  std::string base = it == leases_.end() ? newLease(ns, name, record) : it->second;
  // Both inputs are JSON objects this class wrote, so neither call can fail.
  (void)store(k, withRecord(base, record).value());
}

std::optional<std::string> MemoryLeaseApi::leaseJson(std::string_view ns,
                                                     std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(key(ns, name));
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::optional<LeaseRecord> MemoryLeaseApi::record(std::string_view ns,
                                                  std::string_view name) const {
  auto text = leaseJson(ns, name);
  if (!text) return std::nullopt;
  auto lease = parseLease(*text);
  if (!lease.ok()) return std::nullopt;
  return lease->record;
}

int MemoryLeaseApi::calls(Op op) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace saguard::leader
