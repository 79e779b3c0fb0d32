// Hostile and broken input: truncation at every byte, invalid UTF-8, huge strings,
// deep nesting, wrong types and byte-level mutations. Every case ends in a value
// or an Invalid error; nothing crashes or throws.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/line_framer.h"

namespace saguard::codec {
namespace {

std::string pod(const std::string& name) {
  return R"({"metadata":{"name":")" + name +
         R"(","namespace":"shop","uid":"u","resourceVersion":"1","creationTimestamp":"2024-05-01T10:00:00Z",)"
         R"("annotations":{"note":"caf\u00e9 ☕"},"managedFields":[{"manager":"m","fieldsV1":{"f:spec":{"f:x":{}}}}]},)"
         R"("spec":{"volumes":[{"name":"v","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}},)"
         R"({"name":"s","secret":{"secretName":"web-token-abcde"}}],"serviceAccountName":"web",)"
         R"("automountServiceAccountToken":true,"containers":[{"name":"c","env":[{"name":"A","value":"1.5e3"}]}]},)"
         R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastProbeTime":null}]}})";
}

const std::string kList =
    R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10","continue":"c"},"items":[)" +
    pod("a") + "," + pod("b") + "]}";

TEST(Robustness, EveryTruncationOfAListIsInvalid) {
  Decoder decoder;
  ASSERT_TRUE(decoder.list<Kind::Pod>(std::string_view(kList)).ok());
  for (std::size_t len = 0; len < kList.size(); ++len) {
    auto page = decoder.list<Kind::Pod>(std::string_view(kList).substr(0, len));
    ASSERT_FALSE(page.ok()) << "prefix of " << len << " bytes decoded";
    EXPECT_TRUE(page.is(ErrorKind::Invalid)) << len << ": " << page.error().describe();
  }
}

TEST(Robustness, EveryTruncationOfAWatchEventIsInvalid) {
  const std::string line = R"({"type":"ADDED","object":)" + pod("a") + "}";
  Decoder decoder;
  ASSERT_TRUE(decoder.watchEvent<Kind::Pod>(line).ok());
  for (std::size_t len = 0; len < line.size(); ++len) {
    auto ev = decoder.watchEvent<Kind::Pod>(std::string_view(line).substr(0, len));
    ASSERT_FALSE(ev.ok()) << "prefix of " << len << " bytes decoded";
    EXPECT_TRUE(ev.is(ErrorKind::Invalid)) << len;
  }
}

TEST(Robustness, InvalidUtf8AnywhereFailsTheDocument) {
  Decoder decoder;
  // In a skipped field, a kept field, and a truncated multi-byte sequence.
  for (const std::string& bad : {std::string("\xff"), std::string("\xc3"), std::string("\xe2\x98"),
                                 std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    std::string inSkipped = kList;
    inSkipped.replace(inSkipped.find("caf"), 3, "ca" + bad);
    auto page = decoder.list<Kind::Pod>(std::string_view(inSkipped));
    ASSERT_FALSE(page.ok());
    EXPECT_TRUE(page.is(ErrorKind::Invalid));
    EXPECT_NE(page.error().message.find("UTF-8"), std::string::npos) << page.error().message;

    std::string inName = kList;
    inName.replace(inName.find(R"("name":"b")"), 10, R"("name":"b)" + bad + R"(")");
    EXPECT_TRUE(decoder.list<Kind::Pod>(std::string_view(inName)).is(ErrorKind::Invalid));
  }
}

TEST(Robustness, BadEscapesAndControlCharacters) {
  Decoder decoder;
  const std::string base = R"({"metadata":{"name":"NAME","namespace":"n"}})";
  for (const std::string& name :
       {std::string(R"(a\x)"), std::string(R"(\ud800)"), std::string(R"(\u12)"),
        std::string("a\tb"), std::string("a\x01")}) {
    std::string json = base;
    json.replace(json.find("NAME"), 4, name);
    auto sa = decoder.object<Kind::ServiceAccount>(std::string_view(json));
    ASSERT_FALSE(sa.ok()) << name;
    EXPECT_TRUE(sa.is(ErrorKind::Invalid)) << name;
  }
}

TEST(Robustness, HugeStringsAreRefusedWhereKeptAndSkippedElsewhere) {
  Decoder decoder;
  const std::string huge(1 << 20, 'x');
  std::string keptName = R"({"items":[)" + pod(huge) + "," + pod("ok") + "]}";
  auto page = decoder.list<Kind::Pod>(std::string_view(keptName));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].meta.name(), "ok");
  ASSERT_EQ(page->skipped.size(), 1u);
  EXPECT_EQ(page->skipped[0].error.message,
            "items[0].metadata.name: string of 1048576 bytes exceeds the 65536-byte limit");

  std::string inAnnotation = pod("fine");
  inAnnotation.replace(inAnnotation.find("caf"), 3, huge);
  auto one = decoder.object<Kind::Pod>(std::string_view(inAnnotation));
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->meta.name(), "fine");

  // A label value is kept too.
  auto sa = decoder.object<Kind::ServiceAccount>(
      R"({"metadata":{"name":"a","namespace":"n","labels":{"k":")" + huge + R"("}}})");
  ASSERT_FALSE(sa.ok());
  EXPECT_EQ(
      sa.error().message,
      R"(decoding ServiceAccount: metadata.labels["k"]: string of 1048576 bytes exceeds the 65536-byte limit)");
}

