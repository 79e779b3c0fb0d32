#include "kube/config.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "kube/detail/base64.h"
#include "kube/detail/tls.h"

namespace saguard::kube {
namespace {

// Kubeconfigs with embedded certificates are a few tens of KB; certificate and token
// files are smaller still. The cap keeps a wrong path (/dev/zero) from eating memory.
constexpr std::size_t kMaxFileSize = std::size_t{16} * 1024 * 1024;
// yaml-cpp parses flow collections recursively; refuse absurd nesting before it does.
constexpr int kMaxFlowDepth = 64;

Error invalid(std::string message) {
  return makeError(ErrorKind::Invalid, std::move(message));
}

std::string trimSpace(std::string_view s) {
  const char* ws = " \t\r\n";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(ws);
  return std::string(s.substr(begin, end - begin + 1));
}

bool flowTooDeep(std::string_view text) {
  int depth = 0;
  bool inSingle = false;
  bool inDouble = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inDouble) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inDouble = false;
      continue;
    }
    if (inSingle) {
      if (c == '\'') inSingle = false;
      continue;
    }
    if (c == '"')
      inDouble = true;
    else if (c == '\'')
      inSingle = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// What one kubeconfig parse knows: the file (for messages and relative paths) and how
// to read the files it references.
class KubeconfigParser {
 public:
  KubeconfigParser(const std::string& path, const FileReader& files) : path_(path), files_(files) {
    std::filesystem::path p(path);
    dir_ = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  }

  Result<RestConfig> parse(std::string_view text, std::string_view contextFlag) {
    if (flowTooDeep(text)) return fail("", "nesting too deep");
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return fail("",
                  "not valid YAML: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")");
    } catch (const std::exception& e) {
      return fail("", std::string("not valid YAML: ") + e.what());
    }
    try {
      return parseRoot(root, contextFlag);
    } catch (const std::exception& e) {
      // yaml-cpp throws on conversions the checks below did not foresee.
      return fail("", std::string("unreadable: ") + e.what());
    }
  }

 private:
  Error fail(const std::string& field, const std::string& message) const {
    std::string out = "kubeconfig " + path_ + ": ";
    if (!field.empty()) out += field + ": ";
    return invalid(out + message);
  }

  // A scalar string field of `map`; nullopt when absent or null.
  Result<std::optional<std::string>> stringField(const YAML::Node& map, const char* key,
                                                 const std::string& field) const {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return std::optional<std::string>();
    if (!node.IsScalar()) return fail(field, "must be a string");
    return std::optional<std::string>(node.Scalar());
  }

