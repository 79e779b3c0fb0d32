// Kubeconfig and in-cluster configuration loading: every field form (inline data,
// files, relative paths), context selection, the loading order, and errors that name
// the file and the field. Files come from an in-memory map except where the disk
// reader itself is under test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "kube/config.h"
#include "kube/detail/base64.h"
#include "unit/support/test_pki.h"

namespace saguard::kube {
namespace {

using namespace test_pki;  // tests/unit/support/test_pki.h

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// An in-memory file system that remembers what was asked of it.
struct FakeFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> reads;

  FileReader reader() {
    return [this](const std::string& path) -> Result<std::string> {
      reads.push_back(path);
      auto it = files.find(path);
      if (it == files.end()) return makeError(ErrorKind::NotFound, "No such file or directory");
      return it->second;
    };
  }
};

struct FakeEnv {
  std::map<std::string, std::string> vars;
  Environment env() {
    return [this](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

std::string inlineConfig(const std::string& extraUser = "", const std::string& extraCluster = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: prod\n"
         "  cluster:\n"
         "    server: https://10.0.0.1:6443\n"
         "    certificate-authority-data: " +
         base64(k_ca_crt) + "\n" + extraCluster +
         "users:\n"
         "- name: admin\n"
         "  user:\n"
         "    client-certificate-data: " +
         base64(k_client_crt) +
         "\n"
         "    client-key-data: " +
         base64(k_client_key) + "\n" + extraUser +
         "contexts:\n"
         "- name: prod-admin\n"
         "  context: {cluster: prod, user: admin, namespace: team-a}\n"
         "current-context: prod-admin\n";
}

// Found by the kubeconfig fuzzer: "https://" alone lost its slashes to the trailing-slash
// trim and passed as the server "https:".
TEST(Kubeconfig, ServerWithoutHostIsRejectedAndTrailingSlashesTrimmed) {
  FakeFiles fs;
  auto config = [&](const std::string& server) {
    return parseKubeconfig(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server +
            "\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {token: t}\n"
            "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
        "/k/config", {}, fs.reader());
  };
  for (const char* bad : {"https://", "https:///", "https:////x"}) {
    auto c = config(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.error().message.find("has no host"), std::string::npos) << c.error().message;
  }
  auto good = config("https://api.example.com:6443//");
  ASSERT_TRUE(good.ok()) << good.error().describe();
  EXPECT_EQ(good->server, "https://api.example.com:6443");
}

TEST(Kubeconfig, InlineDataFields) {
  FakeFiles fs;
  auto config = parseKubeconfig(inlineConfig(), "/home/u/.kube/config", {}, fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");
  EXPECT_EQ(config->caPem, k_ca_crt);
  EXPECT_EQ(config->clientCertPem, k_client_crt);
  EXPECT_EQ(config->clientKeyPem, k_client_key);
  EXPECT_EQ(config->namespace_, "team-a");
  EXPECT_FALSE(config->insecureSkipTlsVerify);
  EXPECT_TRUE(config->token.empty());
  EXPECT_TRUE(config->tokenFile.empty());
  EXPECT_EQ(config->source, "kubeconfig /home/u/.kube/config, context prod-admin");
  EXPECT_TRUE(fs.reads.empty()) << "inline data must not touch the disk";
}

TEST(Kubeconfig, FilesResolvedAgainstTheKubeconfigFolder) {
  FakeFiles fs;
  fs.files["/etc/kube/pki/ca.crt"] = k_ca_crt;
  fs.files["/etc/kube/users/admin.crt"] = k_client_crt;
  fs.files["/etc/kube/admin.key"] = k_client_key;
  fs.files["/var/run/token"] = "tok-from-file\n";
  std::string text = R"(
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    client-certificate: ./users/admin.crt
    client-key: users/../admin.key
    tokenFile: /var/run/token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  auto config = parseKubeconfig(text, "/etc/kube/config", {}, fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->caPem, k_ca_crt);
  EXPECT_EQ(config->clientCertPem, k_client_crt);
  EXPECT_EQ(config->clientKeyPem, k_client_key);
  EXPECT_EQ(config->tokenFile, "/var/run/token");
  EXPECT_TRUE(config->namespace_.empty());
  std::set<std::string> reads(fs.reads.begin(), fs.reads.end());
  EXPECT_EQ(reads, (std::set<std::string>{"/etc/kube/pki/ca.crt", "/etc/kube/users/admin.crt",
                                          "/etc/kube/admin.key", "/var/run/token"}));
}

TEST(Kubeconfig, RelativeKubeconfigPathKeepsRelativeFolder) {
  FakeFiles fs;
  fs.files["conf/ca.crt"] = k_ca_crt;
  std::string text =
      "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority: ca.crt}}]\n"
      "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n";
  auto config = parseKubeconfig(text, "conf/kubeconfig", {}, fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->caPem, k_ca_crt);
  EXPECT_TRUE(config->clientCertPem.empty());  // no user: anonymous
}

TEST(Kubeconfig, DataWinsOverFile) {
  FakeFiles fs;
  std::string text =
      inlineConfig("    client-key: /nowhere/key\n", "    certificate-authority: /nowhere/ca\n");
  auto config = parseKubeconfig(text, "/k", {}, fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->clientKeyPem, k_client_key);
  EXPECT_TRUE(fs.reads.empty());
}

TEST(Kubeconfig, ExplicitContextWinsOverCurrentContext) {
  std::string yaml =
      "clusters:\n"
      "- {name: prod, cluster: {server: 'https://prod:6443', insecure-skip-tls-verify: true}}\n"
      "- {name: staging, cluster: {server: 'https://staging:6443', insecure-skip-tls-verify: "
      "true}}\n"
      "users:\n"
      "- {name: admin, user: {token: abc}}\n"
      "contexts:\n"
      "- {name: p, context: {cluster: prod, user: admin}}\n"
      "- {name: s, context: {cluster: staging, user: admin, namespace: ns-s}}\n"
      "current-context: p\n";
  FakeFiles fs;
  auto current = parseKubeconfig(yaml, "/k", {}, fs.reader());
  ASSERT_TRUE(current.ok()) << current.error().describe();
  EXPECT_EQ(current->server, "https://prod:6443");
  auto chosen = parseKubeconfig(yaml, "/k", "s", fs.reader());
  ASSERT_TRUE(chosen.ok()) << chosen.error().describe();
  EXPECT_EQ(chosen->server, "https://staging:6443");
  EXPECT_EQ(chosen->namespace_, "ns-s");
  EXPECT_EQ(chosen->token, "abc");
  EXPECT_TRUE(chosen->insecureSkipTlsVerify);
  EXPECT_EQ(chosen->source, "kubeconfig /k, context s");
}

TEST(Kubeconfig, ServerWithoutSchemeIsHttps) {
  std::string yaml =
      "clusters: [{name: c, cluster: {server: 'kube.example:443', insecure-skip-tls-verify: "
      "true}}]\n"
      "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n";
  FakeFiles fs;
  auto config = parseKubeconfig(yaml, "/k", {}, fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://kube.example:443");
}

// Each malformed kubeconfig gives an Invalid error whose message names the file and the field.
struct BadCase {
  const char* name;
  std::string yaml;
  std::string context;
  std::vector<std::string> mentions;
};

class KubeconfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(KubeconfigErrors, NameFileAndField) {
  const BadCase& c = GetParam();
  FakeFiles fs;
  fs.files["/cfg/empty-token"] = "  \n";
  fs.files["/cfg/not-pem"] = "hello";
  auto config = parseKubeconfig(c.yaml, "/cfg/kubeconfig", c.context, fs.reader());
  ASSERT_FALSE(config.ok()) << c.name;
  EXPECT_EQ(config.kind(), ErrorKind::Invalid);
  EXPECT_NE(config.error().message.find("kubeconfig /cfg/kubeconfig: "), std::string::npos)
      << config.error().message;
  for (const auto& m : c.mentions) {
    EXPECT_NE(config.error().message.find(m), std::string::npos)
        << c.name << ": \"" << config.error().message << "\" should mention \"" << m << "\"";
  }
}

std::string withCluster(const std::string& cluster, const std::string& user = "{token: t}") {
  return "clusters: [{name: c, cluster: " + cluster + "}]\nusers: [{name: u, user: " + user +
         "}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
}
const std::string kServer = "server: 'https://h:6443'";

INSTANTIATE_TEST_SUITE_P(
    Kubeconfig, KubeconfigErrors,
    ::testing::Values(
        BadCase{"not yaml", "clusters: [\n  - {", "", {"not valid YAML", "line"}},
        BadCase{"empty", "", "", {"empty"}},
        BadCase{"not a map", "- a\n- b\n", "", {"must be a YAML map"}},
        BadCase{"no current context",
                "clusters: []\ncontexts: []\n",
                "",
                {"current-context", "--context"}},
        BadCase{
            "unknown context", withCluster("{" + kServer + "}"), "nope", {"contexts", "\"nope\""}},
        BadCase{"contexts not a list",
                "contexts: {a: b}\ncurrent-context: x\n",
                "",
                {"contexts", "must be a list"}},
        BadCase{
            "missing cluster entry",
            "clusters: []\ncontexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x\n",
            "",
            {"clusters", "\"gone\""}},
        BadCase{"context without cluster",
                "contexts: [{name: x, context: {user: u}}]\ncurrent-context: x\n",
                "",
                {"contexts[x].context.cluster", "missing"}},
        BadCase{"missing server",
                withCluster("{insecure-skip-tls-verify: true}"),
                "",
                {"clusters[c].cluster.server", "missing"}},
        BadCase{"bad scheme",
                withCluster("{server: 'ftp://h'}"),
                "",
                {"clusters[c].cluster.server", "https"}},
        BadCase{"server is a map",
                withCluster("{server: {a: 1}}"),
                "",
                {"clusters[c].cluster.server", "must be a string"}},
        BadCase{"insecure not bool",
                withCluster("{" + kServer + ", insecure-skip-tls-verify: maybe}"),
                "",
                {"clusters[c].cluster.insecure-skip-tls-verify", "true or false"}},
        BadCase{"insecure with CA",
                withCluster("{" + kServer +
                            ", insecure-skip-tls-verify: true, certificate-authority-data: " +
                            base64(k_ca_crt) + "}"),
                "",
                {"insecure-skip-tls-verify", "certificate-authority-data"}},
        BadCase{
            "CA file missing",
            withCluster("{" + kServer + ", certificate-authority: ca/missing.crt}"),
            "",
            {"clusters[c].cluster.certificate-authority", "/cfg/ca/missing.crt", "No such file"}},
        BadCase{"CA not PEM",
                withCluster("{" + kServer + ", certificate-authority: /cfg/not-pem}"),
                "",
                {"clusters[c].cluster.certificate-authority", "no PEM certificate"}},
        BadCase{"CA data not base64",
                withCluster("{" + kServer + ", certificate-authority-data: 'a*b'}"),
                "",
                {"clusters[c].cluster.certificate-authority-data", "base64"}},
        BadCase{"proxy-url",
                withCluster("{" + kServer + ", proxy-url: 'http://p:3128'}"),
                "",
                {"clusters[c].cluster.proxy-url", "not supported"}},
        BadCase{"user missing",
                "clusters: [{name: c, cluster: {server: 'https://h:6443'}}]\nusers: []\n"
                "contexts: [{name: x, context: {cluster: c, user: ghost}}]\ncurrent-context: x\n",
                "",
                {"users", "\"ghost\""}},
        BadCase{"cert without key",
                withCluster("{" + kServer + "}",
                            "{client-certificate-data: " + base64(k_client_crt) + "}"),
                "",
                {"users[u].user.client-certificate-data", "client-key"}},
        BadCase{"key without cert",
                withCluster("{" + kServer + "}", "{client-key-data: " + base64(k_client_key) + "}"),
                "",
                {"users[u].user.client-key-data", "client-certificate"}},
        BadCase{
            "key does not match",
            withCluster("{" + kServer + "}", "{client-certificate-data: " + base64(k_client_crt) +
                                                 ", client-key-data: " + base64(k_other_key) + "}"),
            "",
            {"users[u].user.client-key-data", "does not match"}},
        BadCase{"key is a certificate",
                withCluster("{" + kServer + "}",
                            "{client-certificate-data: " + base64(k_client_crt) +
                                ", client-key-data: " + base64(k_client_crt) + "}"),
                "",
                {"users[u].user.client-key-data", "private key"}},
        BadCase{"cert is not PEM",
                withCluster("{" + kServer + "}",
                            "{client-certificate: /cfg/not-pem, client-key-data: " +
                                base64(k_client_key) + "}"),
                "",
                {"users[u].user.client-certificate", "no PEM certificate"}},
        BadCase{"token file missing",
                withCluster("{" + kServer + "}", "{tokenFile: tok}"),
                "",
                {"users[u].user.tokenFile", "/cfg/tok"}},
        BadCase{"token file empty",
                withCluster("{" + kServer + "}", "{tokenFile: /cfg/empty-token}"),
                "",
                {"users[u].user.tokenFile", "empty"}},
        BadCase{"exec plugin",
                withCluster("{" + kServer + "}", "{exec: {command: gke-auth}}"),
                "",
                {"users[u].user.exec", "not supported"}},
        BadCase{"auth provider",
                withCluster("{" + kServer + "}", "{auth-provider: {name: oidc}}"),
                "",
                {"users[u].user.auth-provider", "not supported"}},
        BadCase{"basic auth",
                withCluster("{" + kServer + "}", "{username: a, password: b}"),
                "",
                {"users[u].user.username", "not supported"}},
        BadCase{"deep nesting",
                "a: " + std::string(200, '[') + std::string(200, ']') + "\n",
                "",
                {"nesting"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name;
      for (char ch : std::string(info.param.name))
        name.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
      return name;
    });

TEST(Kubeconfig, ErrorsNeverQuoteSecrets) {
  // A token and key-data that cannot be used: the error must not repeat them.
  std::string yaml =
      withCluster("{" + kServer + "}",
                  "{token: s3cr3t-t0ken, client-certificate-data: " + base64(k_client_crt) +
                      ", client-key-data: " + base64(k_other_key) + "}");
  FakeFiles fs;
  auto config = parseKubeconfig(yaml, "/k", {}, fs.reader());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(config.error().message.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(config.error().message.find(base64(k_other_key).substr(0, 20)), std::string::npos);
}

TEST(Kubeconfig, TokenIsTrimmed) {
  FakeFiles fs;
  auto config = parseKubeconfig(withCluster("{" + kServer + "}", "{token: ' abc.def '}"), "/k", {},
                                fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->token, "abc.def");
}

TEST(Kubeconfig, LoadFromDiskResolvesRelativePaths) {
  auto dir =
      std::filesystem::temp_directory_path() / ("saguard-kubeconfig-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "pki");
  std::ofstream(dir / "pki" / "ca.crt") << k_ca_crt;
  std::ofstream(dir / "token") << "disk-token\n";
  std::ofstream(dir / "config")
      << "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority: "
         "pki/ca.crt}}]\nusers: [{name: u, user: {tokenFile: token}}]\n"
         "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
  auto config = loadKubeconfig((dir / "config").string());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->caPem, k_ca_crt);
  EXPECT_EQ(config->tokenFile, (dir / "token").string());

  auto missing = loadKubeconfig((dir / "absent").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find((dir / "absent").string()), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// ---- in-cluster ------------------------------------------------------------------

struct InCluster : ::testing::Test {
  FakeFiles fs;
  FakeEnv env;
  InClusterOptions paths{"/sa/token", "/sa/ca.crt", "/sa/namespace"};
  void SetUp() override {
    env.vars = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
    fs.files = {{"/sa/token", "eyJhbGciOi.x.y\n"},
                {"/sa/ca.crt", k_ca_crt},
                {"/sa/namespace", "saguard-system\n"}};
  }
};

TEST_F(InCluster, ReadsEnvironmentAndFiles) {
  auto config = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->caPem, k_ca_crt);
  EXPECT_EQ(config->tokenFile, "/sa/token");
  EXPECT_TRUE(config->token.empty());  // read (and re-read) by the client
  EXPECT_EQ(config->namespace_, "saguard-system");
  EXPECT_FALSE(config->insecureSkipTlsVerify);
}

TEST_F(InCluster, Ipv6HostIsReachedByServiceName) {
  env.vars["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "6443";
  auto config = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://kubernetes.default.svc:6443");
  EXPECT_NE(config->source.find("[fd00:10:96::1]"), std::string::npos) << config->source;
}

TEST_F(InCluster, NamespaceFileIsOptional) {
  fs.files.erase("/sa/namespace");
  auto config = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_TRUE(config->namespace_.empty());
}

TEST_F(InCluster, ErrorsNameWhatIsMissing) {
  env.vars.erase("KUBERNETES_SERVICE_PORT");
  auto noPort = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_FALSE(noPort.ok());
  EXPECT_NE(noPort.error().message.find("KUBERNETES_SERVICE_PORT"), std::string::npos);

  env.vars["KUBERNETES_SERVICE_PORT"] = "https";
  EXPECT_FALSE(inClusterConfig(paths, env.env(), fs.reader()).ok());
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";

  fs.files.erase("/sa/token");
  auto noToken = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_FALSE(noToken.ok());
  EXPECT_NE(noToken.error().message.find("/sa/token"), std::string::npos);

  fs.files["/sa/token"] = "\n";
  auto emptyToken = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_FALSE(emptyToken.ok());
  EXPECT_NE(emptyToken.error().message.find("empty"), std::string::npos);

  fs.files["/sa/token"] = "t";
  fs.files["/sa/ca.crt"] = "garbage";
  auto badCa = inClusterConfig(paths, env.env(), fs.reader());
  ASSERT_FALSE(badCa.ok());
  EXPECT_NE(badCa.error().message.find("/sa/ca.crt"), std::string::npos);
  EXPECT_NE(badCa.error().message.find("no PEM certificate"), std::string::npos);
}

// ---- loading order -----------------------------------------------------------------

struct LoadOrder : ::testing::Test {
  FakeFiles fs;
  FakeEnv env;
  static std::string configFor(const std::string& server) {
    return "clusters: [{name: c, cluster: {server: '" + server +
           "', insecure-skip-tls-verify: true}}]\ncontexts: [{name: x, context: {cluster: c}}]\n"
           "current-context: x\n";
  }
  void SetUp() override {
    fs.files["/flag/config"] = configFor("https://flag:1");
    fs.files["/env/first"] = configFor("https://env-first:1");
    fs.files["/env/second"] = configFor("https://env-second:1");
    fs.files["/home/u/.kube/config"] = configFor("https://home:1");
    fs.files["/sa/token"] = "t";
    fs.files["/sa/ca.crt"] = k_ca_crt;
    env.vars["HOME"] = "/home/u";
  }
  Result<RestConfig> load(const std::string& flag = "") {
    LoadOptions options;
    options.kubeconfig = flag;
    options.inCluster = {"/sa/token", "/sa/ca.crt", "/sa/namespace"};
    return loadConfig(options, env.env(), fs.reader());
  }
};

TEST_F(LoadOrder, FlagFirst) {
  env.vars["KUBECONFIG"] = "/env/first";
  env.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto config = load("/flag/config");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://flag:1");
}

TEST_F(LoadOrder, KubeconfigVariableUsesFirstEntryOfList) {
  env.vars["KUBECONFIG"] = "::/env/first:/env/second";
  env.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto config = load();
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://env-first:1");
}

TEST_F(LoadOrder, InClusterBeforeHome) {
  env.vars["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto config = load();
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
}

TEST_F(LoadOrder, HomeLast) {
  env.vars["KUBECONFIG"] = "";
  auto config = load();
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://home:1");
}

TEST_F(LoadOrder, NothingFoundListsWhatWasTried) {
  fs.files.erase("/home/u/.kube/config");
  auto config = load();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.kind(), ErrorKind::Invalid);
  for (const char* tried :
       {"--kubeconfig", "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "/home/u/.kube/config"}) {
    EXPECT_NE(config.error().message.find(tried), std::string::npos) << config.error().message;
  }
}

TEST_F(LoadOrder, MissingFlagFileIsAnError) {
  auto config = load("/flag/absent");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("/flag/absent"), std::string::npos);
}

// ---- base64 ---------------------------------------------------------------------------

TEST(Base64, DecodesWithAndWithoutPadding) {
  for (const std::string& plain : std::vector<std::string>{
           "", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    auto decoded = detail::base64Decode(base64(plain));
    ASSERT_TRUE(decoded.has_value()) << plain;
    EXPECT_EQ(*decoded, plain);
  }
  EXPECT_EQ(detail::base64Decode("Zm9v\nYmFy\r\n"), std::optional<std::string>("foobar"));
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(detail::base64Decode("Zm9").has_value());       // missing padding
  EXPECT_FALSE(detail::base64Decode("Zg=").has_value());       // short padding
  EXPECT_FALSE(detail::base64Decode("Zg==Zg==").has_value());  // data after padding
  EXPECT_FALSE(detail::base64Decode("Z===").has_value());
  EXPECT_FALSE(detail::base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(detail::base64Decode("Zm9-").has_value());  // URL alphabet is not accepted
}

}  // namespace
}  // namespace saguard::kube
