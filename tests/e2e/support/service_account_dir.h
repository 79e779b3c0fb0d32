// The folder the kubelet mounts into a pod for its ServiceAccount (token, ca.crt,
// namespace), laid out as the kubelet lays it out: the three names are symlinks into
// ..data, itself a symlink to a timestamped folder. publish() rotates the token as the
// kubelet does (a new folder, then a new ..data renamed over the old one), so a reader
// sees the old set or the new set, never a mix. saguard reads it through
// SAGUARD_SERVICEACCOUNT_DIR (SaguardOptions::serviceAccountDir).
//
//   auto token = kubectl("create token saguard -n saguard-system --duration=1h");
//   ServiceAccountDir account(trimmed(token.out), controlPlane().caFile);
//   ...
//   account.publish(newToken);   // rotation under a running saguard
#pragma once

#include <string>

namespace saguard::testing {

class ServiceAccountDir {
 public:
  // A new folder /tmp/saguard-sa-XXXXXX holding `token` (as given), the CA read from
  // `caFile` and `ns`. A file that cannot be written is a test failure (ADD_FAILURE).
  ServiceAccountDir(const std::string& token, const std::string& caFile,
                    const std::string& ns = "saguard-system");
  // Removes the folder (and whatever the test put in it).
  ~ServiceAccountDir();
  ServiceAccountDir(const ServiceAccountDir&) = delete;
  ServiceAccountDir& operator=(const ServiceAccountDir&) = delete;

  const std::string& path() const { return dir_; }

  // Replaces the token the way the kubelet rotates it.
  void publish(const std::string& token);

 private:
  std::string dir_;
  std::string ca_;
  std::string namespace_;
  int generation_ = 0;
};

}  // namespace saguard::testing
