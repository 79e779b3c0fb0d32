#include "codec/decoder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "codec/detail/ondemand.h"

namespace saguard::codec {

static_assert(kPadding >= simdjson::SIMDJSON_PADDING,
              "codec::kPadding must cover simdjson's padding");

const char* toString(Kind kind) {
  switch (kind) {
    case Kind::Pod:
      return "Pod";
    case Kind::ServiceAccount:
      return "ServiceAccount";
    case Kind::RoleBinding:
      return "RoleBinding";
    case Kind::ClusterRoleBinding:
      return "ClusterRoleBinding";
    case Kind::Namespace:
      return "Namespace";
  }
  return "Unknown";
}

const char* toString(EventType type) {
  switch (type) {
    case EventType::Added:
      return "ADDED";
    case EventType::Modified:
      return "MODIFIED";
    case EventType::Deleted:
      return "DELETED";
    case EventType::Bookmark:
      return "BOOKMARK";
    case EventType::Error:
      return "ERROR";
  }
  return "UNKNOWN";
}

namespace {

using detail::Ctx;
namespace od = detail::od;

const char* listKind(Kind kind) {
  switch (kind) {
    case Kind::Pod:
      return "PodList";
    case Kind::ServiceAccount:
      return "ServiceAccountList";
    case Kind::RoleBinding:
      return "RoleBindingList";
    case Kind::ClusterRoleBinding:
      return "ClusterRoleBindingList";
    case Kind::Namespace:
      return "NamespaceList";
  }
  return "List";
}

std::optional<EventType> parseEventType(std::string_view text) {
  if (text == "ADDED") return EventType::Added;
  if (text == "MODIFIED") return EventType::Modified;
  if (text == "DELETED") return EventType::Deleted;
  if (text == "BOOKMARK") return EventType::Bookmark;
  if (text == "ERROR") return EventType::Error;
  return std::nullopt;
}

// What a decode is about, for error messages: "PodList", "Pod" + " watch event".
struct Subject {
  const char* kind;
  const char* suffix;
};

// Appends kPadding bytes to a caller's string for the duration of a decode, and
// takes them off again however the decode ends.
class PadInPlace {
 public:
  explicit PadInPlace(std::string& text) : text_(text), size_(text.size()) {
    text_.append(kPadding, ' ');
  }
  ~PadInPlace() { text_.resize(size_); }
  PadInPlace(const PadInPlace&) = delete;
  PadInPlace& operator=(const PadInPlace&) = delete;
  PaddedView view() const { return PaddedView(text_.data(), size_, text_.size()); }

 private:
  std::string& text_;
  std::size_t size_;
};

}  // namespace

struct Decoder::Impl {
  explicit Impl(Options o) : options(o) {}

  Options options;
  od::parser parser;
  detail::SymbolMemo memo;
  std::unique_ptr<char[]> scratch;  // padded copies of unpadded input
  std::size_t scratchCapacity = 0;

  PaddedView copyPadded(std::string_view json) {
    const std::size_t need = json.size() + kPadding;
    if (need > scratchCapacity ||
        (scratchCapacity > options.retainBytes && need < scratchCapacity / 4)) {
      scratch = std::make_unique<char[]>(need);
      scratchCapacity = need;
    }
    if (!json.empty()) std::memcpy(scratch.get(), json.data(), json.size());
    // Whitespace, not what an earlier, longer document left there (see padded.h).
    std::memset(scratch.get() + json.size(), ' ', kPadding);
    return PaddedView(scratch.get(), json.size(), scratchCapacity);
  }

  // Grows the parser ahead of the document, in powers of two up to retainBytes: watch
  // lines of slowly growing sizes would otherwise reallocate it on every new maximum.
  simdjson::error_code reserve(std::size_t size) {
    if (parser.capacity() >= size) return simdjson::SUCCESS;
    constexpr std::size_t kMinCapacity = std::size_t{64} * 1024;
    std::size_t want = std::max(size, kMinCapacity);
    if (want < options.retainBytes) want = std::min(std::bit_ceil(want), options.retainBytes);
    // Never more than simdjson accepts, never less than the document (which then fails
    // with simdjson's CAPACITY error if it is too big).
    want = std::max(size, std::min(want, parser.max_capacity()));
    return parser.allocate(want);
  }

