// What the bench reads from its children's logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace customeriq::bench {

// The first line that starts with prefix, else empty.
std::string read_first_line(const std::filesystem::path& file, const std::string& prefix);

// The last `count` non-empty lines, each ending in a newline.
std::string last_lines(const std::filesystem::path& file, std::size_t count);

// Lines that contain needle.
std::uint64_t count_matching_lines(const std::filesystem::path& file, const std::string& needle);

}  // namespace customeriq::bench
