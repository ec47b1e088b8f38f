#include "context/fact_text.hpp"

#include <cmath>
#include <cstdio>

#include "text.hpp"

namespace customeriq {
namespace {

// The code point of the UTF-8 sequence of length bytes at text[i].
char32_t decode(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  if (length == 1) return byte(0);
  char32_t point = byte(0) & (0xFF >> (length + 1));
  for (std::size_t k = 1; k < length; ++k) point = (point << 6) | (byte(k) & 0x3F);
  return point;
}

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  return 2;
}

bool breaks_line(char32_t point) {
  return point < 0x20 || point == 0x7F || (point >= 0x80 && point <= 0x9F) || point == 0x2028 || point == 0x2029;
}

// Characters that reorder the text around them: a value must not be able
// to make the line after it read differently.
bool reorders_text(char32_t point) {
  return (point >= 0x202A && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069) || point == 0x200E ||
         point == 0x200F || point == 0xFEFF;
}

}  // namespace

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

std::string one_line(std::string_view raw, std::size_t max_chars) {
  const std::string text = to_valid_utf8(raw);
  std::string line;
  std::size_t points = 0;
  bool pending_space = false;
  bool cut = false;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = sequence_length(static_cast<unsigned char>(text[i]));
    const char32_t point = decode(text, i, length);
    const std::string_view bytes = std::string_view(text).substr(i, length);
    i += length;
    if (reorders_text(point)) continue;
    if (point == ' ' || breaks_line(point)) {
      pending_space = !line.empty();
      continue;
    }
    if (points + (pending_space ? 1 : 0) + 1 > max_chars) {
      cut = true;
      break;
    }
    if (pending_space) {
      line += ' ';
      ++points;
      pending_space = false;
    }
    line.append(bytes);
    ++points;
  }
  if (!cut) return line;
  // Room for the "…": drop the last code point, and a space before it.
  while (!line.empty() && points > max_chars - 1) {
    std::size_t last = line.size() - 1;
    while (last > 0 && (static_cast<unsigned char>(line[last]) & 0xC0) == 0x80) --last;
    line.erase(last);
    --points;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "…";
}

std::string value_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value)
      if (item.is_string()) joined += (joined.empty() ? "" : ", ") + item.get<std::string>();
    return joined;
  }
  return "";
}

std::string utc_date(std::int64_t unix_seconds) {
  // Years 1 to 9999: days from 0001-01-01 to 9999-12-31 around the epoch.
  constexpr std::int64_t kMin = -62135596800, kMax = 253402300799;
  if (unix_seconds < kMin || unix_seconds > kMax) return std::to_string(unix_seconds);
  std::int64_t days = unix_seconds / 86400 - (unix_seconds % 86400 < 0 ? 1 : 0);
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t mp = (5 * day_of_year + 2) / 153;
  const std::int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  char text[16];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day));
  return text;
}

std::string money(double amount) {
  char text[64];
  // Past 10^15 cents stop being exact, and %.2f of 1e300 is 300 digits.
  std::snprintf(text, sizeof text, std::abs(amount) < 1e15 ? "%.2f" : "%.3e", amount);
  return text;
}

std::int64_t whole_days(std::int64_t from, std::int64_t to) {
  if (to <= from) return 0;
  return static_cast<std::int64_t>((static_cast<unsigned long long>(to) - static_cast<unsigned long long>(from)) / 86400);
}

std::string path_segment(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xF];
    }
  }
  return out;
}

}  // namespace customeriq
