// libFuzzer target: list decoding (page and streaming forms) and single-object
// decoding of every kind. Checks the invariants a cache relies on; any violation
// aborts (a finding).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/decoder.h"

namespace {

using saguard::ErrorKind;
using namespace saguard::codec;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

template <Kind K>
void checkRecord(const RecordOf<K>& record) {
  check(!record.meta.name().empty(), "record without a name");
  check(record.meta.name().size() <= kMaxFieldBytes, "name over the limit");
  if constexpr (K == Kind::Pod || K == Kind::ServiceAccount || K == Kind::RoleBinding) {
    check(!record.meta.namespace_.empty(), "namespaced record without a namespace");
  } else {
    check(record.meta.namespace_.empty(), "cluster-scoped record with a namespace");
  }
  if constexpr (K == Kind::ServiceAccount || K == Kind::Namespace) {
    for (std::size_t i = 1; i < record.labels.size(); ++i) {
      check(record.labels[i - 1].first < record.labels[i].first, "labels not sorted and unique");
    }
  }
  if constexpr (K == Kind::RoleBinding || K == Kind::ClusterRoleBinding) {
    check(record.clusterScoped == (K == Kind::ClusterRoleBinding), "binding scope");
    check(!record.roleRef.kind.empty() && !record.roleRef.name.empty(), "binding without roleRef");
  }
}

template <Kind K>
void decodeAs(Decoder& decoder, std::string& padded, std::string_view json) {
  // The page form, from a caller-padded buffer.
  auto page = decoder.list<K>(PaddedView(padded.data(), json.size(), padded.size()));
  // The streaming form, from a std::string padded in place.
  std::string copy(json);
  std::size_t items = 0;
  std::size_t skipped = 0;
  ListSink<RecordOf<K>> sink{
      .onItem =
          [&](RecordOf<K>&& record) {
            checkRecord<K>(record);
            ++items;
          },
      .onSkipped =
          [&](SkippedItem&& s) {
            check(s.error.kind == ErrorKind::Invalid && !s.error.message.empty(),
                  "skipped item without an error");
            ++skipped;
          },
  };
  auto meta = decoder.list<K>(copy, sink);
  check(copy == json, "string input not restored");
  check(page.ok() == meta.ok(), "page and streaming forms disagree");
  if (!page.ok()) {
    check(page.kind() == ErrorKind::Invalid && meta.kind() == ErrorKind::Invalid,
          "failure that is not Invalid");
    return;
  }
  check(
      page->items.size() == page->meta.itemCount && page->skipped.size() == page->meta.skippedCount,
      "page counts");
  check(items == meta->itemCount && skipped == meta->skippedCount, "streaming counts");
  check(items == page->items.size() && skipped == page->skipped.size(), "forms count differently");
  for (std::size_t i = 0; i < page->items.size(); ++i) checkRecord<K>(page->items[i]);
  for (std::size_t i = 1; i < page->skipped.size(); ++i) {
    check(page->skipped[i - 1].index < page->skipped[i].index, "skipped indexes out of order");
  }

  auto object = decoder.object<K>(json);
  if (object.ok())
    checkRecord<K>(*object);
  else
    check(object.kind() == ErrorKind::Invalid, "object failure that is not Invalid");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::string padded(json);
  padded.append(kPadding, ' ');  // whitespace padding, as codec/padded.h asks
  static Decoder decoder;        // reused across inputs, as a reflector reuses one
  decodeAs<Kind::Pod>(decoder, padded, json);
  decodeAs<Kind::ServiceAccount>(decoder, padded, json);
  decodeAs<Kind::RoleBinding>(decoder, padded, json);
  decodeAs<Kind::ClusterRoleBinding>(decoder, padded, json);
  decodeAs<Kind::Namespace>(decoder, padded, json);
  return 0;
}
