// StopFlag: how `customeriq serve` asks its parts to stop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace customeriq {

// Set once, by the signal thread or by a source that cannot go on; waited
// on by the others.
class StopFlag {
 public:
  // exit_code: what the process should exit with (the first request wins).
  void request(int exit_code = 0);
  bool requested() const { return requested_.load(); }
  int exit_code() const;
  // Sleeps up to timeout; true when stop was requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::atomic<bool> requested_{false};
  int exit_code_ = 0;
};

}  // namespace customeriq
