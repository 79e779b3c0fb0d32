#include "base/flags.h"

#include <charconv>

namespace saguard {

FlagSet::FlagSet(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void FlagSet::add(const std::string& name, std::string* value, const std::string& help) {
  flags_.push_back({name, help, value->empty() ? "" : "\"" + *value + "\"", false, 0,
                    [value](const std::string& v) -> Status {
                      *value = v;
                      return {};
                    }});
}

void FlagSet::add(const std::string& name, bool* value, const std::string& help) {
  flags_.push_back({name, help, *value ? "true" : "false", true, 0,
                    [value, name](const std::string& v) -> Status {
                      if (v == "true" || v == "1") {
                        *value = true;
                      } else if (v == "false" || v == "0") {
                        *value = false;
                      } else {
                        return makeError(
                            ErrorKind::Invalid,
                            "--" + name + ": expected true or false, got \"" + v + "\"");
                      }
                      return {};
                    }});
}

void FlagSet::add(const std::string& name, int* value, const std::string& help) {
  flags_.push_back(
      {name, help, std::to_string(*value), false, 0, [value, name](const std::string& v) -> Status {
         int parsed = 0;
         auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
         if (ec != std::errc() || ptr != v.data() + v.size()) {
           return makeError(ErrorKind::Invalid,
                            "--" + name + ": expected a whole number, got \"" + v + "\"");
         }
         *value = parsed;
         return {};
       }});
}

void FlagSet::add(const std::string& name, std::vector<std::string>* values,
                  const std::string& help) {
  flags_.push_back({name, help, "", false, 0, [values](const std::string& v) -> Status {
                      values->push_back(v);
                      return {};
                    }});
}

void FlagSet::alias(char shortName, const std::string& name) {
  if (Flag* f = find(name)) f->shortName = shortName;
}

FlagSet::Flag* FlagSet::find(const std::string& name) {
  for (auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FlagSet::Flag* FlagSet::findShort(char c) {
  for (auto& f : flags_) {
    if (f.shortName == c) return &f;
  }
  return nullptr;
}

Result<std::vector<std::string>> FlagSet::parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return positional;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    Flag* flag = nullptr;
    std::string name;
    std::optional<std::string> value;
    if (arg[1] == '-') {
      std::string body = arg.substr(2);
      auto eq = body.find('=');
      name = body.substr(0, eq);
      if (eq != std::string::npos) value = body.substr(eq + 1);
      flag = find(name);
      if (flag == nullptr)
        return makeError(ErrorKind::Invalid, "unknown flag --" + name + " (see --help)");
    } else {
      if (arg.size() != 2)
        return makeError(ErrorKind::Invalid, "unknown flag " + arg + " (see --help)");
      flag = findShort(arg[1]);
      if (flag == nullptr)
        return makeError(ErrorKind::Invalid, "unknown flag " + arg + " (see --help)");
      name = flag->name;
    }
    if (!value) {
      if (flag->isBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return makeError(ErrorKind::Invalid, "--" + name + " needs a value");
      }
    }
    if (Status st = flag->set(*value); !st.ok()) return st.error();
  }
  return positional;
}

std::string FlagSet::usage() const {
  std::string out = "Usage: " + command_ + " [flags]\n\n" + summary_ + "\n\nFlags:\n";
  for (const auto& f : flags_) {
    std::string left = "  ";
    left += f.shortName ? std::string("-") + f.shortName + ", " : "    ";
    left += "--" + f.name;
    if (!f.isBool) left += " value";
    if (left.size() < 34) left.resize(34, ' ');
    out += left + " " + f.help;
    if (!f.defaultText.empty()) out += " (default " + f.defaultText + ")";
    out += "\n";
  }
  out += "  -h, --help                       Show this help.\n";
  return out;
}

}  // namespace saguard