  // After a document: a parser grown for a huge one gives its buffers back.
  void trim() {
    if (parser.capacity() > options.retainBytes) parser = od::parser{};
    if (scratchCapacity > options.retainBytes) {
      scratch.reset();
      scratchCapacity = 0;
    }
  }

  // Parses `json` as one JSON object and runs body(document, root object, ctx). The
  // whole document must be consumed: anything after the object is an error. Errors
  // come back as Invalid, prefixed with what was decoded: "decoding PodList: items[3]...".
  template <typename Body>
  Status run(PaddedView json, const Subject& subject, Body&& body) {
    Status status = runUnchecked(json, subject, std::forward<Body>(body));
    trim();
    return status;
  }

  template <typename Body>
  Status runUnchecked(PaddedView json, const Subject& subject, Body&& body) {
    // Built only on failure: the success path of a watch event allocates no message.
    auto context = [&] { return std::string("decoding ") + subject.kind + subject.suffix; };
    if (json.size() == 0) return makeError(ErrorKind::Invalid, context() + ": empty document");
    if (!json.padded()) {
      return makeError(ErrorKind::Internal, context() + ": input lacks the " +
                                                std::to_string(kPadding) +
                                                " bytes of padding simdjson reads past its end");
    }
    try {
      if (auto error = reserve(json.size())) {
        const ErrorKind kind =
            error == simdjson::MEMALLOC ? ErrorKind::Internal : ErrorKind::Invalid;
        return makeError(kind, context() + ": " + simdjson::error_message(error));
      }
      od::document doc;
      if (auto error = parser.iterate(json.data(), json.size(), json.capacity()).get(doc)) {
        const ErrorKind kind =
            error == simdjson::MEMALLOC ? ErrorKind::Internal : ErrorKind::Invalid;
        return makeError(kind, context() + ": " + simdjson::error_message(error));
      }
      Ctx c(json.data() + json.size(), memo);
      od::object root;
      if (auto error = doc.get_object().get(root)) {
        c.failJson(error, "a JSON object");
        return makeError(ErrorKind::Invalid, context() + ": " + c.message());
      }
      if (!body(doc, root, c)) return makeError(ErrorKind::Invalid, context() + ": " + c.message());
      const char* trailing = nullptr;
      auto where = doc.current_location().get(trailing);
      if (where != simdjson::OUT_OF_BOUNDS) {
        return makeError(ErrorKind::Invalid,
                         context() + ": unexpected content after the JSON object");
      }
      return Status::Ok();
    } catch (const std::bad_alloc&) {
      return makeError(ErrorKind::Internal, context() + ": out of memory");
    } catch (const std::exception& e) {
      // Only a caller's callback can throw here; simdjson is used without exceptions.
      return makeError(ErrorKind::Internal, context() + ": " + e.what());
    } catch (...) {
      return makeError(ErrorKind::Internal, context() + ": unknown exception");
    }
  }

  template <Kind K>
  Result<ListMeta> list(PaddedView json, const ListSink<RecordOf<K>>& sink) {
    ListMeta meta;
    Status status =
        run(json, Subject{listKind(K), ""}, [&](od::document&, od::object& root, Ctx& c) {
          bool seenMetadata = false;
          bool seenItems = false;
          return detail::forEachField(root, c, [&](std::string_view key, od::value& value) {
            if (key == "kind") return detail::checkKind(value, listKind(K), "List", c);
            // A repeated "items" would deliver a second run of items (indexes from 0 again),
            // a repeated "metadata" a second resourceVersion: neither comes from an API server.
            if (key == "metadata") {
              if (std::exchange(seenMetadata, true)) return c.fail("repeated key \"metadata\"");
              return readListMeta(value, meta, c);
            }
            if (key == "items") {
              if (std::exchange(seenItems, true)) return c.fail("repeated key \"items\"");
              return readItems<K>(value, meta, sink, c);
            }
            return true;
          });
        });
    if (!status.ok()) return status.error();
    return meta;
  }

