// Who the API server says this client is: a SelfSubjectReview
// (authentication.k8s.io/v1), the way `kubectl auth whoami` asks. saguard asks it at
// start-up so that it recognises, and never disables, its own ServiceAccount's token.
#pragma once

#include <stop_token>
#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "kube/retry.h"

namespace saguard::kube {

// The user name of this client ("system:serviceaccount:<ns>:<name>" for a
// ServiceAccount token, "" when the answer names none). An answer that asking again may
// change (the server down, unreachable or overloaded: Error::retriable()) is asked
// again, 1 s apart doubling to 30 s, each failure logged; until `stop` is requested,
// which returns Unavailable ("stopped"). Any other error (say Forbidden) is returned.
Result<std::string> whoAmI(Client& client, std::stop_token stop,
                           Sleeper& sleeper = RealSleeper::instance());

}  // namespace saguard::kube
