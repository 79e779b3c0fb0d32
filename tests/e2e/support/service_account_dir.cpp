#include "e2e/support/service_account_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "integration/support/controlplane_env.h"
#include "integration/support/helpers.h"

namespace saguard::testing {

ServiceAccountDir::ServiceAccountDir(const std::string& token, const std::string& caFile,
                                     const std::string& ns)
    : dir_(makeTempDir("sa")), ca_(readFile(caFile)), namespace_(ns) {
  EXPECT_FALSE(ca_.empty()) << "no CA in " << caFile;
  publish(token);
  for (const char* file : {"token", "ca.crt", "namespace"}) {
    EXPECT_EQ(symlink((std::string("..data/") + file).c_str(), (dir_ + "/" + file).c_str()), 0)
        << dir_ << "/" << file;
  }
}

ServiceAccountDir::~ServiceAccountDir() {
  run("rm -rf " + shellQuote(dir_));
}

void ServiceAccountDir::publish(const std::string& token) {
  const std::string data = "..v" + std::to_string(++generation_);
  const std::string full = dir_ + "/" + data;
  EXPECT_EQ(mkdir(full.c_str(), 0755), 0) << full;
  auto write = [&](const char* file, const std::string& content) {
    std::ofstream out(full + "/" + file);
    out << content;
    EXPECT_TRUE(out.good()) << "writing " << full << "/" << file;
  };
  write("token", token);
  write("ca.crt", ca_);
  write("namespace", namespace_);
  const std::string tmp = dir_ + "/..data_tmp";
  unlink(tmp.c_str());
  EXPECT_EQ(symlink(data.c_str(), tmp.c_str()), 0);
  EXPECT_EQ(rename(tmp.c_str(), (dir_ + "/..data").c_str()), 0);
}

}  // namespace saguard::testing
