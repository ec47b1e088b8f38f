// ReadPool: a few threads, each with its own read-only StoreReader, that
// run the HTTP server's database reads off its I/O thread and off the
// writer. Work beyond the queue's bound is refused (503), not queued
// without end.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace customeriq {
class StoreReader;
}

namespace customeriq::http {

class ReadPool {
 public:
  using Task = std::function<void(StoreReader&)>;

  // Opens `threads` readers (throws what StoreReader throws).
  ReadPool(const std::filesystem::path& database, std::size_t threads, std::size_t max_queued = 4096);
  ~ReadPool();  // runs what is queued, then joins
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // False when the queue is full or the pool is stopping: the caller answers 503.
  bool submit(Task task);
  std::size_t queued() const;

 private:
  void run(StoreReader& reader);

  std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace customeriq::http
