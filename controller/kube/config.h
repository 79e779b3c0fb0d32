// Where the API server is and how to prove who we are to it: a RestConfig, loaded
// from a kubeconfig file or from the in-cluster service-account files.
//
// main.cpp calls loadConfig() once at start-up with the --kubeconfig / --context
// flags and hands the result to makeRestClient() (rest_client.h). Everything a
// RestConfig holds is already in memory (PEM text, decoded), except a token file,
// which the client re-reads because bound service-account tokens rotate.
//
// Every error is ErrorKind::Invalid and names the file and the field
// ("kubeconfig /root/.kube/config: users[admin].user.client-key: cannot read
// /root/.kube/admin.key: No such file or directory"). Error messages never contain
// token, key or certificate text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace saguard::kube {

struct RestConfig {
  std::string server{};                // "https://127.0.0.1:6443", no trailing slash
  std::string caPem{};                 // CA bundle to trust (PEM); empty = the system trust store
  bool insecureSkipTlsVerify = false;  // only ever true when a kubeconfig says so
  std::string clientCertPem{};         // client certificate chain (PEM), with clientKeyPem
  std::string clientKeyPem{};
  std::string token{};       // a static bearer token
  std::string tokenFile{};   // a bearer token file, re-read as it rotates; wins over `token`
  std::string namespace_{};  // the context's namespace or the pod's namespace; may be empty
  std::string source{};      // where this came from, for messages: "kubeconfig PATH, context C"
};

// Reads environment variables; injected so tests do not touch the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment processEnvironment();

// Reads a whole (small) file; injected so tests and the fuzzer decide what files hold.
// Errors carry the OS reason ("No such file or directory").
using FileReader = std::function<Result<std::string>(const std::string& path)>;
FileReader diskFileReader();

// Parses kubeconfig text. `path` is the file it came from: relative paths inside are
// resolved against its folder, and it names the file in errors. `context` selects a
// context; empty means current-context. Referenced files (certificate-authority,
// client-certificate, client-key, tokenFile) are read through `files`; a tokenFile is
// read once here to fail early, and again by the client as it rotates.
// Unsupported credential forms (exec, auth-provider, username/password) and
// proxy-url / tls-server-name are errors, never silently ignored.
Result<RestConfig> parseKubeconfig(std::string_view text, const std::string& path,
                                   std::string_view context = {},
                                   const FileReader& files = diskFileReader());

// Reads and parses the kubeconfig file at `path`.
Result<RestConfig> loadKubeconfig(const std::string& path, std::string_view context = {},
                                  const FileReader& files = diskFileReader());

struct InClusterOptions {
  // The files the kubelet mounts into every pod; tests point these elsewhere.
  std::string tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// The configuration of a pod: server https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
// the CA from caFile, the token from tokenFile (re-read by the client), the namespace from
// namespaceFile (optional). Never insecure. An IPv6 service host becomes
// https://kubernetes.default.svc:PORT: cpprestsdk cannot connect to bracketed IPv6
// literals (see CpprestTransport), and cluster DNS resolves that name to the same address.
Result<RestConfig> inClusterConfig(const InClusterOptions& options = {},
                                   const Environment& env = processEnvironment(),
                                   const FileReader& files = diskFileReader());

struct LoadOptions {
  std::string kubeconfig{};  // the --kubeconfig flag; empty = not given
  std::string context{};     // the --context flag; empty = current-context
  InClusterOptions inCluster{};
};

// The usual order of a Kubernetes controller:
//   1. --kubeconfig, when given;
//   2. $KUBECONFIG: its first non-empty entry (the variable may be a colon-separated
//      list; saguard does not merge several files, it uses the first one);
//   3. in-cluster, when KUBERNETES_SERVICE_HOST is set;
//   4. $HOME/.kube/config, when it exists.
// The error, when none applies, lists what was tried.
Result<RestConfig> loadConfig(const LoadOptions& options,
                              const Environment& env = processEnvironment(),
                              const FileReader& files = diskFileReader());

}  // namespace saguard::kube
