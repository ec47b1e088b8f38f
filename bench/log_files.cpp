#include "log_files.hpp"

#include <fstream>
#include <vector>

namespace customeriq::bench {

std::string read_first_line(const std::filesystem::path& file, const std::string& prefix) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

std::string last_lines(const std::filesystem::path& file, std::size_t count) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

std::uint64_t count_matching_lines(const std::filesystem::path& file, const std::string& needle) {
  std::ifstream in(file);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace customeriq::bench
