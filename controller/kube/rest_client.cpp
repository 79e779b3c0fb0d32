#include "kube/rest_client.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "kube/cpprest_transport.h"

namespace saguard::kube {
namespace {

Error invalidCall(std::string message) {
  return makeError(ErrorKind::Invalid, std::move(message));
}

// Object calls need a name, and a namespace when the resource is namespaced.
Status checkObject(const char* verb, const Resource& resource, std::string_view ns,
                   std::string_view name) {
  if (name.empty())
    return invalidCall(std::string(verb) + " " + resource.plural + ": a name is required");
  if (resource.namespaced && ns.empty()) {
    return invalidCall(std::string(verb) + " " + resource.plural + " \"" + std::string(name) +
                       "\": a namespace is required");
  }
  return {};
}

std::string pathOf(const std::string& target) {
  return target.substr(0, target.find('?'));
}

void addWriteParams(Query& query, const WriteOptions& options) {
  if (!options.fieldManager.empty()) query.add("fieldManager", options.fieldManager);
  if (options.dryRun) query.add("dryRun", "All");
}

std::string describeCredentials(const RestConfig& config, const TokenSource& tokens) {
  std::string out = tokens.describe();
  if (!config.clientCertPem.empty()) {
    out = config.token.empty() && config.tokenFile.empty() ? "client certificate"
                                                           : out + " and client certificate";
  }
  return out + ", from " + config.source;
}

}  // namespace

RestClient::RestClient(const RestConfig& config, std::unique_ptr<Transport> transport,
                       ClientOptions options)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SteadyClock::instance()),
      sleeper_(options_.sleeper != nullptr ? *options_.sleeper : RealSleeper::instance()),
      observer_(options_.observer != nullptr ? *options_.observer : noopRequestObserver()),
      tokens_(config.token, config.tokenFile, clock_, options_.tokenRefreshInterval,
              options_.files) {
  if (!options_.random) options_.random = defaultRandomSource();
  credentials_ = describeCredentials(config, tokens_);
}

std::chrono::milliseconds RestClient::timeoutOr(std::chrono::milliseconds timeout) const {
  return timeout.count() > 0 ? timeout : options_.requestTimeout;
}

Result<std::string> RestClient::execute(HttpRequest request, const ChunkSink* sink,
                                        const std::stop_token& stop) {
  const std::string path = pathOf(request.target);
  const std::string& server = transport_->server();
  bool retriedAfter401 = false;
  int retries = 0;
  while (true) {
    auto token = tokens_.token();
    if (!token) return token.error();
    request.authorization = token->empty() ? std::string() : "Bearer " + *token;

    // The sink's own errors are told apart from transport errors: the answer was a 2xx.
    bool sinkFailed = false;
    ChunkSink tracked;
    if (sink != nullptr) {
      tracked = [&](std::string_view chunk) {
        Status st = (*sink)(chunk);
        if (!st) sinkFailed = true;
        return st;
      };
    }
    auto started = clock_.now();
    Result<HttpResponse> response = sink != nullptr ? transport_->stream(request, tracked, stop)
                                                    : transport_->send(request, stop);
    auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - started);

    RequestRecord record;
    record.method = request.method;
    record.duration = elapsed;
    if (response) {
      record.httpCode = response->code;
    } else if (sinkFailed) {
      record.httpCode = 200;
    } else {
      record.failure = response.kind();
    }
    observer_.onRequest(record);

    if (!response) {
      if (!sinkFailed) {
        spdlog::debug("{} {}{}: {}", request.method, server, path, response.error().describe());
      }
      return response.error();
    }
    // A watch stopped by its caller ends quietly, whenever the stop came.
    if (sink != nullptr && stop.stop_requested()) return std::string();
    const int code = response->code;
    spdlog::debug("{} {}{} -> {} ({} ms)", request.method, server, path, code,
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    if (code >= 200 && code < 300) return std::move(response->body);

    if (code == 401 && !retriedAfter401 && tokens_.refreshAfterUnauthorized(*token)) {
      retriedAfter401 = true;
      spdlog::info("{} {}{}: 401 with a token that has since rotated; retrying with the new one",
                   request.method, server, path);
      continue;
    }
    Error error = errorFromResponse(code, response->body, response->retryAfter, server, path);
    if (error.kind == ErrorKind::Unauthorized)
      error.message += " (credentials: " + credentials_ + ")";

    auto delay = retryDelay(options_.retry, retries, code, error.retryAfter, options_.random());
    if (!delay || stop.stop_requested()) return error;
    spdlog::info("{} {}{}: {}; retry {} of {} in {} ms", request.method, server, path,
                 error.describe(), retries + 1, options_.retry.maxRetries, delay->count());
    if (!sleeper_.sleepFor(*delay, stop)) return error;
    ++retries;
  }
}

