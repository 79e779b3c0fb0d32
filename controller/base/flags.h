// Command-line flags in the kubebuilder/pflag style: `--name=value`, `--name value`,
// and `--flag` / `--flag=false` for booleans. Each subcommand declares its flags with
// a help line and a default, so `--help` is generated from the same declarations
// that parse.
//
//   FlagSet flags("saguard run", "Runs the controller.");
//   std::string kubeconfig; bool leaderElect = false; int workers = 2;
//   flags.add("kubeconfig", &kubeconfig, "Path to a kubeconfig file.");
//   flags.add("leader-elect", &leaderElect, "Enable leader election.");
//   flags.add("workers", &workers, "Concurrent reconciles.");
//   Result<std::vector<std::string>> rest = flags.parse(args);   // positional args
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace saguard {

class FlagSet {
 public:
  FlagSet(std::string command, std::string summary);

  void add(const std::string& name, std::string* value, const std::string& help);
  void add(const std::string& name, bool* value, const std::string& help);
  void add(const std::string& name, int* value, const std::string& help);
  // A flag that may be given several times; each value is appended.
  void add(const std::string& name, std::vector<std::string>* values, const std::string& help);
  // A one-letter alias for a declared flag ("-n" for "--namespace").
  void alias(char shortName, const std::string& name);

  // Parses args (without the program and subcommand names). Returns the positional
  // arguments. Invalid, naming the flag, for an unknown flag or a bad value.
  // `--help`/`-h` sets helpRequested() and stops parsing. `--` ends the flags.
  Result<std::vector<std::string>> parse(const std::vector<std::string>& args);

  bool helpRequested() const { return help_; }
  // Usage text: the command, its summary and every flag with its default.
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string defaultText;
    bool isBool = false;
    char shortName = 0;
    std::function<Status(const std::string&)> set;
  };
  Flag* find(const std::string& name);
  Flag* findShort(char c);

  std::string command_;
  std::string summary_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace saguard
