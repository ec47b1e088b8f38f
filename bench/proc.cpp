#include "proc.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace customeriq::bench {

bool ChildExit::exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ChildExit::describe() const {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

double ChildExit::cpu_seconds() const {
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

Child::Child(ChildSpec spec) : spec_(std::move(spec)) {}

Child::~Child() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  stop_sampling();
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
}

void Child::start() {
  if (spec_.argv.empty()) throw std::invalid_argument("Child: empty argv");
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& name : spec_.env_unset) env.erase(name);
  for (const auto& [k, v] : spec_.env_set) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec_.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = spec_.stdout_file.empty() ? "/dev/null" : spec_.stdout_file.string();
  const std::string err = spec_.stderr_file.empty() ? "/dev/null" : spec_.stderr_file.string();
  const std::string cwd = spec_.cwd.string();

  int pipe_fds[2] = {-1, -1};
  if (spec_.stdin_pipe && ::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  // Closed by the child's execve (O_CLOEXEC): start() returns only once the
  // child runs the new program, so no RSS sample sees the forked copy of
  // the bench.
  int exec_fds[2] = {-1, -1};
  if (::pipe2(exec_fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();

  started_ = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);  // its own group: a terminal ^C reaches the bench only
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    int in = spec_.stdin_pipe ? pipe_fds[0] : ::open("/dev/null", O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(124);
  }
  ::close(exec_fds[1]);
  char byte;
  while (::read(exec_fds[0], &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(exec_fds[0]);
  if (spec_.stdin_pipe) {
    ::close(pipe_fds[0]);
    stdin_fd_ = pipe_fds[1];
  }
}

void Child::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

void Child::signal(int sig) {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<ChildExit> Child::poll() {
  if (exit_) return exit_;
  if (pid_ <= 0) return std::nullopt;
  ChildExit result;
  const pid_t got = ::wait4(pid_, &result.status, WNOHANG, &result.usage);
  if (got == pid_) {
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    exit_ = result;
    stop_sampling();
  }
  return exit_;
}

ChildExit Child::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!poll()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      signal(SIGKILL);
      ChildExit result;
      ::wait4(pid_, &result.status, 0, &result.usage);
      result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      exit_ = result;
      stop_sampling();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return *exit_;
}

ChildExit Child::stop(std::chrono::milliseconds grace) {
  if (!exit_) signal(SIGTERM);
  return wait(grace);
}

void Child::start_rss_sampling(std::chrono::milliseconds every) {
  sampling_ = true;
  sampler_ = std::thread([this, every] {
    while (sampling_) {
      const double rss = vm_rss_mib(pid_);
      const double hwm = vm_rss_mib(pid_, "VmHWM");
      if (rss >= 0) {
        std::lock_guard lock(samples_mutex_);
        samples_.push_back(rss);
        hwm_mib_ = std::max(hwm_mib_, hwm);
      }
      std::this_thread::sleep_for(every);
    }
  });
}

void Child::stop_sampling() {
  sampling_ = false;
  if (sampler_.joinable() && sampler_.get_id() != std::this_thread::get_id()) sampler_.join();
}

double Child::peak_rss_mib() const {
  std::lock_guard lock(samples_mutex_);
  return hwm_mib_;
}

std::vector<double> Child::rss_samples() const {
  std::lock_guard lock(samples_mutex_);
  return samples_;
}

double vm_rss_mib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream in(line.substr(prefix.size()));
      double kib = 0;
      in >> kib;
      return kib / 1024.0;
    }
  }
  return -1;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace customeriq::bench
