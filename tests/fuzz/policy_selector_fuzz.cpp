// libFuzzer target: the selector and glob matcher of policy/, differentially. Each input
// gives a glob, a name, a few labels and a ServiceAccountPolicy as JSON text:
//   - globMatch() must agree with a plain dynamic-programming matcher;
//   - validateGlob(), validateLabelKey() and validateLabelValue() must never crash and
//     must keep their length limits;
//   - parsePolicy() must never throw or crash; when it accepts the policy, matches() of
//     each of its label selectors must agree with a direct reading of metav1.LabelSelector
//     over the fuzzed labels, and selectAccount() must run on an account built from them.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/glob.h"
#include "policy/label_selector.h"
#include "policy/parse.h"
#include "policy/selection.h"

namespace {

using namespace saguard;
using namespace saguard::policy;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// match[i][j]: pattern[i..] matches text[j..].
bool referenceGlob(const std::string& pattern, const std::string& text) {
  const std::size_t p = pattern.size(), t = text.size();
  std::vector<std::vector<char>> match(p + 1, std::vector<char>(t + 1, 0));
  match[p][t] = 1;
  for (std::size_t i = p; i-- > 0;) {
    for (std::size_t j = t + 1; j-- > 0;) {
      if (pattern[i] == '*') {
        match[i][j] = match[i + 1][j] || (j < t && match[i][j + 1]);
      } else if (j < t && (pattern[i] == '?' || pattern[i] == text[j])) {
        match[i][j] = match[i + 1][j + 1];
      }
    }
  }
  return match[0][0] != 0;
}

const Symbol* find(const objects::Labels& labels, const Symbol& key) {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

bool referenceMatches(const LabelSelector& selector, const objects::Labels& labels) {
  for (const auto& [key, value] : selector.matchLabels) {
    const Symbol* have = find(labels, key);
    if (have == nullptr || !(*have == value)) return false;
  }
  for (const auto& requirement : selector.matchExpressions) {
    const Symbol* have = find(labels, requirement.key);
    const bool listed =
        have != nullptr && std::find(requirement.values.begin(), requirement.values.end(), *have) !=
                               requirement.values.end();
    switch (requirement.op) {
      case SelectorOperator::In:
        if (!listed) return false;
        break;
      case SelectorOperator::NotIn:
        if (listed) return false;
        break;
      case SelectorOperator::Exists:
        if (have == nullptr) return false;
        break;
      case SelectorOperator::DoesNotExist:
        if (have != nullptr) return false;
        break;
    }
  }
  return true;
}

// Labels as the decoder projects them: sorted by key, keys unique.
objects::Labels makeLabels(FuzzedDataProvider& in) {
  std::vector<std::pair<std::string, std::string>> raw;
  const int count = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < count; ++i)
    raw.emplace_back(in.ConsumeRandomLengthString(40), in.ConsumeRandomLengthString(40));
  std::sort(raw.begin(), raw.end());
  raw.erase(std::unique(raw.begin(), raw.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            raw.end());
  objects::Labels labels;
  for (const auto& [k, v] : raw) labels.emplace_back(Symbol(k), Symbol(v));
  return labels;
}

void checkSelector(const std::optional<LabelSelector>& selector, const objects::Labels& labels) {
  if (!selector) return;
  check(matches(*selector, labels) == referenceMatches(*selector, labels),
        "matches() disagrees with the reference");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string pattern = in.ConsumeRandomLengthString(128);
  const std::string name = in.ConsumeRandomLengthString(128);
  check(globMatch(pattern, name) == referenceGlob(pattern, name),
        "globMatch() disagrees with the reference");

  for (NameKind kind : {NameKind::Namespace, NameKind::ServiceAccount}) {
    if (!validateGlob(pattern, kind)) {
      check(!pattern.empty(), "empty glob accepted");
      check(pattern.size() <=
                (kind == NameKind::Namespace ? kMaxNamespaceGlobLength : kMaxAccountGlobLength),
            "overlong glob accepted");
    }
  }
  if (!validateLabelValue(name))
    check(name.size() <= kMaxLabelValueLength, "overlong label value accepted");
  if (!validateLabelKey(name))
    check(!name.empty() && name.size() <= kMaxLabelKeyLength, "bad label key accepted");

  const objects::Labels labels = makeLabels(in);
  const std::string json = in.ConsumeRemainingBytesAsString();
  auto policy = parsePolicy(std::string_view(json));
  if (!policy.ok()) {
    check(policy.kind() == ErrorKind::Invalid, "parse failure that is not Invalid");
    return 0;
  }
  checkSelector(policy->namespaces.selector, labels);
  checkSelector(policy->serviceAccounts.selector, labels);
  for (const auto& glob : policy->namespaces.exclude)
    check(!validateGlob(glob, NameKind::Namespace), "bad glob kept");

  objects::ServiceAccount account;
  account.meta.namespace_ = Symbol("ns");
  account.meta.setName(name.empty() ? "default" : name);
  account.labels = labels;
  objects::Namespace ns;
  ns.meta.setName("ns");
  ns.labels = labels;
  AccountFacts facts;
  (void)selectAccount(*policy, account, &ns, facts);
  facts.bound = true;
  facts.now = 1'765'000'000;
  facts.use = {.lastUsed = facts.now - 3600, .observingSince = facts.now - 86400};
  const Selection s = selectAccount(*policy, account, nullptr, facts);
  check(!s.selected, "an account in an unknown namespace was selected");
  if (policy->serviceAccounts.unusedFor) {
    check(*policy->serviceAccounts.unusedFor >= kMinUnusedForSeconds &&
              *policy->serviceAccounts.unusedFor <= kMaxUnusedForSeconds,
          "unusedFor out of range kept");
  }
  return 0;
}
