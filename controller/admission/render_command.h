// `saguard admission render -f FILE...`: prints the admission objects the controller keeps
// for each ServiceAccountPolicy in the files (policy/admission.h), as YAML documents, for
// teams that commit them through GitOps instead of letting the controller write them.
//
// Flags: -f/--filename (repeatable; files, folders, - for stdin), --namespace-self NS
// (saguard's namespace, never matched unless a policy names it; default saguard-system),
// --mutating (also print the MutatingAdmissionPolicy, for API servers that serve
// admissionregistration.k8s.io/v1beta1; off by default: a cluster without it refuses the
// object).
// The objects carry no saguard.io/policy annotation: the controller never touches an
// object without it (set such policies to admission None). What a file cannot show is
// said on stderr: unboundOnly renders with no account bound
// (the controller keeps the list of bound accounts current), unusedFor with no account
// unused (no evidence of use offline).
// Exit codes: 0 printed, 1 an input document is malformed or a policy invalid (nothing
// printed), 2 usage errors and paths that cannot be read.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace saguard::admission {

// `args` are the arguments after "admission". Reads `-` from `in`.
int runAdmission(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                 std::ostream& err);

}  // namespace saguard::admission
