#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace customeriq::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string error_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// An O_CLOEXEC copy of fd numbered 3 or above (so that no dup2 onto 0, 1 or
// 2 in the child overwrites it), the original closed.
int above_stdio(int fd, const std::string& what) {
  if (fd < 0) throw std::runtime_error(error_text(what));
  if (fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  if (moved < 0) throw std::runtime_error(error_text(what));
  return moved;
}

// The descriptors the child gets as 0, 1 and 2, opened before fork so that
// a file that cannot be opened is an error naming it, in the parent.
// Closed when the child has them (close_child_ends), or on an exception, as
// are the parent's own ends (kept) unless the child started.
class ChildFds {
 public:
  ChildFds() = default;
  ChildFds(const ChildFds&) = delete;
  ChildFds& operator=(const ChildFds&) = delete;
  ~ChildFds() {
    close_child_ends();
    for (int fd : kept_) ::close(fd);
  }
  int child_end(int fd) {
    child_ends_.push_back(fd);
    return fd;
  }
  int parent_end(int fd) {
    kept_.push_back(fd);
    return fd;
  }
  int open(const std::filesystem::path& path, int flags) {
    return child_end(above_stdio(::open(path.c_str(), flags | O_CLOEXEC, 0644), "cannot open " + path.string()));
  }
  int memory_file(const char* name) {
    return above_stdio(::memfd_create(name, MFD_CLOEXEC), std::string("memfd_create ") + name);
  }
  void close_child_ends() {
    for (int fd : child_ends_) ::close(fd);
    child_ends_.clear();
  }
  void started() { kept_.clear(); }

 private:
  std::vector<int> child_ends_, kept_;
};

// What the child reports through the status pipe when the program does not run.
struct StartFailure {
  int step = 0;  // 1: chdir, 2: execve
  int error = 0;
};

// In the child, between fork and execve: async-signal-safe calls only.
[[noreturn]] void fail_in_child(int status_fd, int step, int exit_code) {
  const StartFailure failure{step, errno};
  [[maybe_unused]] const ssize_t ignored = ::write(status_fd, &failure, sizeof failure);
  ::_exit(exit_code);
}

// In the child: the parent's signal handlers back to SIG_DFL, as execve
// would do (ignored signals stay ignored, as across execve).
void reset_signal_handlers() {
  for (int number = 1; number < NSIG; ++number) {
    struct sigaction current {};
    if (::sigaction(number, nullptr, &current) != 0) continue;
    const bool has_handler = (current.sa_flags & SA_SIGINFO) ? current.sa_sigaction != nullptr
                                                             : current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
    if (!has_handler) continue;
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(number, &fallback, nullptr);
  }
}

void become_stdio(int fd, int target) {
  // fd is never 0-2 (above_stdio), so dup2 always copies and clears FD_CLOEXEC.
  ::dup2(fd, target);
}

std::string read_all(int fd) {
  std::string text;
  char buffer[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    at += n;
  }
  return text;
}

}  // namespace

std::vector<std::string> child_environment(const ProcessOptions& options) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    const bool drop = options.env.count(name) > 0 ||
                      std::find(options.unset_env.begin(), options.unset_env.end(), name) != options.unset_env.end();
    if (!drop) environment.push_back(std::move(text));
  }
  for (const auto& [name, value] : options.env) environment.push_back(name + "=" + value);
  return environment;
}

std::string ProcessExit::describe() const {
  std::string text;
  if (WIFEXITED(status)) text = "exit " + std::to_string(WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) text = std::string("signal ") + strsignal(WTERMSIG(status));
  else text = "status " + std::to_string(status);
  if (!start_error.empty()) text += " (" + start_error + ")";
  return text;
}

double ProcessExit::cpu_seconds() const {
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

ChildProcess::ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
                           ProcessOptions options, const std::filesystem::path& output_prefix)
    : ChildProcess(program, args, [&] {
        options.out = Output::to_file(output_prefix.string() + ".out");
        options.err = Output::to_file(output_prefix.string() + ".err");
        return std::move(options);
      }()) {}

