// Writing Kubernetes protobuf messages by hand, for tests and fuzz seeds of
// codec/protobuf.h: fields by number, nested messages, the "k8s\0" envelope and watch
// frames, and deliberately broken wire data.
//
//   Proto meta;
//   meta.str(1, "web-1").str(3, "shop");
//   std::string pod = envelope("Pod", Proto().msg(1, meta).bytes());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace saguard::testing {

class Proto {
 public:
  Proto& varint(std::uint32_t field, std::uint64_t value) {
    tag(field, 0);
    raw(value);
    return *this;
  }
  Proto& boolean(std::uint32_t field, bool value) { return varint(field, value ? 1 : 0); }
  Proto& str(std::uint32_t field, std::string_view value) {
    tag(field, 2);
    raw(value.size());
    out_.append(value);
    return *this;
  }
  Proto& msg(std::uint32_t field, const Proto& message) { return str(field, message.bytes()); }
  // A map<string, string> entry {1: key, 2: value}.
  Proto& entry(std::uint32_t field, std::string_view key, std::string_view value) {
    return msg(field, Proto().str(1, key).str(2, value));
  }
  Proto& fixed32(std::uint32_t field) {
    tag(field, 5);
    out_.append(4, '\0');
    return *this;
  }
  Proto& fixed64(std::uint32_t field) {
    tag(field, 1);
    out_.append(8, '\0');
    return *this;
  }
  // Any bytes, as they are (broken wire data).
  Proto& append(std::string_view bytes) {
    out_.append(bytes);
    return *this;
  }
  Proto& tag(std::uint32_t field, std::uint8_t wire) {
    raw((static_cast<std::uint64_t>(field) << 3) | wire);
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  void raw(std::uint64_t value) {
    do {
      std::uint8_t byte = value & 0x7F;
      value >>= 7;
      if (value != 0) byte |= 0x80;
      out_.push_back(static_cast<char>(byte));
    } while (value != 0);
  }
  std::string out_;
};

// "k8s\0" + runtime.Unknown{typeMeta{apiVersion "v1", kind}, raw}.
inline std::string envelope(std::string_view kind, std::string_view raw,
                            std::string_view apiVersion = "v1") {
  Proto unknown;
  unknown.msg(1, Proto().str(1, apiVersion).str(2, kind)).str(2, raw);
  return std::string("k8s\0", 4) + unknown.bytes();
}

// A metav1.WatchEvent{type, object: RawExtension{raw = an envelope}}.
inline std::string watchEvent(std::string_view type, std::string_view objectEnvelope) {
  return Proto().str(1, type).msg(2, Proto().str(1, objectEnvelope)).bytes();
}

// A frame of a protobuf watch stream: 4-byte big-endian length + the event.
inline std::string frame(std::string_view event) {
  std::string out(4, '\0');
  const std::size_t n = event.size();
  out[0] = static_cast<char>((n >> 24) & 0xFF);
  out[1] = static_cast<char>((n >> 16) & 0xFF);
  out[2] = static_cast<char>((n >> 8) & 0xFF);
  out[3] = static_cast<char>(n & 0xFF);
  return out + std::string(event);
}

}  // namespace saguard::testing