Result<std::string> RestClient::get(const Resource& resource, std::string_view ns,
                                    std::string_view name, const GetOptions& options) {
  if (Status st = checkObject("get", resource, ns, name); !st) return st.error();
  Query query;
  if (!options.resourceVersion.empty()) query.add("resourceVersion", options.resourceVersion);
  HttpRequest request;
  request.method = "GET";
  request.target = resourcePath(resource, ns, name, options.subresource) + query.encode();
  request.timeout = timeoutOr(options.timeout);
  return execute(std::move(request), nullptr, {});
}

Result<std::string> RestClient::discover(std::string_view group, std::string_view version) {
  if (version.empty()) return invalidCall("discover: a version is required");
  HttpRequest request;
  request.method = "GET";
  request.target = groupVersionPath(group, version);
  request.timeout = timeoutOr({});
  return execute(std::move(request), nullptr, {});
}

Result<std::string> RestClient::list(const Resource& resource, std::string_view ns,
                                     const ListOptions& options, const CallOptions& call) {
  HttpRequest request;
  request.method = "GET";
  request.target = resourcePath(resource, ns) + listQuery(options).encode();
  request.timeout = timeoutOr(call.timeout);
  if (!call.accept.empty()) request.accept = call.accept;
  return execute(std::move(request), nullptr, {});
}

Status RestClient::watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                         const ChunkSink& onChunk, std::stop_token stop) {
  HttpRequest request;
  request.method = "GET";
  request.target = resourcePath(resource, ns) + watchQuery(options).encode();
  if (!options.accept.empty()) request.accept = options.accept;
  if (options.timeoutSeconds) {
    // Rounded up to a whole minute: reflectors jitter timeoutSeconds, and every distinct
    // timeout costs the transport a client (and a connection pool) of its own.
    auto idle = std::chrono::milliseconds(std::chrono::seconds(*options.timeoutSeconds)) +
                options_.watchTimeoutMargin;
    request.timeout = std::chrono::ceil<std::chrono::minutes>(idle);
  } else {
    request.timeout = options_.watchIdleTimeout;
  }
  auto result = execute(std::move(request), &onChunk, stop);
  if (!result) return result.error();
  return {};
}

Result<std::string> RestClient::write(const char* method, const Resource& resource,
                                      std::string_view ns, std::string_view name,
                                      std::string_view subresource, std::string body,
                                      std::string contentType, const WriteOptions& options,
                                      Query query) {
  addWriteParams(query, options);
  HttpRequest request;
  request.method = method;
  request.target = resourcePath(resource, ns, name, subresource) + query.encode();
  request.body = std::move(body);
  request.contentType = std::move(contentType);
  request.timeout = timeoutOr(options.timeout);
  if (!options.accept.empty()) request.accept = options.accept;
  return execute(std::move(request), nullptr, {});
}

Result<std::string> RestClient::create(const Resource& resource, std::string_view ns,
                                       std::string_view body, const WriteOptions& options) {
  if (!options.subresource.empty()) {
    return invalidCall("create " + resource.plural +
                       ": a subresource needs an object name (createSubresource)");
  }
  if (resource.namespaced && ns.empty()) {
    return invalidCall("create " + resource.plural + ": a namespace is required");
  }
  if (options.force)
    return invalidCall("create " + resource.plural + ": force applies to server-side apply only");
  return write("POST", resource, ns, {}, {}, std::string(body), "application/json", options, {});
}

