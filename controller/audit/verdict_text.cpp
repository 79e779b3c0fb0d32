#include "audit/verdict_text.h"

#include "policy/duration.h"

namespace saguard::audit {

std::string bindingText(const GrantingBinding& b) {
  return b.kind + "/" + (b.namespace_.empty() ? "" : b.namespace_ + "/") + b.name + " (" +
         b.roleKind + "/" + b.roleName + ")";
}

// "2h ago", "today" (a day-granular record of today), "never", "-" (no evidence).
std::string lastUsedText(const TokenHolder& h, const Evidence& e) {
  if (!e.available) return "-";
  if (h.lastUsed == 0) return "never";
  if (h.lastUsed >= e.now) return "today";
  return policy::humanDuration(e.now - h.lastUsed) + " ago";
}

// Why the verdict, in words (the table's EVIDENCE column and the JSON's "evidence").
std::string evidenceText(const TokenHolder& h, const Evidence& e) {
  if (!e.available) return "";
  const std::string window = policy::humanDuration(e.window);
  std::string uses;
  for (const auto& a : h.accesses) uses += (uses.empty() ? "" : ", ") + a;
  switch (h.verdict) {
    case Verdict::Needed:
      if (h.lastUsed != 0 && h.lastUsed > e.now - e.window) {
        return "used " + lastUsedText(h, e) + (uses.empty() ? "" : ": " + uses);
      }
      break;
    case Verdict::Unneeded:
      if (e.observingSince != 0 && e.observingSince <= e.now - e.window) {
        return "no binding and no use in " + window;
      }
      break;
    case Verdict::Unused:
      return "bound but no use in " + window + ": review the binding";
    default:
      break;
  }
  if (e.observingSince == 0) return "no audit events yet";
  return "observed for " + policy::humanDuration(e.now - e.observingSince) + " only, not " + window;
}

std::string ownerText(const policy::Declaration& d) {
  using Kind = policy::Declaration::Kind;
  if (d.kind == Kind::None) return "-";
  const std::string who = d.manager.empty() ? std::string("kubectl") : d.manager.str();
  switch (d.kind) {
    case Kind::Applied:
      return who + " (apply)";
    case Kind::LastApplied:
      return who + " (last-applied)";
    default:
      return who + " (update)";
  }
}

}  // namespace saguard::audit