ChildProcess::ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
                           ProcessOptions options)
    : out_{options.out}, err_{options.err} {
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls until execve.
  std::vector<std::string> environment = child_environment(options);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const std::string program_path = program.string();
  std::vector<std::string> argv_strings{program_path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string directory = options.working_directory ? options.working_directory->string() : "";

  ChildFds fds;
  int stdin_read = -1;
  if (options.stdin_pipe) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error(error_text("pipe for stdin"));
    stdin_read = fds.child_end(above_stdio(ends[0], "pipe for stdin"));
    stdin_fd_ = fds.parent_end(above_stdio(ends[1], "pipe for stdin"));
  } else if (options.stdin_text) {
    stdin_read = fds.child_end(fds.memory_file("stdin"));
    const std::string& text = *options.stdin_text;
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(stdin_read, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(error_text("writing the child's stdin"));
      done += static_cast<std::size_t>(n);
    }
    ::lseek(stdin_read, 0, SEEK_SET);
  } else {
    stdin_read = fds.open("/dev/null", O_RDONLY);
  }
  auto output_fd = [&](Sink& sink, const char* name) {
    switch (sink.output.kind) {
      case Output::Kind::file: return fds.open(sink.output.path, O_WRONLY | O_CREAT | O_TRUNC);
      case Output::Kind::discard: return fds.open("/dev/null", O_WRONLY);
      case Output::Kind::memory: break;
    }
    sink.fd = fds.parent_end(fds.memory_file(name));  // out() and err() read it
    return sink.fd;
  };
  const int stdout_write = output_fd(out_, "stdout");
  const int stderr_write = output_fd(err_, "stderr");
  // Closed by a successful execve (O_CLOEXEC); a StartFailure otherwise.
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw std::runtime_error(error_text("pipe"));
  const int status_read = fds.parent_end(status_pipe[0]);
  const int status_write = fds.child_end(above_stdio(status_pipe[1], "pipe"));
  const pid_t parent = ::getpid();

  // No signal reaches the child before it resets the handlers it inherits
  // (a signal caught by the parent's handler in the forked copy would run
  // the parent's code there); the parent's mask is back right after fork.
  sigset_t all, parent_mask;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &parent_mask);
  started_ = Clock::now();
  pid_ = ::fork();
  if (pid_ != 0) ::pthread_sigmask(SIG_SETMASK, &parent_mask, nullptr);
  if (pid_ < 0) throw std::runtime_error(error_text("fork for " + program_path));
  if (pid_ == 0) {
    if (options.dies_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent is gone already
    }
    if (options.own_process_group) ::setpgid(0, 0);
    reset_signal_handlers();
    // A fresh signal mask: the parent (a test runner, say) may block signals.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    become_stdio(stdin_read, 0);
    become_stdio(stdout_write, 1);
    become_stdio(stderr_write, 2);
    if (!directory.empty() && ::chdir(directory.c_str()) != 0) fail_in_child(status_write, 1, 126);
    ::execve(argv[0], argv.data(), envp.data());
    fail_in_child(status_write, 2, 127);
  }
  fds.started();
  fds.close_child_ends();
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  StartFailure failure;
  ssize_t got;
  while ((got = ::read(status_read, &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(status_read);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    start_error_ = (failure.step == 1 ? "cannot change to directory " + directory : "cannot execute " + program_path) +
                   ": " + std::strerror(failure.error);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  close_stdin();
  for (const Sink* sink : {&out_, &err_})
    if (sink->fd >= 0) ::close(sink->fd);
}

void ChildProcess::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

void ChildProcess::signal(int signal_number) const {
  if (pid_ > 0 && !exit_) ::kill(pid_, signal_number);
}

bool ChildProcess::reap(bool block) {
  if (exit_) return true;
  ProcessExit result;
  pid_t got;
  while ((got = ::wait4(pid_, &result.status, block ? 0 : WNOHANG, &result.usage)) < 0 && errno == EINTR) {
  }
  if (got != pid_) return false;
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  result.code = WIFEXITED(result.status) ? WEXITSTATUS(result.status) : 128 + WTERMSIG(result.status);
  result.start_error = start_error_;
  exit_ = std::move(result);
  if (pidfd_ >= 0) {
    ::close(pidfd_);
    pidfd_ = -1;
  }
  return true;
}

// Returns once the child may have exited, or at the deadline.
void ChildProcess::wait_until_exit_or(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return;
  if (pidfd_ >= 0) {
    pollfd readable{pidfd_, POLLIN, 0};
    ::poll(&readable, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
  } else {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, std::chrono::milliseconds(2)));
  }
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!reap(false)) {
    if (Clock::now() >= deadline) return std::nullopt;
    wait_until_exit_or(deadline);
  }
  return exit_->code;
}

const ProcessExit& ChildProcess::wait() {
  reap(true);
  return *exit_;
}

const ProcessExit& ChildProcess::wait_or_kill(std::chrono::milliseconds timeout) {
  if (!wait_for(timeout)) {
    signal(SIGKILL);
    reap(true);
  }
  return *exit_;
}

const ProcessExit& ChildProcess::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  return wait_or_kill(grace);
}

std::string ChildProcess::read_sink(const Sink& sink) {
  switch (sink.output.kind) {
    case Output::Kind::memory: return read_all(sink.fd);
    case Output::Kind::file: {
      std::ifstream in(sink.output.path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      return text.str();
    }
    case Output::Kind::discard: break;
  }
  return {};
}

std::string ChildProcess::out() const { return read_sink(out_); }
std::string ChildProcess::err() const { return read_sink(err_); }

bool ChildProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout, int times) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::string log = err();
    int found = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + text.size())) ++found;
    if (found >= times) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          ProcessOptions options) {
  ChildProcess child(program, args, std::move(options));
  ProcessResult result;
  result.exit_code = child.wait().code;
  result.out = child.out();
  result.err = child.err();
  return result;
}

}  // namespace customeriq::test
