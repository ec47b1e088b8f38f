#include "sources/stop_flag.hpp"

namespace customeriq {

void StopFlag::request(int exit_code) {
  std::lock_guard lock(mutex_);
  if (!requested_) {
    exit_code_ = exit_code;
    requested_ = true;
  }
  changed_.notify_all();
}

int StopFlag::exit_code() const {
  std::lock_guard lock(mutex_);
  return exit_code_;
}

bool StopFlag::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requested_.load(); });
}

}  // namespace customeriq