  Result<bool> boolField(const YAML::Node& map, const char* key, const std::string& field) const {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return fail(field, "must be true or false");
    }
    return value;
  }

  // The `inner` map of the entry of list `section` whose name is `name`
  // (clusters[name].cluster, users[name].user, contexts[name].context).
  Result<YAML::Node> named(const YAML::Node& root, const char* section, const char* inner,
                           const std::string& name) const {
    YAML::Node list = root[section];
    if (!list.IsDefined() || list.IsNull()) {
      return fail(section, "missing (looking for \"" + name + "\")");
    }
    if (!list.IsSequence()) return fail(section, "must be a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
      YAML::Node entry = list[i];
      std::string where = std::string(section) + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) return fail(where, "must be a map with name and " + std::string(inner));
      auto entryName = stringField(entry, "name", where + ".name");
      if (!entryName) return entryName.error();
      if (!entryName->has_value() || **entryName != name) continue;
      YAML::Node body = entry[inner];
      std::string field = std::string(section) + "[" + name + "]." + inner;
      if (!body.IsDefined() || body.IsNull()) return fail(field, "missing");
      if (!body.IsMap()) return fail(field, "must be a map");
      return body;
    }
    return fail(section, "no entry named \"" + name + "\"");
  }

  std::string resolve(const std::string& file) const {
    std::filesystem::path p(file);
    if (p.is_absolute()) return file;
    return (dir_ / p).lexically_normal().string();
  }

  Result<std::string> readReferenced(const std::string& field, const std::string& file) const {
    std::string resolved = resolve(file);
    auto content = files_(resolved);
    if (!content) return fail(field, "cannot read " + resolved + ": " + content.error().message);
    return content;
  }

  Result<std::string> decodeData(const std::string& field, const std::string& data) const {
    auto decoded = detail::base64Decode(data);
    if (!decoded) return fail(field, "not valid base64");
    return *decoded;
  }

  // PEM material from either `<key>-data` (base64, wins as in kubectl) or `<key>` (a path).
  // Returns the PEM and the field it came from ("" when neither is set).
  Result<std::pair<std::string, std::string>> pemField(const YAML::Node& map,
                                                       const std::string& prefix,
                                                       const char* key) const {
    std::string dataKey = std::string(key) + "-data";
    auto data = stringField(map, dataKey.c_str(), prefix + dataKey);
    if (!data) return data.error();
    if (data->has_value() && !(*data)->empty()) {
      auto pem = decodeData(prefix + dataKey, **data);
      if (!pem) return pem.error();
      return std::make_pair(std::move(*pem), prefix + dataKey);
    }
    auto file = stringField(map, key, prefix + key);
    if (!file) return file.error();
    if (file->has_value() && !(*file)->empty()) {
      auto pem = readReferenced(prefix + key, **file);
      if (!pem) return pem.error();
      return std::make_pair(std::move(*pem), prefix + key);
    }
    return std::make_pair(std::string(), std::string());
  }

  Status rejectUnsupported(const YAML::Node& map, const std::string& prefix,
                           std::initializer_list<const char*> keys) const {
    for (const char* key : keys) {
      YAML::Node node = map[key];
      if (node.IsDefined() && !node.IsNull()) {
        return fail(prefix + key, "not supported by saguard");
      }
    }
    return {};
  }

  Result<RestConfig> parseRoot(const YAML::Node& root, std::string_view contextFlag) {
    if (root.IsNull()) return fail("", "empty");
    if (!root.IsMap()) return fail("", "must be a YAML map (apiVersion: v1, kind: Config)");

    std::string contextName(contextFlag);
    if (contextName.empty()) {
      auto current = stringField(root, "current-context", "current-context");
      if (!current) return current.error();
      if (!current->has_value() || (*current)->empty()) {
        return fail("current-context", "not set, and no context was given (--context)");
      }
      contextName = **current;
    }

    auto context = named(root, "contexts", "context", contextName);
    if (!context) return context.error();
    std::string ctxPrefix = "contexts[" + contextName + "].context.";
    auto clusterName = stringField(*context, "cluster", ctxPrefix + "cluster");
    if (!clusterName) return clusterName.error();
    if (!clusterName->has_value() || (*clusterName)->empty())
      return fail(ctxPrefix + "cluster", "missing");
    auto userName = stringField(*context, "user", ctxPrefix + "user");
    if (!userName) return userName.error();
    auto ns = stringField(*context, "namespace", ctxPrefix + "namespace");
    if (!ns) return ns.error();

    RestConfig config;
    config.source = "kubeconfig " + path_ + ", context " + contextName;
    config.namespace_ = ns->value_or("");

    auto cluster = named(root, "clusters", "cluster", **clusterName);
    if (!cluster) return cluster.error();
    if (Status st = parseCluster(*cluster, "clusters[" + **clusterName + "].cluster.", config);
        !st) {
      return st.error();
    }
    // A context without a user is anonymous (and the server will most likely say 401).
    if (userName->has_value() && !(*userName)->empty()) {
      auto user = named(root, "users", "user", **userName);
      if (!user) return user.error();
      if (Status st = parseUser(*user, "users[" + **userName + "].user.", config); !st)
        return st.error();
    }
    return config;
  }

  Status parseCluster(const YAML::Node& cluster, const std::string& prefix, RestConfig& config) {
    auto server = stringField(cluster, "server", prefix + "server");
    if (!server) return server.error();
    std::string url = trimSpace(server->value_or(""));
    if (url.empty()) return fail(prefix + "server", "missing");
    if (url.find("://") == std::string::npos) url = "https://" + url;  // as kubectl does
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      return fail(prefix + "server", "must be an https:// (or http://) URL");
    }
    // The host comes right after the scheme; only slashes after it may be trimmed
    // ("https://" alone must not lose its own slashes and pass as a URL).
    const std::size_t hostStart = url.find("://") + 3;
    if (hostStart >= url.size() || url[hostStart] == '/')
      return fail(prefix + "server", "has no host");
    while (url.size() > hostStart + 1 && url.back() == '/') url.pop_back();
    config.server = url;

    if (Status st = rejectUnsupported(cluster, prefix, {"proxy-url", "tls-server-name"}); !st)
      return st;

    auto insecure =
        boolField(cluster, "insecure-skip-tls-verify", prefix + "insecure-skip-tls-verify");
    if (!insecure) return insecure.error();
    config.insecureSkipTlsVerify = *insecure;

    auto ca = pemField(cluster, prefix, "certificate-authority");
    if (!ca) return ca.error();
    if (!ca->first.empty()) {
      if (config.insecureSkipTlsVerify) {
        return fail(prefix + "insecure-skip-tls-verify",
                    "cannot be combined with " + ca->second +
                        " (trust the CA, or skip verification, not both)");
      }
      auto certs = detail::parseCertificates(ca->first);
      if (!certs) return fail(ca->second, certs.error().message);
      config.caPem = std::move(ca->first);
    }
    return {};
  }

  Status parseUser(const YAML::Node& user, const std::string& prefix, RestConfig& config) {
    if (Status st =
            rejectUnsupported(user, prefix, {"exec", "auth-provider", "username", "password"});
        !st) {
      return st;
    }
    auto cert = pemField(user, prefix, "client-certificate");
    if (!cert) return cert.error();
    auto key = pemField(user, prefix, "client-key");
    if (!key) return key.error();
    if (cert->first.empty() != key->first.empty()) {
      return cert->first.empty() ? fail(key->second, "set without client-certificate(-data)")
                                 : fail(cert->second, "set without client-key(-data)");
    }
    if (!cert->first.empty()) {
      auto chain = detail::parseCertificates(cert->first);
      if (!chain) return fail(cert->second, chain.error().message);
      auto pkey = detail::parsePrivateKey(key->first);
      if (!pkey) return fail(key->second, pkey.error().message);
      if (Status st = detail::checkKeyPair(chain->front().get(), pkey->get()); !st) {
        return fail(key->second, st.error().message);
      }
      config.clientCertPem = std::move(cert->first);
      config.clientKeyPem = std::move(key->first);
    }

    auto token = stringField(user, "token", prefix + "token");
    if (!token) return token.error();
    config.token = trimSpace(token->value_or(""));
    auto tokenFile = stringField(user, "tokenFile", prefix + "tokenFile");
    if (!tokenFile) return tokenFile.error();
    if (tokenFile->has_value() && !(*tokenFile)->empty()) {
      auto content = readReferenced(prefix + "tokenFile", **tokenFile);
      if (!content) return content.error();
      if (trimSpace(*content).empty())
        return fail(prefix + "tokenFile", resolve(**tokenFile) + " is empty");
      config.tokenFile = resolve(**tokenFile);
    }
    return {};
  }

  std::string path_;
  std::filesystem::path dir_;
  const FileReader& files_;
};

}  // namespace

