// The bench's child processes (the shared ChildProcess of
// tests/support/child_process.hpp): how they start, and their memory,
// sampled by PID while they run.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

namespace customeriq::bench {

using test::ChildProcess;
using test::Output;
using test::ProcessExit;
using test::ProcessOptions;

// stdout and stderr to the files (/dev/null where empty); in a process group
// of its own, so a ^C in the terminal reaches the bench only; SIGKILLed when
// the bench ends, so none outlives it.
ProcessOptions child_options(const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file);

// VmRSS samples (MiB) of a child, every `every`, and its VmHWM (the peak RSS
// of the program since its execve). Start it after the ChildProcess (whose
// constructor returns once the program runs), stop it once the child exited.
// Only a process that is still the bench's child is sampled: a PID reused
// after the child was reaped is not.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid, std::chrono::milliseconds every = std::chrono::milliseconds(100));
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  void stop();
  std::vector<double> samples() const;
  // The last VmHWM sampled (at most one interval old when the child
  // exited), else -1.
  double peak_mib() const;

 private:
  pid_t pid_;
  std::atomic<bool> sampling_{true};
  mutable std::mutex mutex_;
  std::vector<double> samples_;
  double hwm_mib_ = -1;
  std::thread thread_;
};

}  // namespace customeriq::bench
