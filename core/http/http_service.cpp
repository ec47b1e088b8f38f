#include "http/http_service.hpp"

#include "http/api.hpp"
#include "http/change_feed.hpp"
#include "http/http_server.hpp"
#include "http/read_pool.hpp"

namespace customeriq::http {
namespace {

constexpr std::size_t kIntakeThreads = 2;
constexpr std::size_t kMaxQueuedLifecycleOperations = 64;

ServerOptions server_options(const HttpConfig& config, std::size_t max_event_bytes) {
  ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  // Intake's own limit answers 413 with its reason; the server's guards
  // every other route.
  options.max_body_bytes = std::max<std::size_t>(max_event_bytes, 1 << 20);
  options.write_timeout = config.write_timeout;
  options.stream_heartbeat = config.heartbeat;
  return options;
}

}  // namespace

struct HttpService::Parts {
  Parts(HttpServiceOptions options, EventSink& events, MetricsRegistry& metrics)
      : config(options.config),
        reads(options.database, config.read_threads),
        intake(options.database, kIntakeThreads),
        lifecycle(options.database, 1, kMaxQueuedLifecycleOperations),
        feed(options.database, ChangeFeed::Options{}),
        api(ApiContext{reads, intake, lifecycle, options.database, events, feed, metrics,
                       std::move(options.readiness), config.token, options.max_event_bytes,
                       config.read_timeout}),
        server(server_options(config, options.max_event_bytes),
               [this](Request& request, std::shared_ptr<Responder> responder) {
                 api.handle(request, std::move(responder));
               }) {
    feed.set_listener([this] { api.feed_advanced(); });
    metrics.gauge("customeriq_http_connections", "Open HTTP connections (streams included)",
                  [this] { return static_cast<double>(server.open_connections()); });
    metrics.gauge("customeriq_stream_clients", "Open /v1/stream clients",
                  [this] { return static_cast<double>(server.open_streams()); });
    metrics.gauge("customeriq_change_seq", "The newest change the stream has seen",
                  [this] { return static_cast<double>(feed.latest_seq()); });
    metrics.gauge("customeriq_http_read_queue_depth", "HTTP reads waiting for a database connection",
                  [this] { return static_cast<double>(reads.queued()); });
  }

  HttpConfig config;
  ReadPool reads;
  ReadPool intake;
  ReadPool lifecycle;  // merges, unmerges, erasures: one at a time, beside the writer
  ChangeFeed feed;
  Api api;
  HttpServer server;
};

HttpService::HttpService(HttpServiceOptions options, EventSink& events, MetricsRegistry& metrics)
    : parts_(std::make_unique<Parts>(std::move(options), events, metrics)) {}

HttpService::~HttpService() { stop(); }

void HttpService::start() { parts_->server.start(); }

std::string HttpService::url() const { return "http://" + parts_->config.authority(parts_->server.port()); }

std::optional<std::string> HttpService::database_problem() const { return parts_->feed.database_problem(); }

void HttpService::notify_commit() { parts_->feed.notify(); }

void HttpService::stop() {
  parts_->feed.set_listener(nullptr);
  parts_->server.stop();
}

}  // namespace customeriq::http
