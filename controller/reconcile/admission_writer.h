// What the reconciler keeps at admission for a policy (policy/admission.h): a small role
// interface so tests count its writes; the real one (admission/api_keeper.h) goes through
// the kube Client.
#pragma once

#include <string_view>

#include "base/result.h"
#include "policy/admission.h"

namespace saguard::reconcile {

class AdmissionWriter {
 public:
  virtual ~AdmissionWriter() = default;

  // Whether the API server serves MutatingAdmissionPolicy (admissionregistration.k8s.io
  // v1beta1): what planAdmission() needs to know. Discovered, not assumed.
  virtual bool mutatingServed() = 0;

  // Makes the cluster hold exactly `plan`'s objects for the policy named `policyName`:
  // creates what is missing, replaces what differs from the plan (by its rendered hash),
  // deletes the kinds the plan no longer holds (an empty plan: all of them). Writes
  // nothing when everything is as planned. Errors: Conflict (someone else wrote in
  // between, or an object of that name is not saguard's), and the transport's kinds;
  // the reconciler retries.
  virtual Status keep(std::string_view policyName, const policy::AdmissionPlan& plan) = 0;
};

}  // namespace saguard::reconcile
