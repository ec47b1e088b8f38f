#include "children.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace customeriq::bench {
namespace {

struct MemoryStatus {
  pid_t parent = -1;
  double rss_mib = -1, hwm_mib = -1;
};

// From one read of /proc/<pid>/status; -1 for what is not there (a zombie
// has no VmRSS).
MemoryStatus memory_status(pid_t pid) {
  MemoryStatus status;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  auto number_after = [&](const char* prefix, double& out) {
    const std::size_t length = std::char_traits<char>::length(prefix);
    if (line.compare(0, length, prefix) != 0) return;
    std::istringstream(line.substr(length)) >> out;
  };
  double parent = -1, rss_kib = -1, hwm_kib = -1;
  while (std::getline(in, line)) {
    number_after("PPid:", parent);
    number_after("VmRSS:", rss_kib);
    number_after("VmHWM:", hwm_kib);
  }
  status.parent = static_cast<pid_t>(parent);
  if (rss_kib >= 0) status.rss_mib = rss_kib / 1024.0;
  if (hwm_kib >= 0) status.hwm_mib = hwm_kib / 1024.0;
  return status;
}

}  // namespace

ProcessOptions child_options(const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file) {
  ProcessOptions options;
  options.out = stdout_file.empty() ? Output::discarded() : Output::to_file(stdout_file);
  options.err = stderr_file.empty() ? Output::discarded() : Output::to_file(stderr_file);
  options.own_process_group = true;
  options.dies_with_parent = true;
  return options;
}

RssSampler::RssSampler(pid_t pid, std::chrono::milliseconds every) : pid_(pid) {
  thread_ = std::thread([this, every] {
    const pid_t bench = ::getpid();
    while (sampling_) {
      const MemoryStatus status = memory_status(pid_);
      if (status.parent == bench && status.rss_mib >= 0) {
        std::lock_guard lock(mutex_);
        samples_.push_back(status.rss_mib);
        hwm_mib_ = std::max(hwm_mib_, status.hwm_mib);
      }
      std::this_thread::sleep_for(every);
    }
  });
}

RssSampler::~RssSampler() { stop(); }

void RssSampler::stop() {
  sampling_ = false;
  if (thread_.joinable()) thread_.join();
}

std::vector<double> RssSampler::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

double RssSampler::peak_mib() const {
  std::lock_guard lock(mutex_);
  return hwm_mib_;
}

}  // namespace customeriq::bench
