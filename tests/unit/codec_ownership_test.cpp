// The ServiceAccount projection of who declares automountServiceAccountToken: the
// managedFields entries owning "f:automountServiceAccountToken" (manager, operation) and
// what the kubectl.kubernetes.io/last-applied-configuration annotation declares. The
// annotation is JSON inside a JSON string that anyone may write: anything malformed
// declares nothing and never fails the account.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/decoder.h"
#include "objects/objects.h"

namespace saguard::codec {
namespace {

using objects::FieldOperation;
using objects::FieldOwner;
using objects::FieldOwners;
using objects::Tristate;

// The decoded copies live in an interned pool, so comparing Symbols compares text.
FieldOwner apply(const char* manager) {
  return {Symbol(manager), FieldOperation::Apply};
}
FieldOwner update(const char* manager) {
  return {Symbol(manager), FieldOperation::Update};
}

// An account with the given metadata fields after name and namespace.
std::string account(const std::string& metaExtra, const std::string& top = "") {
  return R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"web","namespace":"shop")" +
         metaExtra + "}" + top + "}";
}

// A JSON string literal holding `text` (quotes, backslashes and newlines escaped).
std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string lastApplied(const std::string& configuration) {
  return R"(,"annotations":{"kubectl.kubernetes.io/last-applied-configuration":)" +
         jsonString(configuration) + "}";
}

objects::ServiceAccount decode(const std::string& json) {
  Decoder decoder;
  auto sa = decoder.object<Kind::ServiceAccount>(std::string_view(json));
  EXPECT_TRUE(sa.ok()) << sa.error().describe() << "\n" << json;
  return sa.ok() ? std::move(*sa) : objects::ServiceAccount{};
}

// What kubectl and the API server really write (taken from the integration test's
// accounts): a server-side apply by argocd-controller declaring the field, the
// controller-manager's nothing, a client-side apply's Update entry.
TEST(OwnershipDecoding, ManagedFieldsOwnersOfTheAutomountField) {
  const auto sa = decode(account(
      R"(,"managedFields":[)"
      R"({"manager":"argocd-controller","operation":"Apply","apiVersion":"v1","time":"2026-12-07T03:00:00Z",)"
      R"("fieldsType":"FieldsV1","fieldsV1":{"f:automountServiceAccountToken":{},"f:metadata":{"f:labels":{"f:app":{}}}}},)"
      R"({"manager":"kube-controller-manager","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:secrets":{}}},)"
      R"({"manager":"kubectl-edit","operation":"Update","fieldsType":"FieldsV1",)"
      R"("fieldsV1":{"f:metadata":{"f:automountServiceAccountToken":{}},"f:automountServiceAccountToken":{}}}])",
      R"(,"automountServiceAccountToken":true)"));
  EXPECT_EQ(sa.automount, Tristate::True);
  EXPECT_EQ(sa.automountOwners, (FieldOwners{apply("argocd-controller"), update("kubectl-edit")}));
  EXPECT_EQ(sa.lastAppliedAutomount, Tristate::Unset);
}

TEST(OwnershipDecoding, NoManagedFieldsNoOwners) {
  EXPECT_TRUE(decode(account("")).automountOwners.empty());
  EXPECT_TRUE(decode(account(R"(,"managedFields":null)")).automountOwners.empty());
  EXPECT_TRUE(decode(account(R"(,"managedFields":[])")).automountOwners.empty());
  // Entries without fieldsV1, with null fieldsV1, or owning only a nested field of that name.
  EXPECT_TRUE(decode(account(R"(,"managedFields":[{"manager":"a","operation":"Apply"},)"
                             R"({"manager":"b","operation":"Apply","fieldsV1":null},)"
                             R"({"manager":"c","operation":"Apply","fieldsV1":{"f:metadata":)"
                             R"({"f:automountServiceAccountToken":{}}}}])"))
                  .automountOwners.empty());
}

TEST(OwnershipDecoding, UnknownOperationsAreIgnored) {
  const auto sa = decode(account(
      R"(,"managedFields":[{"manager":"x","operation":"Patch","fieldsV1":{"f:automountServiceAccountToken":{}}},)"
      R"({"manager":"y","fieldsV1":{"f:automountServiceAccountToken":{}}},)"
      R"({"manager":"saguard","operation":"Apply","fieldsV1":{"f:automountServiceAccountToken":{}}}])"));
  EXPECT_EQ(sa.automountOwners, (FieldOwners{apply("saguard")}));
}

TEST(OwnershipDecoding, OwnersAcrossListItemsDoNotLeak) {
  Decoder decoder;
  auto page = decoder.list<Kind::ServiceAccount>(std::string_view(
      R"({"kind":"ServiceAccountList","items":[)"
      R"({"metadata":{"name":"a","namespace":"n","managedFields":[{"manager":"m","operation":"Apply",)"
      R"("fieldsV1":{"f:automountServiceAccountToken":{}}}]}},)"
      R"({"metadata":{"name":"b","namespace":"n","managedFields":[{"manager":"m","operation":"Update",)"
      R"("fieldsV1":{"f:secrets":{}}}]}},)"
      R"({"metadata":{"name":"c","namespace":"n"}}]})"));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].automountOwners, (FieldOwners{apply("m")}));
  EXPECT_TRUE(page->items[1].automountOwners.empty());
  EXPECT_TRUE(page->items[2].automountOwners.empty());
}

