// `saguard lint` against the real API server on other tools' fixtures (issue 17): the test
// inputs of eight projects' token checks (../shared/corpus/peers: Polaris, Kubescape,
// Checkov, kubeaudit, Kyverno, Gatekeeper, KICS, Trivy). For every workload of every file,
// what lint says (a finding SAG001/SAG002 under a policy that selects every account: a token;
// no finding: none; SAG003: cannot be told from the file) is compared with what the API
// server's ServiceAccount admission really mounts for the same objects.
//
// Each file is applied as `kubectl apply -f FILE` would in a namespace of its own: objects
// that name no namespace, or `default`, go to a fresh "apply" namespace (lint is run with
// `-n default`, the same reading); every other namespace a file names gets a fresh one too,
// so fixtures never see each other. Namespace documents are not applied (the fresh namespaces
// stand in; no policy here selects by labels). ServiceAccounts and the other non-workload
// objects go first, so that a pod listed before its account still finds it. The truth of a
// Pod is the pod the server made; of a pod template, a server-side dry-run of a Pod with that
// spec, after the workload object itself was accepted. What the server refuses (a malformed
// spec, an account that does not exist) is "rejected" and not compared.
// Skips, saying why, where ../shared/corpus is absent.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/support/corpus.h"
#include "e2e/support/kube_json.h"
#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {
namespace {

using nlohmann::json;

const std::set<std::string> kWorkloadKinds = {"Pod",       "Deployment", "StatefulSet",
                                              "DaemonSet", "ReplicaSet", "ReplicationController",
                                              "Job",       "CronJob"};

// The file's documents as the API server would read them: `kubectl create --dry-run=client
// -o json` prints one object per document that it can map; the ones it cannot (no kind, an
// unknown API) are left out, and *why gets its message.
std::vector<json> documentsOf(const std::string& file, std::string* why) {
  auto r = kubectl("create --dry-run=client -o json -f " + shellQuote(file));
  *why = trimmed(r.err);
  return jsonStream(r.out);
}

// The pod spec a workload's pods get; null for other kinds.
json podSpecOf(const json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Pod") return object.value("spec", json());
  if (kind == "CronJob") {
    return object["spec"]["jobTemplate"]["spec"]["template"].value("spec", json());
  }
  if (kWorkloadKinds.contains(kind)) return object["spec"]["template"].value("spec", json());
  return json();
}

std::string firstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

bool waitForDefaultAccount(const std::string& ns) {
  return eventually(30'000,
                    [&] { return kubectl("get serviceaccount default -n " + ns).exitCode == 0; });
}

struct Row {
  std::string file, workload, truth, lint, peer;
};

// "Kind/name" -> what lint says: "token" (SAG001/SAG002), "unknown" (SAG003), else absent.
std::map<std::string, std::string> lintVerdicts(const std::string& file, const std::string& policy,
                                                std::string* error) {
  auto r = run(std::string(SAGUARD_BINARY) + " lint -o json --exit-zero -n default --policy " +
               policy + " " + shellQuote(file));
  std::map<std::string, std::string> verdicts;
  if (r.exitCode != 0) {
    *error = "saguard lint exited " + std::to_string(r.exitCode) + ": " + r.err;
    return verdicts;
  }
  const json report = json::parse(r.out);
  for (const json& f : report["findings"]) {
    const std::string id = f["ruleId"];
    if (!f.contains("object")) continue;
    const std::string key =
        std::string(f["object"]["kind"]) + "/" + std::string(f["object"]["name"]);
    if (id == "SAG001" || id == "SAG002") verdicts[key] = "token";
    if (id == "SAG003" && !verdicts.contains(key)) verdicts[key] = "unknown";
    if (id == "SAG006") verdicts[key] = "malformed";
  }
  return verdicts;
}

// INDEX.tsv: file -> the peer's own verdicts ("Pod/-/test-pod=fail; ...").
std::map<std::string, std::string> peerVerdicts(const std::string& corpus) {
  std::map<std::string, std::string> verdicts;
  std::ifstream index(corpus + "/peers/INDEX.tsv");
  std::string line;
  std::getline(index, line);  // header
  while (std::getline(index, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
    if (cells.size() > 5) verdicts[cells[0]] = cells[5];
  }
  return verdicts;
}

std::string peerVerdictFor(const std::string& all, const std::string& kind,
                           const std::string& name) {
  std::istringstream items(all);
  for (std::string item; std::getline(items, item, ';');) {
    item = item.substr(item.find_first_not_of(' '));
    if (item.rfind(kind + "/", 0) == 0 && contains(item, "/" + name + "=")) {
      return item.substr(item.find('=') + 1);
    }
  }
  return "-";
}

TEST(PeerFixtures, LintAgreesWithWhatTheApiServerMounts) {
  auto corpus = corpusDir();
  if (!corpus) GTEST_SKIP() << kNoCorpus;
  const std::string dir = makeTempDir("peer-fixtures");
  const std::string policy = dir + "/every-account.yaml";
  std::ofstream(policy) << "apiVersion: saguard.io/v1alpha1\nkind: ServiceAccountPolicy\n"
                           "metadata:\n  name: every-account\nspec:\n  mode: Audit\n";
  const auto peers = peerVerdicts(*corpus);
  ASSERT_FALSE(peers.empty()) << *corpus << "/peers/INDEX.tsv";

  std::vector<Row> rows;
  std::vector<std::string> notAppliable;
  for (const auto& [relative, peerLine] : peers) {
    const std::string file = *corpus + "/peers/" + relative;
    std::string why;
    std::vector<json> docs = documentsOf(file, &why);
    bool anyWorkload = false;
    for (const json& d : docs)
      anyWorkload = anyWorkload || kWorkloadKinds.contains(d.value("kind", ""));
    if (!anyWorkload) {
      if (docs.empty()) notAppliable.push_back(relative + ": " + firstLine(why));
      continue;
    }
    // Namespaces: unset and `default` -> the apply namespace; each other one -> its own.
    const std::string applyNs = freshNamespace("peer");
    ASSERT_TRUE(waitForDefaultAccount(applyNs));
    std::map<std::string, std::string> namespaces = {{"", applyNs}, {"default", applyNs}};
    std::vector<json> others, workloads;
    for (json d : docs) {
      if (d.value("kind", "") == "Namespace") continue;
      const std::string original = d["metadata"].value("namespace", "");
      if (!namespaces.contains(original)) {
        namespaces[original] = freshNamespace("peer");
        ASSERT_TRUE(waitForDefaultAccount(namespaces[original]));
      }
      d["metadata"]["namespace"] = namespaces[original];
      (kWorkloadKinds.contains(d.value("kind", "")) ? workloads : others).push_back(d);
    }
    if (!others.empty()) {
      kubectl("apply -f -", json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", others}}.dump());
    }
    std::string lintError;
    const auto lint = lintVerdicts(file, policy, &lintError);
    EXPECT_TRUE(lintError.empty()) << relative << ": " << lintError;
    for (const json& w : workloads) {
      const std::string kind = w["kind"], name = w["metadata"]["name"],
                        ns = w["metadata"]["namespace"];
      Row row{relative, kind + "/" + name, "", "", peerVerdictFor(peerLine, kind, name)};
      auto lintIt = lint.find(row.workload);
      row.lint = lintIt == lint.end() ? "no token" : lintIt->second;
      auto applied = kubectl("apply -f -", w.dump());
      if (applied.exitCode != 0) {
        row.truth = "rejected: " + firstLine(trimmed(applied.err));
      } else {
        json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "truth-" + randomSuffix()}, {"namespace", ns}}},
                    {"spec", podSpecOf(w)}};
        auto made = kind == "Pod" ? kubectl("get pod " + name + " -n " + ns + " -o json")
                                  : kubectl("create --dry-run=server -o json -f -", pod.dump());
        row.truth = made.exitCode != 0 ? "rejected: " + firstLine(trimmed(made.err))
                                       : (holdsToken(json::parse(made.out)) ? "token" : "no token");
      }
      rows.push_back(row);
    }
  }

  int agree = 0, unknown = 0, rejected = 0, peerPassWithToken = 0;
  std::vector<std::string> disagree;
  std::printf("%-72s %-42s %-10s %-10s %s\n", "FILE", "WORKLOAD", "API SERVER", "LINT", "PEER");
  for (const Row& r : rows) {
    std::printf("%-72s %-42s %-10s %-10s %s\n", r.file.c_str(), r.workload.c_str(),
                r.truth.substr(0, 10).c_str(), r.lint.c_str(), r.peer.c_str());
    // Not asserted (the peers' checks ask other questions too), only counted: a peer that
    // passes a workload the API server gives a token.
    peerPassWithToken += r.truth == "token" && r.peer.rfind("pass", 0) == 0;
    if (r.truth.rfind("rejected", 0) == 0) {
      ++rejected;
      std::printf("    %s\n", r.truth.c_str());
    } else if (r.lint == "unknown") {
      ++unknown;
    } else if (r.lint == r.truth) {
      ++agree;
    } else {
      disagree.push_back(r.file + " " + r.workload + ": the API server says " + r.truth +
                         ", lint says " + r.lint);
    }
  }
  for (const std::string& n : notAppliable) std::printf("not appliable: %s\n", n.c_str());
  std::printf(
      "%zu workloads in %zu files: lint agrees with the API server on %d, says it cannot tell "
      "(SAG003, account not in the input) on %d, disagrees on %zu; the API server rejected %d; "
      "%zu files have nothing appliable; the peers' own tests pass %d workloads that get a token\n",
      rows.size(), peers.size(), agree, unknown, disagree.size(), rejected, notAppliable.size(),
      peerPassWithToken);
  EXPECT_TRUE(disagree.empty()) << ::testing::PrintToString(disagree);
  EXPECT_GT(agree, 0);
}

}  // namespace
}  // namespace saguard::testing
