#include "support/exposition.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace saguard::metrics {

namespace {

bool nameChar(char c, bool first) {
  const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':';
  return first ? alpha : alpha || std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Reads a metric or label name at `s`, advancing past it; empty when there is none.
std::string readName(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && nameChar(s[n], n == 0)) ++n;
  std::string name(s.substr(0, n));
  s.remove_prefix(n);
  return name;
}

void skipSpaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

// \\, \" and \n escapes (label values); HELP text has only \\ and \n, which this covers.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char next = s[++i];
      out.push_back(next == 'n' ? '\n' : next);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<double> parseValue(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN" || s == "Nan") return std::numeric_limits<double>::quiet_NaN();
  if (s.empty()) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

Error badLine(std::size_t number, std::string_view line, std::string_view why) {
  return makeError(ErrorKind::Invalid, "exposition line " + std::to_string(number) + " (" +
                                           std::string(line) + "): " + std::string(why));
}

}  // namespace

std::optional<double> Exposition::value(std::string_view name, const LabelSet& labels) const {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::vector<const Sample*> Exposition::series(std::string_view name) const {
  std::vector<const Sample*> out;
  for (const Sample& s : samples) {
    if (s.name == name) out.push_back(&s);
  }
  return out;
}

Result<Exposition> parseExposition(std::string_view text) {
  Exposition out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view whole = line;
    skipSpaces(line);
    if (line.empty()) continue;

    if (line.front() == '#') {
      line.remove_prefix(1);
      skipSpaces(line);
      const bool help = line.substr(0, 5) == "HELP ";
      const bool type = line.substr(0, 5) == "TYPE ";
      if (!help && !type) continue;  // a plain comment
      line.remove_prefix(5);
      skipSpaces(line);
      std::string family = readName(line);
      if (family.empty()) return badLine(number, whole, "no metric name");
      skipSpaces(line);
      if (help) {
        out.helps[family] = unescape(line);
      } else {
        out.types[family] = std::string(line);
      }
      continue;
    }

    Sample sample;
    sample.name = readName(line);
    if (sample.name.empty()) return badLine(number, whole, "no metric name");
    if (!line.empty() && line.front() == '{') {
      line.remove_prefix(1);
      for (;;) {
        skipSpaces(line);
        if (!line.empty() && line.front() == '}') {
          line.remove_prefix(1);
          break;
        }
        std::string label = readName(line);
        if (label.empty()) return badLine(number, whole, "bad label name");
        skipSpaces(line);
        if (line.size() < 2 || line[0] != '=' || line[1] != '"')
          return badLine(number, whole, "expected =\"");
        line.remove_prefix(2);
        std::size_t i = 0;
        while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
        if (i >= line.size()) return badLine(number, whole, "unterminated label value");
        sample.labels[label] = unescape(line.substr(0, i));
        line.remove_prefix(i + 1);
        skipSpaces(line);
        if (!line.empty() && line.front() == ',') line.remove_prefix(1);
      }
    }
    skipSpaces(line);
    const std::string_view valueText = line.substr(0, line.find_first_of(" \t"));
    const std::optional<double> value = parseValue(valueText);
    if (!value) return badLine(number, whole, "bad value");
    sample.value = *value;
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace saguard::metrics