// managedFields is written by the API server, which validates it: a wrong type there fails
// the item like a wrong type anywhere else, and names where.
TEST(OwnershipDecoding, WrongTypesInManagedFieldsFailTheItem) {
  Decoder decoder;
  auto page = decoder.list<Kind::ServiceAccount>(std::string_view(
      R"({"items":[)"
      R"({"metadata":{"name":"a","namespace":"n","managedFields":{"manager":"m"}}},)"
      R"({"metadata":{"name":"b","namespace":"n","managedFields":[{"manager":5,"operation":"Apply"}]}},)"
      R"({"metadata":{"name":"c","namespace":"n","managedFields":["x"]}},)"
      R"({"metadata":{"name":"d","namespace":"n","managedFields":[{"manager":"m","fieldsV1":[]}]}},)"
      R"({"metadata":{"name":"ok","namespace":"n"}}]})"));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_EQ(page->skipped.size(), 4u);
  EXPECT_EQ(page->skipped[0].error.message, "items[0].metadata.managedFields: expected array");
  EXPECT_EQ(page->skipped[1].error.message,
            "items[1].metadata.managedFields[0].manager: expected string");
  EXPECT_EQ(page->skipped[2].error.message, "items[2].metadata.managedFields[0]: expected object");
  EXPECT_EQ(page->skipped[3].error.message,
            "items[3].metadata.managedFields[0].fieldsV1: expected object");
}

TEST(OwnershipDecoding, LastAppliedDeclaresTrueFalseOrNothing) {
  const std::string head =
      R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"web"}})";
  EXPECT_EQ(
      decode(
          account(lastApplied(
              R"({"apiVersion":"v1","automountServiceAccountToken":true,"kind":"ServiceAccount",)"
              R"("metadata":{"annotations":{},"name":"web","namespace":"shop"}})"
              "\n")))
          .lastAppliedAutomount,
      Tristate::True);
  EXPECT_EQ(decode(account(lastApplied(R"({"automountServiceAccountToken":false})")))
                .lastAppliedAutomount,
            Tristate::False);
  EXPECT_EQ(decode(account(lastApplied(head))).lastAppliedAutomount, Tristate::Unset);
  EXPECT_EQ(
      decode(account(lastApplied(R"({"automountServiceAccountToken":null})"))).lastAppliedAutomount,
      Tristate::Unset);
  // A later duplicate wins, as in Go's decoder.
  EXPECT_EQ(
      decode(account(lastApplied(
                 R"({"automountServiceAccountToken":false,"automountServiceAccountToken":true})")))
          .lastAppliedAutomount,
      Tristate::True);
  // Only the top level counts.
  EXPECT_EQ(decode(account(lastApplied(R"({"spec":{"automountServiceAccountToken":true}})")))
                .lastAppliedAutomount,
            Tristate::Unset);
  // Absent annotations, null annotations, other annotations.
  EXPECT_EQ(decode(account("")).lastAppliedAutomount, Tristate::Unset);
  EXPECT_EQ(decode(account(R"(,"annotations":null)")).lastAppliedAutomount, Tristate::Unset);
  EXPECT_EQ(decode(account(R"(,"annotations":{"a":"{\"automountServiceAccountToken\":true}"})"))
                .lastAppliedAutomount,
            Tristate::Unset);
}