  static bool readListMeta(od::value& value, ListMeta& meta, Ctx& c) {
    od::object object;
    bool present = false;
    if (!detail::readObject(value, object, present, c)) return false;
    if (!present) return true;
    return detail::forEachField(object, c, [&](std::string_view key, od::value& v) {
      std::string_view text;
      if (key == "resourceVersion") {
        if (!detail::readString(v, text, c)) return false;
        meta.resourceVersion.assign(text);
      } else if (key == "continue") {
        if (!detail::readString(v, text, c)) return false;
        meta.continueToken.assign(text);
      } else if (key == "remainingItemCount") {
        std::int64_t count = 0;
        bool has = false;
        if (!detail::readInt(v, count, has, c)) return false;
        if (has) meta.remainingItemCount = count;
      }
      return true;
    });
  }

  // Items one at a time as the iterator reaches them; an item that fails item-level
  // is reported and skipped, a fatal failure ends the list.
  template <Kind K>
  static bool readItems(od::value& value, ListMeta& meta, const ListSink<RecordOf<K>>& sink,
                        Ctx& c) {
    od::array items;
    bool present = false;
    if (!detail::readArray(value, items, present, c)) return false;
    if (!present) return true;
    std::size_t index = 0;
    for (auto result : items) {
      od::value item;
      // get() is rvalue-qualified, whatever the type.
      if (auto error = std::move(result).get(item)) {  // NOLINT(performance-move-const-arg)
        c.failJson(error, "array element");
        return c.at(index);
      }
      RecordOf<K> record;
      od::object object;
      if (detail::openItem(item, object, c) && detail::project<K>(object, record, c)) {
        ++meta.itemCount;
        sink.onItem(std::move(record));
      } else if (c.fatal()) {
        return c.at(index);
      } else {
        c.at(index);
        c.in("items");
        SkippedItem skipped{.index = index,
                            .namespace_ = record.meta.namespace_.str(),
                            .name = std::string(record.meta.name()),
                            .error = makeError(ErrorKind::Invalid, c.message())};
        c.clear();
        ++meta.skippedCount;
        if (sink.onSkipped) sink.onSkipped(std::move(skipped));
      }
      ++index;
    }
    return true;
  }

  template <Kind K>
  Result<WatchEvent<RecordOf<K>>> watchEvent(PaddedView line) {
    WatchEvent<RecordOf<K>> event;
    Status status =
        run(line, Subject{toString(K), " watch event"},
            [&](od::document& doc, od::object& root, Ctx& c) {
              bool seenType = false;
              bool haveType = false;
              bool haveObject = false;
              bool deferred = false;
              auto readObjectField = [&](od::value& value) {
                od::object object;
                if (!detail::openItem(value, object, c)) return false;
                switch (event.type) {
                  case EventType::Added:
                  case EventType::Modified:
                  case EventType::Deleted:
                    if (!detail::project<K>(object, event.object, c)) return false;
                    event.resourceVersion = event.object.meta.resourceVersion();
                    return true;
                  case EventType::Bookmark:
                    return detail::projectBookmark(object, event.resourceVersion,
                                                   event.initialEventsEnd, c);
                  case EventType::Error:
                    event.error.emplace();
                    return detail::projectStatus(object, *event.error, c);
                }
                return true;
              };
              const bool ok =
                  detail::forEachField(root, c, [&](std::string_view key, od::value& value) {
                    // A repeated "type" or "object" would let the object be read under one type
                    // and the event report another.
                    if ((key == "type" && seenType) || (key == "object" && haveObject))
                      return c.fail("repeated key");
                    if (key == "type") {
                      seenType = true;
                      std::string_view text;
                      if (!detail::readString(value, text, c)) return false;
                      if (text.empty()) return true;  // reported as missing below
                      auto type = parseEventType(text);
                      if (!type)
                        return c.fail("unknown watch event type \"" +
                                      std::string(text.substr(0, 64)) + "\"");
                      event.type = *type;
                      haveType = true;
                      return true;
                    }
                    if (key == "object") {
                      haveObject = true;
                      // The API server writes "type" first; any other producer costs a second pass.
                      if (!haveType) {
                        deferred = true;
                        return true;
                      }
                      return readObjectField(value);
                    }
                    return true;
                  });
              if (!ok) return false;
              if (!haveType) return c.missing({"type"});
              if (!haveObject) return c.missing({"object"});
              if (!deferred) return true;
              doc.rewind();
              od::object again;
              if (auto error = doc.get_object().get(again))
                return c.failJson(error, "a JSON object");
              return detail::forEachField(again, c, [&](std::string_view key, od::value& value) {
                return key == "object" ? readObjectField(value) : true;
              });
            });
    if (!status.ok()) return status.error();
    return event;
  }

