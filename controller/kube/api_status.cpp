#include "kube/api_status.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace saguard::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kSnippet = 200;

// The first bytes of a body that is not a Status (an HTML error page from a proxy, say),
// fit for a log line: control characters become spaces.
std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kSnippet)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (body.size() > kSnippet) out += "...";
  return out;
}

std::string stringAt(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

struct ParsedStatus {
  bool isStatus = false;
  int code = 0;
  std::string reason;
  std::string message;
  std::vector<ErrorCause> causes;
  std::optional<std::chrono::milliseconds> retryAfter;
};

ParsedStatus parseStatus(std::string_view body) {
  ParsedStatus out;
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return out;
  if (stringAt(doc, "kind") != "Status" && !doc.contains("reason") && !doc.contains("code"))
    return out;
  out.isStatus = true;
  out.reason = stringAt(doc, "reason");
  out.message = stringAt(doc, "message");
  if (auto it = doc.find("code"); it != doc.end() && it->is_number_integer()) {
    auto code = it->get<std::int64_t>();
    if (code > 0 && code < 1000) out.code = static_cast<int>(code);
  }
  auto details = doc.find("details");
  if (details != doc.end() && details->is_object()) {
    auto causes = details->find("causes");
    if (causes != details->end() && causes->is_array()) {
      for (const auto& cause : *causes) {
        if (!cause.is_object()) continue;
        out.causes.push_back({stringAt(cause, "field"), stringAt(cause, "message")});
      }
    }
    auto retry = details->find("retryAfterSeconds");
    if (retry != details->end() && retry->is_number_integer()) {
      auto seconds = retry->get<std::int64_t>();
      if (seconds > 0 && seconds <= 86400) out.retryAfter = std::chrono::seconds(seconds);
    }
  }
  return out;
}

// Reads only the top-level `metadata` object of a List and stops the parse there.
class ListMetaReader final : public nlohmann::json_sax<json> {
 public:
  ListMeta meta;
  bool done = false;
  bool sawObject = false;
  std::string error;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t v) override {
    if (inMeta() && key_ == "remainingItemCount") meta.remainingItemCount = v;
    return value();
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (inMeta() && key_ == "remainingItemCount" &&
        v <= static_cast<number_unsigned_t>(INT64_MAX)) {
      meta.remainingItemCount = static_cast<std::int64_t>(v);
    }
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& v) override {
    if (inMeta()) {
      if (key_ == "resourceVersion")
        meta.resourceVersion = v;
      else if (key_ == "continue")
        meta.continueToken = v;
    }
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) sawObject = true;
    if (depth_ == 1 && key_ == "metadata") metaDepth_ = 2;
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool end_object() override {
    --depth_;
    if (metaDepth_ != 0 && depth_ == metaDepth_ - 1) {
      done = true;  // metadata read: stop before the items
      return false;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return fail("not a JSON object");
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error = "malformed JSON at byte " + std::to_string(position) + ": " + e.what();
    return false;
  }

 private:
  bool inMeta() const { return metaDepth_ != 0 && depth_ == metaDepth_; }
  bool value() {
    if (depth_ == 0) return fail("not a JSON object");
    return true;
  }
  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }

  int depth_ = 0;
  int metaDepth_ = 0;
  std::string key_;
};

}  // namespace

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  if (header.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc() || end != header.data() + header.size() || seconds < 0) return std::nullopt;
  if (seconds > 86400) seconds = 86400;  // a day: anything longer is a misconfiguration
  return std::chrono::seconds(seconds);
}

Error errorFromResponse(int httpCode, std::string_view body, std::string_view retryAfterHeader,
                        std::string_view server, std::string_view path) {
  ParsedStatus status = parseStatus(body);
  Error error;
  error.httpCode = httpCode;
  error.kind = kindFromStatus(httpCode, status.reason);
  error.causes = std::move(status.causes);
  error.retryAfter = parseRetryAfter(retryAfterHeader);
  if (!error.retryAfter) error.retryAfter = status.retryAfter;

  std::string message = status.message;
  if (message.empty()) {
    message = "HTTP " + std::to_string(httpCode) + " from " + std::string(path);
    // A protobuf answer (to an Accept of application/vnd.kubernetes.protobuf) is not shown.
    if (!status.isStatus && !body.empty() && !body.starts_with(std::string_view("k8s\0", 4)))
      message += ": " + snippet(body);
  }
  if (error.kind == ErrorKind::Unauthorized) {
    message = "the server " + std::string(server) + " rejected the credentials: " + message;
  }
  error.message = std::move(message);
  return error;
}

Error errorFromStatus(std::string_view statusJson) {
  ParsedStatus status = parseStatus(statusJson);
  if (!status.isStatus) {
    return makeError(ErrorKind::Internal, "expected a Status object, got: " + snippet(statusJson));
  }
  Error error;
  error.httpCode = status.code;
  error.kind = kindFromStatus(status.code, status.reason);
  error.message = status.message.empty() ? status.reason : status.message;
  error.causes = std::move(status.causes);
  error.retryAfter = status.retryAfter;
  return error;
}

Result<ListMeta> peekListMeta(std::string_view listJson) {
  ListMetaReader reader;
  bool parsed = json::sax_parse(listJson.begin(), listJson.end(), &reader);
  if (reader.done || parsed) {
    if (!reader.sawObject) return makeError(ErrorKind::Internal, "List body: not a JSON object");
    return std::move(reader.meta);
  }
  return makeError(
      ErrorKind::Internal,
      "List body: " + (reader.error.empty() ? std::string("malformed JSON") : reader.error));
}

}  // namespace saguard::kube
