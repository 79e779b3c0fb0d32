// Discovery documents (APIResourceList) read into the set of served resource names.
#include <gtest/gtest.h>

#include "kube/discovery.h"

namespace saguard::kube {
namespace {

TEST(ParseResourceList, NamesTheResourcesWithoutSubresources) {
  auto names = parseResourceList(R"({"kind":"APIResourceList","groupVersion":"v1",
      "resources":[{"name":"pods","namespaced":true,"kind":"Pod"},
                   {"name":"pods/status","namespaced":true,"kind":"Pod"},
                   {"name":"serviceaccounts","namespaced":true,"kind":"ServiceAccount"},
                   {"name":"serviceaccounts/token","namespaced":true,"kind":"TokenRequest"}]})");
  ASSERT_TRUE(names.ok()) << names.error().describe();
  EXPECT_EQ(*names, (std::set<std::string>{"pods", "serviceaccounts"}));
}

TEST(ParseResourceList, AnEmptyGroupVersionServesNothing) {
  auto names = parseResourceList(R"({"kind":"APIResourceList","resources":[]})");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST(ParseResourceList, SkipsEntriesThatAreNotResources) {
  auto names = parseResourceList(
      R"({"kind":"APIResourceList","resources":[1,"x",{"kind":"NoName"},{"name":""},{"name":"reports"}]})");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::set<std::string>{"reports"}));
}

TEST(ParseResourceList, RefusesWhatIsNotAResourceList) {
  for (const char* bad :
       {"", "not json", "[]", R"({"kind":"Status"})", R"({"kind":"APIResourceList"})",
        R"({"kind":"APIResourceList","resources":{}})"}) {
    auto names = parseResourceList(bad);
    EXPECT_TRUE(names.is(ErrorKind::Invalid)) << bad;
  }
}

}  // namespace
}  // namespace saguard::kube