  Result<ListMeta> auditEventList(PaddedView json, const AuditSink& sink) {
    ListMeta meta;
    Status status =
        run(json, Subject{"EventList", ""}, [&](od::document&, od::object& root, Ctx& c) {
          bool seenItems = false;
          return detail::forEachField(root, c, [&](std::string_view key, od::value& value) {
            if (key == "kind") return detail::checkKind(value, "EventList", {}, c);
            if (key != "items") return true;
            if (std::exchange(seenItems, true)) return c.fail("repeated key \"items\"");
            return readAuditItems(value, meta, sink, c);
          });
        });
    if (!status.ok()) return status.error();
    return meta;
  }

  static bool readAuditItems(od::value& value, ListMeta& meta, const AuditSink& sink, Ctx& c) {
    od::array items;
    bool present = false;
    if (!detail::readArray(value, items, present, c)) return false;
    if (!present) return true;
    std::size_t index = 0;
    for (auto result : items) {
      od::value item;
      if (auto error = std::move(result).get(item)) {  // NOLINT(performance-move-const-arg)
        c.failJson(error, "array element");
        return c.at(index);
      }
      objects::AuditEventView event;
      od::object object;
      if (detail::openItem(item, object, c) && detail::projectAuditEvent(object, event, c)) {
        ++meta.itemCount;
        sink.onEvent(event);
      } else if (c.fatal()) {
        return c.at(index);
      } else {
        c.at(index);
        c.in("items");
        SkippedItem skipped{.index = index,
                            .namespace_ = {},
                            .name = std::string(event.auditId),
                            .error = makeError(ErrorKind::Invalid, c.message())};
        c.clear();
        ++meta.skippedCount;
        if (sink.onSkipped) sink.onSkipped(std::move(skipped));
      }
      ++index;
    }
    return true;
  }

  Status auditEvent(PaddedView line,
                    const std::function<void(const objects::AuditEventView&)>& onEvent) {
    objects::AuditEventView event;
    Status status =
        runUnchecked(line, Subject{"Event", ""}, [&](od::document&, od::object& root, Ctx& c) {
          return detail::projectAuditEvent(root, event, c);
        });
    // Handed over once the whole line was checked (nothing trails the object), and
    // before trim() may release the buffers the views point into.
    if (status.ok()) onEvent(event);
    trim();
    return status;
  }

  template <Kind K>
  Result<RecordOf<K>> object(PaddedView json) {
    RecordOf<K> record;
    Status status =
        run(json, Subject{toString(K), ""}, [&](od::document&, od::object& root, Ctx& c) {
          return detail::project<K>(root, record, c);
        });
    if (!status.ok()) return status.error();
    return record;
  }
};

Decoder::Decoder() : Decoder(Options{}) {}
Decoder::Decoder(Options options) : impl_(std::make_unique<Impl>(options)) {}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

namespace {

// Padding a caller's string or copying unpadded input can run out of memory before
// the decode proper starts; that too comes back as an Error, not an exception.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return makeError(ErrorKind::Internal, "decoding: out of memory");
  }
}

}  // namespace

Result<ListMeta> Decoder::auditEventList(PaddedView json, const AuditSink& sink) {
  return impl_->auditEventList(json, sink);
}

Result<ListMeta> Decoder::auditEventList(std::string& json, const AuditSink& sink) {
  return guarded([&]() -> Result<ListMeta> {
    PadInPlace padded(json);
    return impl_->auditEventList(padded.view(), sink);
  });
}

