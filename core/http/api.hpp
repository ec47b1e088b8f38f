// Api: the routes of the HTTP server (docs/HTTP.md): health, metrics,
// profile reads, the context document, search, event intake and the change
// stream, and the MCP server's Streamable HTTP transport. Reads run on the read pool; intake goes through the same
// EventSink as NATS.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "event_sink.hpp"
#include "http/change_feed.hpp"
#include "http/http_message.hpp"
#include "http/read_pool.hpp"
#include "mcp/mcp_server.hpp"
#include "metrics/metrics.hpp"

namespace SQLite {
class Database;
}

namespace customeriq::http {

class ChangeStream;

struct Readiness {
  bool ready = false;
  Json checks = Json::object();  // {"database": "ok", "writer": "...", "nats": "disabled"}
};

struct ApiContext {
  ReadPool& reads;
  // Runs intake submits, which block while the writer's queue is full, and
  // the dead-letter lookups after them.
  ReadPool& intake;
  // Runs merges, unmerges and erasures, one at a time, each on a writing
  // connection of its own to `database`.
  ReadPool& lifecycle;
  std::filesystem::path database;
  EventSink& events;
  ChangeFeed& feed;
  MetricsRegistry& metrics;
  std::function<Readiness()> readiness;
  std::optional<std::string> token;  // Bearer token every route but /livez and /readyz needs
  std::size_t max_event_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout{10000};  // a longer read is stopped: 503
};

class Api {
 public:
  explicit Api(ApiContext context);

  // The server's handler: on the I/O thread, never blocks.
  void handle(Request& request, std::shared_ptr<Responder> responder);

  // The change feed took new changes: wake every stream.
  void feed_advanced();

 private:
  struct Route;
  void customers(Request& request, std::shared_ptr<Responder> responder);
  void customer(Request& request, std::shared_ptr<Responder> responder);
  void customer_part(Request& request, std::shared_ptr<Responder> responder);
  void context(Request& request, std::shared_ptr<Responder> responder);
  void search(Request& request, std::shared_ptr<Responder> responder);
  void intake(Request& request, std::shared_ptr<Responder> responder);
  void stream(Request& request, std::shared_ptr<Responder> responder);
  void mcp(Request& request, std::shared_ptr<Responder> responder);
  void merge(Request& request, std::shared_ptr<Responder> responder);
  void undo_merge(Request& request, std::shared_ptr<Responder> responder);
  void erase(Request& request, std::shared_ptr<Responder> responder);
  void erasure(Request& request, std::shared_ptr<Responder> responder);
  void audit(Request& request, std::shared_ptr<Responder> responder);
  void write(std::shared_ptr<Responder> responder, std::function<Json(SQLite::Database&)> work);
  void read(std::shared_ptr<Responder> responder, std::function<Response(StoreReader&)> work);
  bool authorized(const Request& request) const;

  ApiContext context_;
  mcp::McpServer mcp_server_;
  Histogram& request_seconds_;
  std::mutex streams_mutex_;
  std::vector<std::weak_ptr<ChangeStream>> streams_;
};

}  // namespace customeriq::http
