#include "events/sink.h"

#include "kube/resource.h"

namespace saguard::events {

ClientEventSink::ClientEventSink(kube::Client& client, std::chrono::milliseconds timeout)
    : client_(client), timeout_(timeout) {}

Status ClientEventSink::create(const Event& event) {
  kube::WriteOptions options;
  options.timeout = timeout_;
  auto created = client_.create(kube::resources::kEvents, event.namespace_, toJson(event), options);
  if (!created.ok()) return created.error();
  return Status::Ok();
}

Status ClientEventSink::patchSeries(std::string_view ns, std::string_view name,
                                    const Series& series) {
  kube::WriteOptions options;
  options.timeout = timeout_;
  auto patched = client_.patch(kube::resources::kEvents, ns, name, kube::PatchType::Merge,
                               seriesPatch(series), options);
  if (!patched.ok()) return patched.error();
  return Status::Ok();
}

}  // namespace saguard::events
