// Where the recorder writes Events: an EventSink creates an Event and bumps the
// series of one it created before. The recorder's logic (series, spam filter, retries)
// is tested with a fake sink; ClientEventSink is the real one, over the kube Client.
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"
#include "events/event.h"
#include "kube/client.h"

namespace saguard::events {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Creates `event` in event.namespace_. AlreadyExists when its name is taken; NotFound
  // when the namespace does not exist; other kinds as the API answers (kube/client.h).
  virtual Status create(const Event& event) = 0;

  // Sets the series of the Event `ns`/`name` (nothing else of it changes). NotFound
  // when the Event is gone (Events expire, an hour after their last update by default).
  virtual Status patchSeries(std::string_view ns, std::string_view name, const Series& series) = 0;
};

// Writes to events.k8s.io/v1 through a kube::Client: create is a POST of toJson(event),
// patchSeries a JSON merge patch (seriesPatch()). Thread-safe as the Client is.
class ClientEventSink final : public EventSink {
 public:
  // `client` must outlive the sink. `timeout` bounds each request (0 = the client's default).
  explicit ClientEventSink(kube::Client& client,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

  Status create(const Event& event) override;
  Status patchSeries(std::string_view ns, std::string_view name, const Series& series) override;

 private:
  kube::Client& client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace saguard::events
