#include "cache/decoding.h"

#include <simdjson.h>

#include <memory>

#include "cache/record_traits.h"
#include "codec/protobuf.h"

namespace saguard::cache {
namespace {

// A list page's padded copy is kept between pages; one this large is given back
// after use so a single huge list does not pin its size for the life of the watch.
constexpr std::size_t kRetainPageBytes = std::size_t{16} << 20;

// Reads a string field's value; false when it is not a string.
bool readString(simdjson::ondemand::value value, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text)) return false;
  out.assign(text.substr(0, 253));  // a name is at most 253 bytes; more is garbage, cut for the log
  return true;
}

}  // namespace

std::string peekObjectKey(codec::PaddedView line) {
  if (line.empty() || !line.padded()) return {};
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(line.data(), line.size(), line.capacity()).get(doc)) return {};
  simdjson::ondemand::object metadata;
  if (doc["object"]["metadata"].get_object().get(metadata)) return {};
  std::string ns;
  std::string name;
  for (auto field : metadata) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    simdjson::ondemand::value value;
    if (field.value().get(value)) break;
    if (key == "name") {
      if (!readString(value, name)) break;
    } else if (key == "namespace") {
      if (!readString(value, ns)) break;
    }
    if (!name.empty() && !ns.empty()) break;
  }
  if (name.empty()) return {};
  return objectKey(ns, name);
}

template <codec::Kind K>
Decoding<codec::RecordOf<K>> codecDecoding() {
  using R = codec::RecordOf<K>;
  // Shared by the three functions (std::function must be copyable); used by one
  // reflector thread at a time.
  struct State {
    codec::Decoder decoder;
    codec::ProtobufDecoder protobuf;
    std::string page;
  };
  auto state = std::make_shared<State>();
  Decoding<R> decoding;
  decoding.list = [state](std::string_view page, const codec::ListSink<R>& sink) -> Status {
    // listPages() hands over a view; the decoder wants padded bytes it may write
    // padding into, so the page is copied once into a buffer kept for the next page.
    state->page.clear();
    state->page.reserve(page.size() + codec::kPadding);
    state->page.append(page);
    auto meta = state->decoder.template list<K>(state->page, sink);
    if (state->page.capacity() > kRetainPageBytes) std::string().swap(state->page);
    if (!meta) return meta.error();
    return {};
  };
  decoding.event = [state](codec::PaddedView line) {
    return state->decoder.template watchEvent<K>(line);
  };
  decoding.describe = peekObjectKey;
  decoding.protobufEvent = [state](std::string_view frame) {
    return state->protobuf.template watchEvent<K>(frame);
  };
  decoding.describeProtobuf = codec::peekProtobufObjectKey;
  decoding.release = [state] {
    std::string().swap(state->page);
    state->decoder =
        codec::Decoder();  // a fresh parser: its buffers grow again only as events need
  };
  return decoding;
}

template Decoding<objects::Pod> codecDecoding<codec::Kind::Pod>();
template Decoding<objects::ServiceAccount> codecDecoding<codec::Kind::ServiceAccount>();
template Decoding<objects::Binding> codecDecoding<codec::Kind::RoleBinding>();
template Decoding<objects::Binding> codecDecoding<codec::Kind::ClusterRoleBinding>();
template Decoding<objects::Namespace> codecDecoding<codec::Kind::Namespace>();

}  // namespace saguard::cache
