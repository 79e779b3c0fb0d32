// libFuzzer target: parseKubeconfig() on arbitrary bytes must never crash, hang or
// leak, and must keep its contract: a success has an http(s) server and never both a
// CA and insecure-skip-tls-verify; a failure is Invalid and names the file. Referenced
// files come from a fixed in-memory set (certificate paths give a real CA, key paths a
// real key), so the fuzzer reaches the PEM checks without touching the disk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/config.h"

namespace {

// A self-signed EC P-256 test CA and its key (test material only, valid 2000-2099): as a
// client certificate and key they match, so the success path is reachable.
constexpr const char* kCa = R"PEM(-----BEGIN CERTIFICATE-----
MIIBVzCB/qADAgECAgIQADAKBggqhkjOPQQDAjASMRAwDgYDVQQDDAd0ZXN0LWNh
MCAXDTAwMDEwMTAwMDAwMFoYDzIwOTkxMjMxMDAwMDAwWjASMRAwDgYDVQQDDAd0
ZXN0LWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmdhjxPvGPZrldvnhkbkD
VFq3XD5UTr+naqF0lJe4wqRej8va3Wb1tmJKzmPrYsZrgZk9mJ080cAsdbMrX3Fa
ZqNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYE
FCLneX7eEdvG7OFbG5VVsXScLBlKMAoGCCqGSM49BAMCA0gAMEUCIFzI09P1DHl0
5mgjEVCmcW5lhfNB0BHI7TGCmMxUEE9bAiEApyhdR5CBbI/m+LEuFpFgeRsOj5aL
uDbUBZ70QEppZqI=
-----END CERTIFICATE-----
)PEM";
constexpr const char* kKey = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg244wGJJdo8wIV7W1
oRoX40ngcy75n8MTv5Zn36W32IuhRANCAASZ2GPE+8Y9muV2+eGRuQNUWrdcPlRO
v6dqoXSUl7jCpF6Py9rdZvW2YkrOY+tixmuBmT2YnTzRwCx1sytfcVpm
-----END PRIVATE KEY-----
)PEM";

saguard::Result<std::string> fakeFile(const std::string& path) {
  auto endsWith = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (endsWith(".crt")) return std::string(kCa);
  if (endsWith(".key")) return std::string(kKey);
  if (endsWith("token")) return std::string("fuzz-token\n");
  return saguard::makeError(saguard::ErrorKind::NotFound, "No such file or directory");
}

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line may name a context ("#ctx NAME"), so explicit selection is fuzzed too.
  std::string context;
  if (text.rfind("#ctx ", 0) == 0) {
    auto end = text.find('\n');
    context = std::string(
        text.substr(5, end == std::string_view::npos ? std::string_view::npos : end - 5));
  }
  const std::string path = "/fuzz/dir/kubeconfig";
  auto config = saguard::kube::parseKubeconfig(text, path, context, fakeFile);
  if (config.ok()) {
    check(config->server.rfind("https://", 0) == 0 || config->server.rfind("http://", 0) == 0);
    check(!(config->insecureSkipTlsVerify && !config->caPem.empty()));
    check(config->clientCertPem.empty() == config->clientKeyPem.empty());
  } else {
    check(config.kind() == saguard::ErrorKind::Invalid);
    check(config.error().message.rfind("kubeconfig " + path + ": ", 0) == 0);
  }
  return 0;
}
