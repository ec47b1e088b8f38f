// ChangeFeed: the change log (store table `changes`) as Server-Sent Events
// frames. One thread follows the log (woken after each commit, and once a
// second for writes by other processes) and keeps the newest frames in
// memory, shared by every stream; a stream further behind reads the store.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/store_reader.hpp"

namespace customeriq::http {

// id: SEQ / event: KIND / data: {seq, customer_id, kind, committed_at, row}
std::string change_frame(const Change& change);

class ChangeFeed {
 public:
  struct Options {
    std::size_t memory_frames = 20000;
    std::size_t memory_bytes = 32 << 20;
    std::chrono::milliseconds poll_interval{1000};
  };

  // Opens its own reader on the database; the feed starts at its newest change.
  ChangeFeed(const std::filesystem::path& database, Options options);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Something committed: follow the log now. Any thread, never blocks.
  void notify();
  // Called on the feed's thread after it took new changes.
  void set_listener(std::function<void()> listener);

  std::int64_t latest_seq() const;

  struct Frames {
    std::string text;          // whole frames
    std::int64_t through_seq;  // every change up to it has been looked at
  };
  // The frames after `after_seq` (of one customer, or all) from memory, up
  // to about max_bytes; nullopt when memory no longer reaches back to it.
  std::optional<Frames> read(std::int64_t after_seq, const std::optional<std::string>& customer_id,
                             std::size_t max_bytes) const;

  // The database as the feed last saw it: nullopt when fine, else why not.
  std::optional<std::string> database_problem() const;

 private:
  struct Entry {
    std::int64_t seq;
    std::string customer_id;
    std::shared_ptr<const std::string> frame;
  };
  void run();
  void follow();

  StoreReader reader_;
  Options options_;
  std::function<void()> listener_;

  mutable std::mutex mutex_;
  std::deque<Entry> entries_;
  std::size_t entry_bytes_ = 0;
  std::int64_t memory_starts_after_ = 0;  // entries_ hold every change after it
  std::int64_t latest_ = 0;
  std::optional<std::string> database_problem_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool notified_ = false, stopping_ = false;
  std::thread thread_;
};

}  // namespace customeriq::http