// Anything malformed inside the annotation declares nothing, and the account decodes.
TEST(OwnershipDecoding, MalformedLastAppliedDeclaresNothing) {
  const std::vector<std::string> malformed = {
      "",
      "not json",
      "true",
      "[{\"automountServiceAccountToken\":true}]",
      "\"automountServiceAccountToken\"",
      "{\"automountServiceAccountToken\":\"true\"}",
      "{\"automountServiceAccountToken\":1}",
      "{\"automountServiceAccountToken\":true",
      "{\"automountServiceAccountToken\":true,",
      "{\"automountServiceAccountToken\":true}}",
      "{\"automountServiceAccountToken\":true} {}",
      "{\"automountServiceAccountToken\" true}",
      "{\"automountServiceAccountToken\":tru}",
      "{\"automountServiceAccountToken\":true,\"x\":[1,2}",
      std::string(100000, '['),
  };
  for (const std::string& text : malformed) {
    const auto sa = decode(account(lastApplied(text)));
    EXPECT_EQ(sa.lastAppliedAutomount, Tristate::Unset) << text.substr(0, 80);
    EXPECT_EQ(sa.meta.name(), "web");
  }
  // A non-string annotation value (the API server allows none) declares nothing either.
  const auto sa =
      decode(account(R"(,"annotations":{"kubectl.kubernetes.io/last-applied-configuration":{}})"));
  EXPECT_EQ(sa.lastAppliedAutomount, Tristate::Unset);
}

// The configuration is not kept, so it may exceed the limit on kept strings; a huge one
// is parsed and its parser released.
TEST(OwnershipDecoding, LargeLastAppliedIsReadNotRejected) {
  // 2 MiB: past kMaxFieldBytes, and past the 1 MiB after which the nested parser is released.
  std::string padding(std::size_t{2} << 20, 'x');
  const auto sa = decode(account(lastApplied(R"({"metadata":{"annotations":{"big":")" + padding +
                                             R"("}},"automountServiceAccountToken":true})")));
  EXPECT_EQ(sa.lastAppliedAutomount, Tristate::True);
  // And the next, small one decodes with the released parser.
  EXPECT_EQ(decode(account(lastApplied(R"({"automountServiceAccountToken":false})")))
                .lastAppliedAutomount,
            Tristate::False);
}

TEST(OwnershipDecoding, WatchEventCarriesOwnership) {
  Decoder decoder;
  auto event = decoder.watchEvent<Kind::ServiceAccount>(std::string_view(
      R"({"type":"MODIFIED","object":{"kind":"ServiceAccount","metadata":{"name":"a","namespace":"n",)"
      R"("annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"automountServiceAccountToken\":true}"},)"
      R"("managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update",)"
      R"("fieldsV1":{"f:automountServiceAccountToken":{}}}]},"automountServiceAccountToken":true}})"));
  ASSERT_TRUE(event.ok()) << event.error().describe();
  EXPECT_EQ(event->object.lastAppliedAutomount, Tristate::True);
  EXPECT_EQ(event->object.automountOwners, (FieldOwners{update("kubectl-client-side-apply")}));
}

TEST(FieldOwners, CopiesAreDeepAndEmptyHasNoBlock) {
  FieldOwners owners{apply("argocd-controller"), update("kubectl-edit"), apply("saguard")};
  ASSERT_EQ(owners.size(), 3u);
  FieldOwners copy = owners;
  EXPECT_EQ(copy, owners);
  EXPECT_NE(copy.begin(), owners.begin());
  FieldOwners moved = std::move(copy);
  EXPECT_EQ(moved, owners);
  EXPECT_TRUE(FieldOwners{}.empty());
  EXPECT_EQ(FieldOwners{}.size(), 0u);
  EXPECT_EQ(FieldOwners(std::vector<FieldOwner>{}).begin(), nullptr);
  EXPECT_NE(owners, (FieldOwners{apply("argocd-controller")}));
  owners = FieldOwners{};
  EXPECT_TRUE(owners.empty());
}

// One pointer: a cached account pays 8 bytes for its owners.
static_assert(sizeof(void*) != 8 || sizeof(FieldOwners) == 8);
static_assert(sizeof(void*) != 8 || sizeof(objects::ServiceAccount) <= 72);

}  // namespace
}  // namespace saguard::codec
