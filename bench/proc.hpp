// Child processes for the bench: start with fork+execve (environment, working
// directory, stdout/stderr to files, optionally a stdin pipe), wait with
// wait4 for the rusage (ru_maxrss = peak RSS), sample VmRSS while running,
// stop by PID. Children get PR_SET_PDEATHSIG so none outlives the bench.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace customeriq::bench {

struct ChildSpec {
  std::vector<std::string> argv;               // argv[0] is the program path
  std::map<std::string, std::string> env_set;  // added to (or replacing in) the bench's environment
  std::vector<std::string> env_unset;
  std::filesystem::path cwd;                   // empty: the bench's
  std::filesystem::path stdout_file, stderr_file;  // empty: /dev/null
  bool stdin_pipe = false;                     // else /dev/null
};

struct ChildExit {
  int status = 0;          // as from waitpid
  double wall_seconds = 0;  // start() to reaped
  struct rusage usage {};
  bool exited_ok() const;  // exited with code 0
  std::string describe() const;
  // ru_maxrss. Careful: Linux keeps the pre-exec RSS in it, i.e. the bench's
  // own RSS at fork time; Child::peak_rss_mib() (VmHWM) is the child's own.
  double ru_maxrss_mib() const { return static_cast<double>(usage.ru_maxrss) / 1024.0; }
  double cpu_seconds() const;
};

class Child {
 public:
  explicit Child(ChildSpec spec);
  ~Child();  // kills (SIGKILL) and reaps a child still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void start();
  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_fd_; }
  void close_stdin();

  // Sends sig to the child (only ours, by PID).
  void signal(int sig);
  // Non-blocking: the exit once reaped.
  std::optional<ChildExit> poll();
  // Blocks (up to timeout; then SIGKILL and reap).
  ChildExit wait(std::chrono::milliseconds timeout = std::chrono::hours(1));
  // SIGTERM, wait up to grace, then SIGKILL.
  ChildExit stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

  // VmRSS samples (MiB) taken every sample_every while running, and the
  // latest VmHWM (the peak RSS of the executed program since exec).
  void start_rss_sampling(std::chrono::milliseconds sample_every = std::chrono::milliseconds(100));
  std::vector<double> rss_samples() const;
  // Peak RSS of the program: the last VmHWM sampled (at most one sampling
  // interval old when it exited), else -1.
  double peak_rss_mib() const;

 private:
  ChildSpec spec_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::optional<ChildExit> exit_;
  std::thread sampler_;
  std::atomic<bool> sampling_{false};
  mutable std::mutex samples_mutex_;
  std::vector<double> samples_;
  double hwm_mib_ = -1;
  void stop_sampling();
};

// VmRSS (or another /proc/<pid>/status field such as "VmHWM") in MiB, or -1.
double vm_rss_mib(pid_t pid, const char* field = "VmRSS");

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

// True once something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

}  // namespace customeriq::bench
