// Name globs of ServiceAccountPolicy (`namespaces.exclude`, `serviceAccounts.names`,
// exemptions): `*` matches any run of characters (also none), `?` exactly one, every
// other character itself; the glob must match the whole name. There is no escaping
// and no character class: Kubernetes names cannot contain `*`, `?`, `[` or `\`.
//
// globMatch() is called for every account on every reconcile, so it allocates nothing.
// validateGlob() is called once, by parsePolicy().
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace saguard::policy {

// Whether `text` as a whole matches `pattern`. Linear in the common cases; at worst
// O(|pattern| * |text|), never exponential.
bool globMatch(std::string_view pattern, std::string_view text);

// What kind of name a glob is matched against, which decides what could ever match.
enum class NameKind {
  Namespace,       // DNS-1123 label: [a-z0-9-], at most 63, starts and ends alphanumeric
  ServiceAccount,  // DNS-1123 subdomain: labels of the above joined by '.', at most 253
};

// Why `pattern` makes no sense for names of `kind` (empty, too long, a character no
// such name contains, a literal '-' or '.' where no name can have one), or nullopt
// when it is fine. The message fits after "field: ".
std::optional<std::string> validateGlob(std::string_view pattern, NameKind kind);

}  // namespace saguard::policy
