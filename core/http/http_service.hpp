// HttpService: what `customeriq serve` runs for its HTTP API: the server,
// its routes, the read pools and the change feed, wired together.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "event_sink.hpp"
#include "http/http_config.hpp"
#include "metrics/metrics.hpp"

namespace customeriq::http {

struct Readiness;

struct HttpServiceOptions {
  HttpConfig config;
  std::filesystem::path database;  // exists and is migrated
  std::function<Readiness()> readiness;
  std::size_t max_event_bytes = 1 << 20;
};

class HttpService {
 public:
  HttpService(HttpServiceOptions options, EventSink& events, MetricsRegistry& metrics);
  ~HttpService();

  // Listens; throws std::runtime_error naming the address when it cannot.
  void start();
  // http://127.0.0.1:PORT, with the port actually bound.
  std::string url() const;
  // The database as the change feed last read it: nullopt when fine.
  std::optional<std::string> database_problem() const;
  // A commit happened: streams follow it now.
  void notify_commit();
  // Stops accepting, closes streams, answers requests in flight.
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace customeriq::http
