// MemoryLeaseApi: Leases kept in memory with the API server's concurrency rules, for
// tests of leader election and of the code that wires it (no server needed).
//
// What it keeps of the server's behaviour: create of an existing name is
// AlreadyExists; every stored write bumps metadata.resourceVersion; an update whose
// body carries a resourceVersion other than the stored one is Conflict (an empty one
// is an unconditional update, as on the API server); get and update of a missing
// Lease are NotFound.
//
// What tests add: failures (failNext / failAlways: the next calls of an operation
// answer an Error instead), a hook run before every call (to let "another process"
// write in between a get and an update), writes as another process would make them
// (put), and call counts.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "leader/lease_api.h"
#include "leader/lease_record.h"

namespace saguard::leader {

class MemoryLeaseApi final : public LeaseApi {
 public:
  enum class Op { Get, Create, Update };

  Result<std::string> get(std::string_view ns, std::string_view name,
                          std::chrono::milliseconds timeout) override;
  Result<std::string> create(std::string_view ns, std::string_view body,
                             std::chrono::milliseconds timeout) override;
  Result<std::string> update(std::string_view ns, std::string_view name, std::string_view body,
                             std::chrono::milliseconds timeout) override;

  // The next `times` calls of `op` answer `error` and change nothing.
  void failNext(Op op, Error error, int times = 1);
  // Every call of `op` answers `error` until clearFailures().
  void failAlways(Op op, Error error);
  void clearFailures();

  // Runs before each call, outside the lock (it may call put() or failNext()), with
  // the operation about to run. Counted calls include the hooked one.
  void setHook(std::function<void(Op op)> hook);

  // Writes `record` into the Lease ns/name as another process would, creating the
  // Lease when missing; bumps its resourceVersion.
  void put(std::string_view ns, std::string_view name, const LeaseRecord& record);

  // The stored Lease (JSON) and its record; nullopt when absent.
  std::optional<std::string> leaseJson(std::string_view ns, std::string_view name) const;
  std::optional<LeaseRecord> record(std::string_view ns, std::string_view name) const;

  // Calls of `op` so far, failed ones included.
  int calls(Op op) const;

 private:
  struct Failure {
    Error error;
    int remaining = 0;  // -1 = always
  };

  // Counts the call, runs the hook, and gives the injected failure if any.
  std::optional<Error> enter(Op op);
  // Stores `json` under ns/name with the next resourceVersion; the stored text.
  Result<std::string> store(const std::string& key, std::string_view json);
  static std::string key(std::string_view ns, std::string_view name);

  mutable std::mutex mu_;
  std::map<std::string, std::string> leases_;  // "ns/name" -> JSON
  std::map<Op, Failure> failures_;
  std::map<Op, int> calls_;
  std::function<void(Op)> hook_;
  long long nextVersion_ = 1;
};

}  // namespace saguard::leader