Status Decoder::auditEvent(PaddedView line,
                           const std::function<void(const objects::AuditEventView&)>& onEvent) {
  return impl_->auditEvent(line, onEvent);
}

template <Kind K>
Result<ListMeta> Decoder::list(PaddedView json, const ListSink<RecordOf<K>>& sink) {
  return impl_->list<K>(json, sink);
}

template <Kind K>
Result<ListMeta> Decoder::list(std::string& json, const ListSink<RecordOf<K>>& sink) {
  return guarded([&]() -> Result<ListMeta> {
    PadInPlace padded(json);
    return impl_->list<K>(padded.view(), sink);
  });
}

template <Kind K>
Result<ListPage<RecordOf<K>>> Decoder::list(PaddedView json) {
  ListPage<RecordOf<K>> page;
  ListSink<RecordOf<K>> sink{
      .onItem = [&](RecordOf<K>&& item) { page.items.push_back(std::move(item)); },
      .onSkipped = [&](SkippedItem&& skipped) { page.skipped.push_back(std::move(skipped)); },
  };
  auto meta = impl_->list<K>(json, sink);
  if (!meta.ok()) return meta.error();
  page.meta = std::move(*meta);
  return page;
}

template <Kind K>
Result<ListPage<RecordOf<K>>> Decoder::list(std::string& json) {
  return guarded([&]() -> Result<ListPage<RecordOf<K>>> {
    PadInPlace padded(json);
    return list<K>(padded.view());
  });
}

template <Kind K>
Result<ListPage<RecordOf<K>>> Decoder::list(std::string_view json) {
  return guarded(
      [&]() -> Result<ListPage<RecordOf<K>>> { return list<K>(impl_->copyPadded(json)); });
}

template <Kind K>
Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent(PaddedView line) {
  return impl_->watchEvent<K>(line);
}

template <Kind K>
Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent(std::string_view line) {
  return guarded([&]() -> Result<WatchEvent<RecordOf<K>>> {
    return impl_->watchEvent<K>(impl_->copyPadded(line));
  });
}

template <Kind K>
Result<RecordOf<K>> Decoder::object(PaddedView json) {
  return impl_->object<K>(json);
}

template <Kind K>
Result<RecordOf<K>> Decoder::object(std::string& json) {
  return guarded([&]() -> Result<RecordOf<K>> {
    PadInPlace padded(json);
    return impl_->object<K>(padded.view());
  });
}

template <Kind K>
Result<RecordOf<K>> Decoder::object(std::string_view json) {
  return guarded(
      [&]() -> Result<RecordOf<K>> { return impl_->object<K>(impl_->copyPadded(json)); });
}

// K is a template argument; it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SAGUARD_CODEC_INSTANTIATE(K)                                                      \
  template Result<ListPage<RecordOf<K>>> Decoder::list<K>(PaddedView);                    \
  template Result<ListPage<RecordOf<K>>> Decoder::list<K>(std::string&);                  \
  template Result<ListPage<RecordOf<K>>> Decoder::list<K>(std::string_view);              \
  template Result<ListMeta> Decoder::list<K>(PaddedView, const ListSink<RecordOf<K>>&);   \
  template Result<ListMeta> Decoder::list<K>(std::string&, const ListSink<RecordOf<K>>&); \
  template Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent<K>(PaddedView);            \
  template Result<WatchEvent<RecordOf<K>>> Decoder::watchEvent<K>(std::string_view);      \
  template Result<RecordOf<K>> Decoder::object<K>(PaddedView);                            \
  template Result<RecordOf<K>> Decoder::object<K>(std::string&);                          \
  template Result<RecordOf<K>> Decoder::object<K>(std::string_view);
SAGUARD_CODEC_INSTANTIATE(Kind::Pod)
SAGUARD_CODEC_INSTANTIATE(Kind::ServiceAccount)
SAGUARD_CODEC_INSTANTIATE(Kind::RoleBinding)
SAGUARD_CODEC_INSTANTIATE(Kind::ClusterRoleBinding)
SAGUARD_CODEC_INSTANTIATE(Kind::Namespace)
#undef SAGUARD_CODEC_INSTANTIATE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace saguard::codec