Result<std::string> RestClient::createSubresource(const Resource& resource, std::string_view ns,
                                                  std::string_view name,
                                                  std::string_view subresource,
                                                  std::string_view body,
                                                  const WriteOptions& options) {
  if (Status st = checkObject("create", resource, ns, name); !st) return st.error();
  if (subresource.empty())
    return invalidCall("create " + resource.plural + ": no subresource given");
  return write("POST", resource, ns, name, subresource, std::string(body), "application/json",
               options, {});
}

Result<std::string> RestClient::update(const Resource& resource, std::string_view ns,
                                       std::string_view name, std::string_view body,
                                       const WriteOptions& options) {
  if (Status st = checkObject("update", resource, ns, name); !st) return st.error();
  if (options.force)
    return invalidCall("update " + resource.plural + ": force applies to server-side apply only");
  return write("PUT", resource, ns, name, options.subresource, std::string(body),
               "application/json", options, {});
}

Result<std::string> RestClient::updateStatus(const Resource& resource, std::string_view ns,
                                             std::string_view name, std::string_view body,
                                             const WriteOptions& options) {
  if (Status st = checkObject("update status of", resource, ns, name); !st) return st.error();
  return write("PUT", resource, ns, name, "status", std::string(body), "application/json", options,
               {});
}

Result<std::string> RestClient::patch(const Resource& resource, std::string_view ns,
                                      std::string_view name, PatchType type, std::string_view body,
                                      const WriteOptions& options) {
  if (Status st = checkObject("patch", resource, ns, name); !st) return st.error();
  Query query;
  if (type == PatchType::Apply) {
    if (options.fieldManager.empty()) {
      return invalidCall("apply " + resource.plural + ": server-side apply needs a fieldManager");
    }
    if (options.force) query.add("force", "true");
  } else if (options.force) {
    return invalidCall("patch " + resource.plural + ": force applies to server-side apply only");
  }
  return write("PATCH", resource, ns, name, options.subresource, std::string(body),
               contentType(type), options, std::move(query));
}

Result<std::string> RestClient::remove(const Resource& resource, std::string_view ns,
                                       std::string_view name, const DeleteOptions& options) {
  if (Status st = checkObject("delete", resource, ns, name); !st) return st.error();
  nlohmann::json body = nlohmann::json::object();
  if (!options.propagationPolicy.empty()) body["propagationPolicy"] = options.propagationPolicy;
  if (!options.preconditionResourceVersion.empty()) {
    body["preconditions"]["resourceVersion"] = options.preconditionResourceVersion;
  }
  if (!options.preconditionUid.empty()) body["preconditions"]["uid"] = options.preconditionUid;
  if (options.gracePeriodSeconds) body["gracePeriodSeconds"] = *options.gracePeriodSeconds;

  HttpRequest request;
  request.method = "DELETE";
  request.target = resourcePath(resource, ns, name);
  if (!body.empty()) {
    body["kind"] = "DeleteOptions";
    body["apiVersion"] = "v1";
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    request.contentType = "application/json";
  }
  request.timeout = timeoutOr(options.timeout);
  return execute(std::move(request), nullptr, {});
}

Result<std::unique_ptr<Client>> makeRestClient(const RestConfig& config, ClientOptions options) {
  TransportConfig tc;
  tc.server = config.server;
  tc.caPem = config.caPem;
  tc.insecureSkipTlsVerify = config.insecureSkipTlsVerify;
  tc.clientCertPem = config.clientCertPem;
  tc.clientKeyPem = config.clientKeyPem;
  tc.userAgent = options.userAgent;
  auto transport = CpprestTransport::create(tc);
  if (!transport) {
    Error error = transport.error();
    error.message = config.source + ": " + error.message;
    return error;
  }
  return std::unique_ptr<Client>(
      std::make_unique<RestClient>(config, std::move(*transport), std::move(options)));
}

}  // namespace saguard::kube
