// The manifest reader of `saguard lint`: document splitting, positions, errors that
// do not stop the other documents, and the YAML-to-JSON conversion used for policies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/manifest.h"

namespace saguard::audit {
namespace {

TEST(AuditManifest, SplitsDocumentsAndKeepsFileLines) {
  Source s{"a.yaml",
           "# leading comment\nkind: A\n---\nkind: B\nmetadata:\n  name: b\n---\n# only a "
           "comment\n---\n{\"kind\": \"C\"}\n"};
  ManifestSet set = readManifests(s);
  ASSERT_TRUE(set.errors.empty());
  ASSERT_EQ(set.documents.size(), 3u);
  EXPECT_EQ(scalarText(child(set.documents[0].root, "kind")), "A");
  EXPECT_EQ(set.documents[0].at(child(set.documents[0].root, "kind")).line, 2);
  const Document& b = set.documents[1];
  Location name = b.at(child(child(b.root, "metadata"), "name"));
  EXPECT_EQ(name.file, "a.yaml");
  EXPECT_EQ(name.line, 6);
  EXPECT_EQ(name.column, 9);
  EXPECT_EQ(b.index, 1);
  EXPECT_EQ(scalarText(child(set.documents[2].root, "kind")), "C");
  EXPECT_EQ(set.documents[2].index, 2);  // comment-only documents are not counted
  EXPECT_EQ(set.documents[2].at(set.documents[2].root).line, 10);
}

TEST(AuditManifest, MalformedDocumentIsAnErrorAndTheOthersAreRead) {
  Source s{"bad.yaml", "kind: A\n---\nkind: B\nmetadata: [unclosed\n---\nkind: C\n"};
  ManifestSet set = readManifests(s);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].at.file, "bad.yaml");
  EXPECT_GE(set.errors[0].at.line, 3);
  EXPECT_LE(set.errors[0].at.line, 5);
  EXPECT_EQ(set.errors[0].documentIndex, 1);
  EXPECT_FALSE(set.errors[0].message.empty());
  ASSERT_EQ(set.documents.size(), 2u);
  EXPECT_EQ(scalarText(child(set.documents[1].root, "kind")), "C");
}

TEST(AuditManifest, DocumentStartNeedsThreeDashesAlone) {
  Source s{"x.yaml", "kind: A\nnote: |\n  ---- not a separator\n----\n"};
  ManifestSet set = readManifests(s);
  // "----" is not a document marker, so it stays inside the first document (and is
  // then a YAML error of that one document).
  EXPECT_EQ(set.documents.size() + set.errors.size(), 1u);
}

TEST(AuditManifest, ChildNeverThrowsOnNonMaps) {
  YAML::Node scalar = YAML::Load("hello");
  EXPECT_TRUE(child(scalar, "a").IsNull());
  YAML::Node seq = YAML::Load("[1, 2]");
  EXPECT_TRUE(child(seq, "a").IsNull());
  EXPECT_EQ(scalarText(seq), "");
  YAML::Node map = YAML::Load("a: {b: 1}");
  EXPECT_EQ(scalarText(child(map, "a")), "");
  EXPECT_TRUE(childKey(map, "a").IsScalar());
}

TEST(AuditManifest, ToJsonTypesPlainScalarsAndKeepsQuotedStrings) {
  YAML::Node n = YAML::Load(
      "a: true\nb: \"true\"\nc: 12\nd: '12'\ne: ~\nf: 1.5\ng: [x, 'y']\nh: null\ni: 0x1F\n");
  auto j = toJson(n);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["a"], true);
  EXPECT_EQ((*j)["b"], "true");
  EXPECT_EQ((*j)["c"], 12);
  EXPECT_EQ((*j)["d"], "12");
  EXPECT_TRUE((*j)["e"].is_null());
  EXPECT_DOUBLE_EQ((*j)["f"].get<double>(), 1.5);
  EXPECT_EQ((*j)["g"], nlohmann::json::array({"x", "y"}));
  EXPECT_TRUE((*j)["h"].is_null());
  EXPECT_EQ((*j)["i"], "0x1F");
}

TEST(AuditManifest, ToJsonStopsAnAliasBomb) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  ManifestSet set = readManifests(Source{"bomb.yaml", bomb});
  ASSERT_EQ(set.documents.size(), 1u);
  auto j = toJson(set.documents[0].root);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.kind(), ErrorKind::Invalid);
}

TEST(AuditManifest, CollectSourcesWalksFoldersSortedAndReadsStdinOnce) {
  namespace fs = std::filesystem;
  fs::path dir =
      fs::temp_directory_path() /
      ("saguard-audit-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "b.yaml") << "kind: B\n";
  std::ofstream(dir / "a.json") << "{}\n";
  std::ofstream(dir / "sub" / "c.yml") << "kind: C\n";
  std::ofstream(dir / "notes.txt") << "ignored\n";
  std::istringstream in("kind: S\n");
  auto sources = collectSources({dir.string(), "-", "-"}, in);
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  ASSERT_EQ(sources->size(), 4u);
  EXPECT_EQ((*sources)[0].name, (dir / "a.json").generic_string());
  EXPECT_EQ((*sources)[1].name, (dir / "b.yaml").generic_string());
  EXPECT_EQ((*sources)[2].name, (dir / "sub" / "c.yml").generic_string());
  EXPECT_EQ((*sources)[3].name, kStdinName);
  EXPECT_EQ((*sources)[3].text, "kind: S\n");
  auto missing = collectSources({(dir / "nope.yaml").string()}, in);
  EXPECT_TRUE(missing.is(ErrorKind::NotFound));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace saguard::audit
