#include "leader/lease_record.h"

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

namespace saguard::leader {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

// Reads `count` digits at `pos`; false when any is not a digit.
bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

void setOrErase(json& spec, const char* key, const std::string& value) {
  if (value.empty()) {
    spec.erase(key);
  } else {
    spec[key] = value;
  }
}

}  // namespace

std::string formatMicroTime(system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss clock{micros - day};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<long long>(clock.subseconds().count()));
  return buffer;
}

std::optional<system_clock::time_point> parseMicroTime(std::string_view text) {
  using namespace std::chrono;
  int y, mo, d, h, mi, s;
  if (!digits(text, 0, 4, y) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, h) || text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' ||
      !digits(text, 17, 2, s)) {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;

  std::size_t pos = 19;
  long long micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t count = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count < 6) micros = micros * 10 + (text[pos] - '0');
      ++count;
      ++pos;
    }
    if (count == 0 || count > 9) return std::nullopt;
    for (std::size_t i = count; i < 6; ++i) micros *= 10;
  }

  minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = hours{oh} + minutes{om};
    if (text[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const auto local = sys_days{date} + hours{h} + minutes{mi} + seconds{s} + microseconds{micros};
  return time_point_cast<system_clock::duration>(local - offset);
}

Result<ObservedLease> parseLease(std::string_view text) {
  try {
    json lease = json::parse(text);
    if (!lease.is_object()) return makeError(ErrorKind::Internal, "Lease: not a JSON object");
    ObservedLease out;
    out.json = std::string(text);
    if (auto meta = lease.find("metadata"); meta != lease.end() && meta->is_object()) {
      out.resourceVersion = meta->value("resourceVersion", "");
    }
    if (auto spec = lease.find("spec"); spec != lease.end() && spec->is_object()) {
      LeaseRecord& r = out.record;
      // A JSON null is how an unset pointer field may come back: read it as absent.
      auto str = [&](const char* key) {
        auto it = spec->find(key);
        return it == spec->end() || it->is_null() ? std::string() : it->get<std::string>();
      };
      auto number = [&](const char* key) {
        auto it = spec->find(key);
        return it == spec->end() || it->is_null() ? 0 : it->get<std::int32_t>();
      };
      r.holderIdentity = str("holderIdentity");
      r.leaseDurationSeconds = number("leaseDurationSeconds");
      r.acquireTime = str("acquireTime");
      r.renewTime = str("renewTime");
      r.leaseTransitions = number("leaseTransitions");
    }
    return out;
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Internal, std::string("Lease: cannot read: ") + e.what());
  }
}

Result<std::string> withRecord(std::string_view leaseJson, const LeaseRecord& record) {
  try {
    json lease = json::parse(leaseJson);
    if (!lease.is_object()) return makeError(ErrorKind::Internal, "Lease: not a JSON object");
    json& spec = lease["spec"];
    if (!spec.is_object()) spec = json::object();
    setOrErase(spec, "holderIdentity", record.holderIdentity);
    spec["leaseDurationSeconds"] = record.leaseDurationSeconds;
    setOrErase(spec, "acquireTime", record.acquireTime);
    setOrErase(spec, "renewTime", record.renewTime);
    spec["leaseTransitions"] = record.leaseTransitions;
    return lease.dump();
  } catch (const std::exception& e) {
    return makeError(ErrorKind::Internal, std::string("Lease: cannot rewrite: ") + e.what());
  }
}

std::string newLease(std::string_view ns, std::string_view name, const LeaseRecord& record) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", std::string(name)}, {"namespace", std::string(ns)}}},
                {"spec", json::object()}};
  // The skeleton above is always an object, so this cannot fail.
  return withRecord(lease.dump(), record).value();
}

}  // namespace saguard::leader