TEST(Robustness, DeepNesting) {
  Decoder decoder;
  const int depth = 100000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  // Where the decoder does not look, nesting costs nothing (simdjson skips it iteratively).
  std::string inStatus = pod("deep");
  inStatus.replace(inStatus.find(R"("phase":"Running")"), 17, R"("phase":"Running","x":)" + deep);
  auto ok = decoder.object<Kind::Pod>(std::string_view(inStatus));
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(ok->meta.name(), "deep");

  // Where it looks, it is a type error.
  auto label =
      decoder.object<Kind::Namespace>(R"({"metadata":{"name":"a","labels":{"k":)" + deep + "}}}");
  ASSERT_FALSE(label.ok());
  EXPECT_EQ(label.error().message, R"(decoding Namespace: metadata.labels["k"]: expected string)");

  // Unbalanced.
  std::string unbalanced = inStatus;
  unbalanced.erase(unbalanced.find(']'), 1);
  EXPECT_TRUE(decoder.object<Kind::Pod>(std::string_view(unbalanced)).is(ErrorKind::Invalid));
  auto open = decoder.object<Kind::Pod>(std::string(depth, '{'));
  EXPECT_TRUE(open.is(ErrorKind::Invalid));
}

TEST(Robustness, WrongTypesNameTheField) {
  struct Case {
    std::string from, to, message;
  };
  const Case cases[] = {
      {R"("namespace":"shop")", R"("namespace":["shop"])", "metadata.namespace: expected string"},
      {R"("uid":"u")", R"("uid":1)", "metadata.uid: expected string"},
      {R"("resourceVersion":"1")", R"("resourceVersion":1)",
       "metadata.resourceVersion: expected string"},
      {R"("creationTimestamp":"2024-05-01T10:00:00Z")", R"("creationTimestamp":1714557600)",
       "metadata.creationTimestamp: expected string"},
      {R"("metadata":{)", R"("metadata":[],"x":{)", "metadata: expected object"},
      {R"("spec":{)", R"("spec":"none","x":{)", "spec: expected object"},
      {R"("sources":[{"serviceAccountToken":{"path":"token"}}])", R"("sources":{"a":1})",
       "spec.volumes[0].projected.sources: expected array"},
      {R"("serviceAccountToken":{"path":"token"})", R"("serviceAccountToken":true)",
       "spec.volumes[0].projected.sources[0].serviceAccountToken: expected object"},
      {R"("secretName":"web-token-abcde")", R"("secretName":false)",
       "spec.volumes[1].secret.secretName: expected string"},
      {R"({"name":"s","secret":)", R"("s",{"secret":)", "spec.volumes[1]: expected object"},
      {R"("serviceAccountName":"web")", R"("serviceAccountName":{})",
       "spec.serviceAccountName: expected string"},
      {R"("automountServiceAccountToken":true)", R"("automountServiceAccountToken":"true")",
       "spec.automountServiceAccountToken: expected boolean"},
      {R"("automountServiceAccountToken":true)", R"("automountServiceAccountToken":1)",
       "spec.automountServiceAccountToken: expected boolean"},
  };
  Decoder decoder;
  for (const auto& c : cases) {
    std::string json = R"({"items":[)" + pod("a") + "]}";
    const auto at = json.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    json.replace(at, c.from.size(), c.to);
    auto page = decoder.list<Kind::Pod>(std::string_view(json));
    ASSERT_TRUE(page.ok()) << c.to << ": " << page.error().describe();
    ASSERT_EQ(page->skipped.size(), 1u) << c.to;
    EXPECT_EQ(page->skipped[0].error.message, "items[0]." + c.message);
  }
}

TEST(Robustness, NumbersOutOfRange) {
  Decoder decoder;
  auto count = decoder.list<Kind::Pod>(
      std::string_view(R"({"metadata":{"remainingItemCount":1e30},"items":[]})"));
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().message,
            "decoding PodList: metadata.remainingItemCount: expected integer");
  auto big = decoder.list<Kind::Pod>(std::string_view(
      R"({"metadata":{"remainingItemCount":123456789012345678901234567890},"items":[]})"));
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(big.is(ErrorKind::Invalid));
  auto code = decoder.watchEvent<Kind::Pod>(R"({"type":"ERROR","object":{"code":-5}})");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().message,
            "decoding Pod watch event: object.code: not an HTTP status code: -5");
}

