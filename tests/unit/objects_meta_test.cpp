// objects::Meta: the identity every cached record holds, kept to an interned namespace
// plus one heap block for name, uid and resourceVersion. Also how the decoder fills it.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "codec/decoder.h"
#include "objects/objects.h"

namespace saguard::objects {
namespace {

// A Symbol and one pointer; a regrowth here is paid once per cached object.
static_assert(sizeof(Meta) == sizeof(Symbol) + sizeof(void*));
// Pod is 40 bytes on 64-bit hosts; with shared_ptr's control block that is one 64-byte
// malloc chunk (it was 128 bytes, a 160-byte chunk, with three std::strings). Its
// controller lives in what was padding (a kind and a length of the pod's name): a Symbol
// and a name-and-uid block there cost 96 bytes of heap per pod (cache_memory_bench).
static_assert(sizeof(void*) != 8 || sizeof(Pod) <= 40);
static_assert(Meta::kMaxFieldLength >= codec::kMaxFieldBytes);

TEST(Meta, ConstructorRoundTrip) {
  const Meta meta(Symbol("shop"), "web-1", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "42");
  EXPECT_EQ(meta.namespace_.view(), "shop");
  EXPECT_EQ(meta.name(), "web-1");
  EXPECT_EQ(meta.uid(), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  EXPECT_EQ(meta.resourceVersion(), "42");
}

TEST(Meta, DefaultIsEmpty) {
  const Meta meta;
  EXPECT_TRUE(meta.namespace_.empty());
  EXPECT_EQ(meta.name(), "");
  EXPECT_EQ(meta.uid(), "");
  EXPECT_EQ(meta.resourceVersion(), "");
}

TEST(Meta, SettersKeepTheOtherFields) {
  Meta meta;
  meta.setUid("u1");
  meta.setName("a");
  meta.setResourceVersion("7");
  EXPECT_EQ(meta.name(), "a");
  EXPECT_EQ(meta.uid(), "u1");
  EXPECT_EQ(meta.resourceVersion(), "7");
  meta.setName("");
  EXPECT_EQ(meta.name(), "");
  EXPECT_EQ(meta.uid(), "u1");
  EXPECT_EQ(meta.resourceVersion(), "7");
  meta.setIdentity("b", "", "8");
  EXPECT_EQ(meta.name(), "b");
  EXPECT_EQ(meta.uid(), "");
  EXPECT_EQ(meta.resourceVersion(), "8");
}

TEST(Meta, RecordsCopyDeepAndCompareByValue) {
  Pod pod;
  pod.meta = Meta(Symbol("shop"), "web-1", "uid-1", "5");
  pod.serviceAccountName = Symbol("web");
  Pod copy = pod;
  EXPECT_EQ(copy.meta, pod.meta);
  copy.meta.setResourceVersion("6");
  EXPECT_EQ(pod.meta.resourceVersion(), "5");
  EXPECT_NE(copy.meta, pod.meta);
  // The namespace counts too.
  Meta elsewhere = pod.meta;
  elsewhere.namespace_ = Symbol("other");
  EXPECT_NE(elsewhere, pod.meta);

  Pod moved = std::move(copy);
  EXPECT_EQ(moved.meta.name(), "web-1");
  EXPECT_EQ(moved.meta.resourceVersion(), "6");
}

// The decoder's limit, 64 KiB, is more than 16-bit lengths would hold: a name of
// exactly that size comes through whole.
TEST(Meta, DecodesAFieldOfTheFullSizeLimit) {
  const std::string name(codec::kMaxFieldBytes, 'n');
  const std::string uid(codec::kMaxFieldBytes, 'u');
  codec::Decoder decoder;
  auto sa = decoder.object<codec::Kind::ServiceAccount>(R"({"metadata":{"name":")" + name +
                                                        R"(","namespace":"n","uid":")" + uid +
                                                        R"(","resourceVersion":"3"}})");
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  EXPECT_EQ(sa->meta.name(), name);
  EXPECT_EQ(sa->meta.uid(), uid);
  EXPECT_EQ(sa->meta.resourceVersion(), "3");
}

TEST(Meta, DecodesIdentityFieldsInAnyOrderAndKeepsTheLastOfARepeat) {
  codec::Decoder decoder;
  auto sa = decoder.object<codec::Kind::ServiceAccount>(
      R"({"metadata":{"resourceVersion":"9","uid":"u-old","namespace":"n","name":"a","uid":"u-new"}})");
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  EXPECT_EQ(sa->meta.name(), "a");
  EXPECT_EQ(sa->meta.uid(), "u-new");
  EXPECT_EQ(sa->meta.resourceVersion(), "9");

  // An absent uid and resourceVersion are empty, not an error.
  auto bare = decoder.object<codec::Kind::Namespace>(R"({"metadata":{"name":"shop"}})");
  ASSERT_TRUE(bare.ok()) << bare.error().describe();
  EXPECT_EQ(bare->meta.name(), "shop");
  EXPECT_EQ(bare->meta.uid(), "");
  EXPECT_EQ(bare->meta.resourceVersion(), "");
}

}  // namespace
}  // namespace saguard::objects
