// Child processes, for the tests and the bench alike: fork + execve with
// arguments, environment changes, a working directory, stdin from text or a
// pipe, stdout and stderr to files or to memory; waiting with a timeout,
// signals and kills only by PID. Linux only (memfd, pidfd, prctl).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace customeriq::test {

// Where the child's stdout or stderr goes.
struct Output {
  enum class Kind { memory, file, discard };
  Kind kind = Kind::memory;
  std::filesystem::path path;  // Kind::file: created, or truncated

  static Output to_memory() { return {}; }
  static Output to_file(std::filesystem::path path) { return {Kind::file, std::move(path)}; }
  static Output discarded() { return {Kind::discard, {}}; }
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // set on top of the parent's environment
  std::vector<std::string> unset_env;      // removed from the child's environment
  std::optional<std::filesystem::path> working_directory;
  std::optional<std::string> stdin_text;   // else /dev/null (or the pipe below)
  bool stdin_pipe = false;                 // ChildProcess::stdin_fd() writes to the child's stdin
  Output out, err;
  // Its own process group: a ^C in the terminal reaches the parent only.
  bool own_process_group = false;
  // SIGKILL for the child when the thread that started it ends (PR_SET_PDEATHSIG).
  bool dies_with_parent = false;
};

// The parent's environment with options.env set and options.unset_env
// removed, as NAME=value strings for execve.
std::vector<std::string> child_environment(const ProcessOptions& options);

struct ProcessExit {
  int status = 0;           // as waitpid reports it
  int code = -1;            // the exit code; 128 + the signal number when a signal ended it
  double wall_seconds = 0;  // started to reaped
  struct rusage usage {};   // the child's own, from wait4
  std::string start_error;  // why the program never ran (chdir or execve failed), else empty

  bool ok() const { return code == 0; }
  // "exit 3" or "signal Killed", and the start error if there is one.
  std::string describe() const;
  double cpu_seconds() const;  // user + system
  // Careful: Linux keeps the pre-exec RSS in ru_maxrss, i.e. the parent's own
  // at fork time, when the program used less.
  double ru_maxrss_mib() const { return static_cast<double>(usage.ru_maxrss) / 1024.0; }
};

// A program started in the background. The constructor returns once the
// child runs the program (or failed to), so nothing sampled by PID after it
// sees the forked copy of the parent. The destructor kills the child
// (SIGKILL, by its PID) and reaps it if it is still running.
class ChildProcess {
 public:
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
               ProcessOptions options = {});
  // stdout to <output_prefix>.out, stderr to <output_prefix>.err.
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
               ProcessOptions options, const std::filesystem::path& output_prefix);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // With options.stdin_pipe: the write end of the child's stdin, until close_stdin().
  int stdin_fd() const { return stdin_fd_; }
  void close_stdin();

  // Sends the signal to the child, by its PID, unless it was reaped already.
  void signal(int signal_number) const;

  // The exit code (128 + signal when killed), or nullopt if still running at the timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  bool running() { return !wait_for(std::chrono::milliseconds(0)).has_value(); }
  // Blocks until it exits.
  const ProcessExit& wait();
  // Blocks up to the timeout, then SIGKILL.
  const ProcessExit& wait_or_kill(std::chrono::milliseconds timeout);
  // SIGTERM, up to grace to exit, then SIGKILL.
  const ProcessExit& stop(std::chrono::milliseconds grace);
  // Once reaped.
  const std::optional<ProcessExit>& exit() const { return exit_; }

  // What it wrote so far (Output::memory or Output::file; empty when discarded).
  std::string out() const;
  std::string err() const;
  // Polls stderr until it contains text at least `times` times.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout, int times = 1);

 private:
  struct Sink {
    Output output;
    int fd = -1;  // the memory file, for Output::memory
  };
  bool reap(bool block);
  void wait_until_exit_or(std::chrono::steady_clock::time_point deadline);
  static std::string read_sink(const Sink& sink);

  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable once the child exits; -1 where the kernel has no pidfd_open
  int stdin_fd_ = -1;
  Sink out_, err_;
  std::string start_error_;
  std::chrono::steady_clock::time_point started_;
  std::optional<ProcessExit> exit_;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs program with args to the end (stdout and stderr in memory unless
// options say otherwise) and returns its exit code and output.
ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          ProcessOptions options = {});

}  // namespace customeriq::test
