// ChangeStream: one client's GET /v1/stream. It keeps its own position in
// the change log, so a client gets every change after it exactly once, in
// commit order: from the feed's memory when it is close behind, from the
// store when it is further back, and `event: reset` when the log no longer
// holds what it asked for.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "http/change_feed.hpp"
#include "http/http_message.hpp"
#include "http/read_pool.hpp"

namespace customeriq::http {

class ChangeStream final : public EventStreamSource {
 public:
  // after_seq: the last change the client has (Last-Event-ID), or the
  // feed's latest for a new client.
  ChangeStream(ChangeFeed& feed, ReadPool& reads, std::int64_t after_seq, std::optional<std::string> customer_id);

  void next(std::size_t max_bytes, std::function<void(std::string text, bool end)> deliver) override;
  // The feed took new changes.
  void feed_advanced() const { wake(); }

 private:
  void read_store(std::size_t max_bytes, std::function<void(std::string, bool)> deliver);

  ChangeFeed& feed_;
  ReadPool& reads_;
  std::optional<std::string> customer_id_;
  std::mutex mutex_;
  std::int64_t after_seq_;
};

}  // namespace customeriq::http