TEST(Robustness, EmptyAndNonObjectDocuments) {
  Decoder decoder;
  for (std::string_view doc :
       {"", " ", "\n", "null", "1", "\"x\"", "[]", "true", "{", "}", "{}}", "{\"items\":[}"}) {
    auto page = decoder.list<Kind::Pod>(doc);
    ASSERT_FALSE(page.ok()) << doc;
    EXPECT_TRUE(page.is(ErrorKind::Invalid)) << doc << ": " << page.error().describe();
  }
  // An empty object is a valid, empty list.
  auto empty = decoder.list<Kind::Pod>(std::string_view("{}"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_TRUE(decoder.object<Kind::Pod>(PaddedView()).is(ErrorKind::Invalid));
}

// Found by the watch fuzzer: an unbalanced document (an ERROR event whose Status
// closes early) decoded differently when copied into a scratch buffer that still held
// "}" bytes of an earlier, longer line, because simdjson looks at the first padding
// byte when a broken document runs past its end. Copies are now padded with spaces.
TEST(Robustness, SameBytesDecodeTheSameWhateverCameBefore) {
  const std::string unbalanced =
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Fals":{"app":"x"},)"
      R"("managedFields":[{"manager":"kubectl"}]},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running"}}}})";
  auto describe = [](const Result<WatchEvent<objects::Pod>>& r) {
    return r.ok() ? std::string("ok: ") + toString(r->type) : r.error().message;
  };
  Decoder fresh;
  std::string spaced = unbalanced + std::string(kPadding, ' ');
  const std::string expected = describe(
      fresh.watchEvent<Kind::Pod>(PaddedView(spaced.data(), unbalanced.size(), spaced.size())));

  Decoder reused;
  // Leaves "}}}..." in the decoder's scratch buffer just past where the next line ends.
  (void)reused.watchEvent<Kind::Pod>(unbalanced + std::string(200, '}'));
  EXPECT_EQ(describe(reused.watchEvent<Kind::Pod>(std::string_view(unbalanced))), expected);

  // The framer, likewise, after a longer line.
  LineFramer framer;
  std::vector<std::string> outcomes;
  auto onLine = [&](PaddedView line) {
    outcomes.push_back(describe(reused.watchEvent<Kind::Pod>(line)));
  };
  ASSERT_TRUE(framer.feed(std::string(300, '}') + "\n", onLine).ok());
  ASSERT_TRUE(framer.feed(unbalanced + "\n", onLine).ok());
  ASSERT_TRUE(framer.feed(unbalanced, onLine).ok());
  ASSERT_TRUE(
      framer
          .feed("\n}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
                onLine)
          .ok());
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[1], expected);
  EXPECT_EQ(outcomes[2], expected);
}

// A small deterministic fuzz: mutate bytes of valid documents; every outcome must be
// a value or an Invalid error, and a decoded record must satisfy the invariants.
TEST(Robustness, ByteMutationsNeverCrash) {
  std::mt19937 rng(20240501);
  const std::string line = R"({"type":"MODIFIED","object":)" + pod("m") + "}";
  const char interesting[] = {'{',  '}', '[', ']',  '"',    ',', ':',
                              '\\', 'n', '0', '\0', '\xff', ' ', 't'};
  Decoder decoder;
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string doc = round % 2 ? line : kList;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % doc.size();
      switch (rng() % 3) {
        case 0:
          doc[at] = interesting[rng() % sizeof(interesting)];
          break;
        case 1:
          doc.erase(at, 1 + rng() % 8);
          break;
        default:
          doc.insert(at, 1, interesting[rng() % sizeof(interesting)]);
          break;
      }
      if (doc.empty()) doc = "{";
    }
    if (round % 2) {
      auto ev = decoder.watchEvent<Kind::Pod>(doc);
      if (!ev.ok()) {
        EXPECT_TRUE(ev.is(ErrorKind::Invalid)) << ev.error().describe();
      } else if (ev->type != EventType::Bookmark && ev->type != EventType::Error) {
        ++decoded;
        EXPECT_FALSE(ev->object.meta.name().empty());
        EXPECT_FALSE(ev->object.meta.namespace_.empty());
      }
    } else {
      auto page = decoder.list<Kind::Pod>(std::string_view(doc));
      if (!page.ok()) {
        EXPECT_TRUE(page.is(ErrorKind::Invalid)) << page.error().describe();
      } else {
        for (const auto& p : page->items) EXPECT_FALSE(p.meta.name().empty());
        EXPECT_EQ(page->items.size() + page->skipped.size(),
                  page->meta.itemCount + page->meta.skippedCount);
        decoded += static_cast<int>(page->items.size());
      }
    }
  }
  // Mutations that miss the projected fields leave the documents decodable.
  EXPECT_GT(decoded, 1000);
}

}  // namespace
}  // namespace saguard::codec
