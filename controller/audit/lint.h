// `saguard lint`: checks manifests, before they reach a cluster, against the
// ServiceAccountPolicies in the input, in --policy files, or the built-in baseline.
//
//   Linter linter({.defaultNamespace = "default"});
//   for (const Source& s : sources) linter.addSource(s);
//   for (const Source& s : policyFiles) linter.addPolicySource(s);
//   LintReport report = linter.run();        // then report.h renders it
//
// What is read (README.md has the full precedence table): Pods and the pod templates
// of Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs
// and CronJobs (each one a "workload"); ServiceAccounts; RoleBindings and
// ClusterRoleBindings; Namespaces (for their labels); ServiceAccountPolicies; `List`
// objects are opened. Other kinds are ignored.
//
// Decisions the design leaves open, made here:
//   - An object without metadata.namespace is in LintOptions::defaultNamespace.
//   - A Namespace in the input gives its labels to namespaces.selector. A namespace
//     that is not in the input has unknown labels: a policy whose namespaces.selector
//     is non-empty does not select its accounts (nothing is guessed); a policy with no
//     or an empty selector does.
//   - An account that is not in the input is judged by name and namespace only. When
//     the workload leaves the field unset and the account would be selected (or some
//     policy selects by account labels, which are unknown) the finding is SAG003.
//   - Audit-mode policies count like Enforce ones: lint reports what either would.
//   - With no policy at all the baseline applies: policy "baseline", Enforce,
//     serviceAccounts.names: [default].
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "audit/manifest.h"
#include "audit/rules.h"
#include "objects/objects.h"
#include "policy/types.h"

namespace saguard::audit {

struct LintOptions {
  std::string defaultNamespace = "default";  // for objects without metadata.namespace
};

// A change that resolves a finding: add `yaml` in the mapping at `at` (described in
// words by `description`).
struct Fix {
  std::string description;
  Location at;
  std::string yaml;
};

// What lint looked at: a workload, binding, policy or unreadable document. Every
// workload is listed (a JUnit test case each, passing or not).
struct CheckedObject {
  std::string kind;  // "Deployment", ..., or "Document" for a malformed one
  std::string namespace_;
  std::string name;
  Location at;

  std::string display() const;  // "Deployment team-a/web"
};

struct Finding {
  Rule rule;
  Location at;
  std::string message;
  std::vector<Fix> fixes;
  std::size_t object = 0;  // index into LintReport::objects
};

struct LintReport {
  std::vector<CheckedObject> objects;
  std::vector<Finding> findings;  // in input order
  std::size_t files = 0;
  std::size_t documents = 0;
  std::size_t workloads = 0;
  std::vector<std::string> policies;  // names of the policies applied, "baseline" when none
};

class Linter {
 public:
  explicit Linter(LintOptions options = {});

  // Reads every document of `source`. Malformed documents become SAG006 findings.
  void addSource(const Source& source);
  // Reads only the ServiceAccountPolicies of `source` (a --policy file).
  void addPolicySource(const Source& source);

  LintReport run() const;

 private:
  struct Workload {
    std::string kind, namespace_, name;
    Location at;         // the object
    Location podSpecAt;  // the pod spec mapping (where a pod-level field goes)
    objects::Tristate automount = objects::Tristate::Unset;
    Location automountAt;
    std::string account;  // "default" when unnamed
    Location accountAt;   // serviceAccountName, or the object when unnamed
  };
  struct Account {
    objects::ServiceAccount sa;
    Location at;
  };
  struct BindingDoc {
    objects::Binding binding;
    Location at;
    std::vector<Location> subjectsAt;
  };
  struct PolicyDoc {
    policy::Policy policy;
    Location at;
  };
  struct Problem {  // an invalid policy or a malformed document, found while reading
    Rule rule;
    CheckedObject object;
    Location at;
    std::string message;
  };

  struct Context;
  struct Decision {
    std::vector<std::string> selectedBy;  // sorted policy names
    bool labelsUnknown = false;  // some policy would decide on the (unknown) account labels
  };
  Decision decide(const Context& ctx, const objects::ServiceAccount& sa, bool accountKnown) const;
  void checkWorkload(const Context& ctx, const Workload& w, LintReport& report) const;
  void checkBinding(const Context& ctx, const BindingDoc& b, LintReport& report) const;

  void addDocument(const Document& doc, const YAML::Node& object, bool policiesOnly);
  void addWorkload(const Document& doc, const YAML::Node& object, const std::string& kind,
                   const std::string& ns);
  void addPolicy(const Document& doc, const YAML::Node& object);

  LintOptions options_;
  std::size_t files_ = 0;
  std::size_t documents_ = 0;
  // In input order; run() evaluates them in that order.
  struct Item {
    enum class Type { Workload, Binding, Problem } type;
    std::size_t index;
  };
  std::vector<Item> order_;
  std::vector<Workload> workloads_;
  std::vector<Account> accounts_;
  std::vector<BindingDoc> bindings_;
  std::vector<objects::Namespace> namespaces_;
  std::vector<PolicyDoc> policies_;
  std::vector<Problem> problems_;
};

}  // namespace saguard::audit
