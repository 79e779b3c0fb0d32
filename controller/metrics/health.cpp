#include "metrics/health.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <set>
#include <utility>

namespace saguard::metrics {

namespace {

bool validName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte; a malformed escape is
// kept as it is.
std::string urlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 &&
               hexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Query {
  bool verbose = false;
  std::set<std::string> exclude;
};

Query parseQuery(std::string_view query) {
  Query q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string key = urlDecode(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : urlDecode(pair.substr(eq + 1));
    if (key == "verbose") {
      q.verbose = true;
    } else if (key == "exclude" && !value.empty()) {
      q.exclude.insert(value);
    }
  }
  return q;
}

Status runGuarded(const HealthCheck& check) {
  try {
    return check();
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Internal, std::string("check threw: ") + e.what());
  } catch (...) {
    return makeError(ErrorKind::Internal, "check threw a non-exception");
  }
}

const char* probeName(bool ready) {
  return ready ? "readyz" : "healthz";
}

}  // namespace

Status HealthChecks::addHealthCheck(std::string name, HealthCheck check) {
  return add(Probe::Health, std::move(name), std::move(check));
}

Status HealthChecks::addReadyCheck(std::string name, HealthCheck check) {
  return add(Probe::Ready, std::move(name), std::move(check));
}

Status HealthChecks::add(Probe probe, std::string name, HealthCheck check) {
  const char* where = probeName(probe == Probe::Ready);
  if (!validName(name)) {
    return makeError(ErrorKind::Invalid,
                     std::string(where) + " check name \"" + name +
                         "\": must be non-empty and use only letters, digits, '.', '_', '-'");
  }
  if (!check)
    return makeError(ErrorKind::Invalid,
                     std::string(where) + " check \"" + name + "\": no function");
  std::lock_guard lock(mu_);
  std::vector<Named>& checks = probe == Probe::Ready ? ready_ : health_;
  for (const Named& n : checks) {
    if (n.name == name) {
      return makeError(ErrorKind::Invalid,
                       std::string(where) + " check \"" + name + "\" is already added");
    }
  }
  checks.push_back(Named{std::move(name), std::move(check)});
  return Status::Ok();
}

HealthChecks::Response HealthChecks::handle(std::string_view path, std::string_view query) const {
  for (const Probe probe : {Probe::Health, Probe::Ready}) {
    const std::string root = std::string("/") + probeName(probe == Probe::Ready);
    if (path == root || path == root + "/") return run(probe, {}, query);
    if (path.size() > root.size() + 1 && path.substr(0, root.size() + 1) == root + "/") {
      return run(probe, path.substr(root.size() + 1), query);
    }
  }
  return Response{404, "404 page not found\n"};
}

HealthChecks::Response HealthChecks::run(Probe probe, std::string_view only,
                                         std::string_view query) const {
  const bool ready = probe == Probe::Ready;
  std::vector<Named> checks;
  {
    std::lock_guard lock(mu_);
    checks = ready ? ready_ : health_;
  }

  if (!only.empty()) {
    auto it =
        std::find_if(checks.begin(), checks.end(), [&](const Named& n) { return n.name == only; });
    if (it == checks.end())
      return Response{404, "no " + std::string(probeName(ready)) + " check named \"" +
                               std::string(only) + "\"\n"};
    const Status status = runGuarded(it->check);
    noteState(probe, it->name, status);
    if (status.ok()) return Response{200, "ok"};
    return Response{500, "[-]" + it->name + " failed: reason withheld\n"};
  }

  Query q = parseQuery(query);
  std::string lines;
  bool failed = false;
  for (const Named& n : checks) {
    if (q.exclude.erase(n.name) != 0) {
      lines += "[+]" + n.name + " excluded: ok\n";
      continue;
    }
    const Status status = runGuarded(n.check);
    noteState(probe, n.name, status);
    if (status.ok()) {
      lines += "[+]" + n.name + " ok\n";
    } else {
      lines += "[-]" + n.name + " failed: reason withheld\n";
      failed = true;
    }
  }
  // What is left of the exclusions named nothing: say so rather than pretend.
  for (const std::string& unknown : q.exclude)
    lines += "warn: no check named \"" + unknown + "\" to exclude\n";

  if (!failed && !q.verbose) return Response{200, "ok"};
  lines += std::string(probeName(ready)) + (failed ? " check failed\n" : " check passed\n");
  return Response{failed ? 500 : 200, std::move(lines)};
}

void HealthChecks::noteState(Probe probe, const std::string& name, const Status& status) const {
  const std::string key = std::string(probeName(probe == Probe::Ready)) + "/" + name;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = lastOk_.try_emplace(key, status.ok());
    if (!inserted && it->second == status.ok()) return;
    it->second = status.ok();
    if (inserted && status.ok()) return;  // passing from the start: nothing to say
  }
  if (status.ok()) {
    spdlog::info("{} check {} passes again", probeName(probe == Probe::Ready), name);
  } else {
    spdlog::info("{} check {} fails: {}", probeName(probe == Probe::Ready), name,
                 status.error().describe());
  }
}

}  // namespace saguard::metrics