Environment processEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

FileReader diskFileReader() {
  return [](const std::string& path) -> Result<std::string> {
    auto osError = [](int err) {
      return makeError(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Invalid,
                       std::error_code(err, std::generic_category()).message());
    };
    struct Descriptor {
      int fd;
      ~Descriptor() {
        if (fd >= 0) ::close(fd);
      }
    } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) return osError(errno);
    std::string content;
    char buf[8192];
    while (true) {
      ssize_t n = ::read(file.fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return osError(errno);
      }
      if (n == 0) break;
      content.append(buf, static_cast<std::size_t>(n));
      if (content.size() > kMaxFileSize) return makeError(ErrorKind::Invalid, "larger than 16 MiB");
    }
    return content;
  };
}

Result<RestConfig> parseKubeconfig(std::string_view text, const std::string& path,
                                   std::string_view context, const FileReader& files) {
  return KubeconfigParser(path, files).parse(text, context);
}

Result<RestConfig> loadKubeconfig(const std::string& path, std::string_view context,
                                  const FileReader& files) {
  auto text = files(path);
  if (!text)
    return makeError(ErrorKind::Invalid,
                     "kubeconfig " + path + ": cannot read: " + text.error().message);
  return parseKubeconfig(*text, path, context, files);
}

Result<RestConfig> inClusterConfig(const InClusterOptions& options, const Environment& env,
                                   const FileReader& files) {
  std::string host = trimSpace(env("KUBERNETES_SERVICE_HOST").value_or(""));
  std::string port = trimSpace(env("KUBERNETES_SERVICE_PORT").value_or(""));
  if (host.empty() || port.empty()) {
    return invalid(
        "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both "
        "be set "
        "(is this running in a pod?)");
  }
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) {
    return invalid("in-cluster configuration: KUBERNETES_SERVICE_PORT is not a port number");
  }
  RestConfig config;
  config.source = "in-cluster configuration (service account token " + options.tokenFile + ")";
  if (host.find(':') != std::string::npos) {
    // An IPv6 service address. cpprestsdk 2.10 cannot connect to a bracketed IPv6
    // literal (its resolver is handed "[fd00::1]"), so the server is named by the
    // Service's DNS name instead: cluster DNS resolves it to the same address, and the
    // API server's serving certificate always carries it.
    config.server = "https://kubernetes.default.svc:" + port;
    config.source += ", KUBERNETES_SERVICE_HOST [" + host + "] reached as kubernetes.default.svc";
  } else {
    config.server = "https://" + host + ":" + port;
  }

  auto ca = files(options.caFile);
  if (!ca)
    return invalid("in-cluster configuration: cannot read " + options.caFile + ": " +
                   ca.error().message);
  auto certs = detail::parseCertificates(*ca);
  if (!certs)
    return invalid("in-cluster configuration: " + options.caFile + ": " + certs.error().message);
  config.caPem = std::move(*ca);

  auto token = files(options.tokenFile);
  if (!token) {
    return invalid("in-cluster configuration: cannot read " + options.tokenFile + ": " +
                   token.error().message);
  }
  if (trimSpace(*token).empty())
    return invalid("in-cluster configuration: " + options.tokenFile + " is empty");
  config.tokenFile = options.tokenFile;

  // The namespace file is a convenience; a pod without it still works.
  if (auto ns = files(options.namespaceFile)) config.namespace_ = trimSpace(*ns);
  return config;
}

Result<RestConfig> loadConfig(const LoadOptions& options, const Environment& env,
                              const FileReader& files) {
  if (!options.kubeconfig.empty())
    return loadKubeconfig(options.kubeconfig, options.context, files);

  std::string list = env("KUBECONFIG").value_or("");
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) return loadKubeconfig(list.substr(start, end - start), options.context, files);
    start = end + 1;
  }

  if (!env("KUBERNETES_SERVICE_HOST").value_or("").empty()) {
    return inClusterConfig(options.inCluster, env, files);
  }

  std::string home = env("HOME").value_or("");
  std::string tried = "--kubeconfig not given, KUBECONFIG not set, KUBERNETES_SERVICE_HOST not set";
  if (!home.empty()) {
    std::string path = (std::filesystem::path(home) / ".kube" / "config").string();
    auto text = files(path);
    if (text) return parseKubeconfig(*text, path, options.context, files);
    if (!text.is(ErrorKind::NotFound)) {
      return invalid("kubeconfig " + path + ": cannot read: " + text.error().message);
    }
    tried += ", " + path + " does not exist";
  } else {
    tried += ", HOME not set";
  }
  return invalid("no Kubernetes configuration found: " + tried);
}

}  // namespace saguard::kube
