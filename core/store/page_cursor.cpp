#include "store/page_cursor.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "hash.hpp"
#include "text.hpp"

namespace customeriq {
namespace {

// Enough of the payload's hash to tell a changed or cut cursor from ours.
constexpr std::size_t kChecksumDigits = 12;
constexpr int kCursorVersion = 1;

std::string checksum(std::string_view payload) { return fnv1a_128_hex(payload).substr(0, kChecksumDigits); }

std::string base64url_encode(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  text.erase(std::find(text.begin(), text.end(), '='), text.end());
  return text;
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string bytes;
  std::uint32_t bits = 0;
  int pending = 0;
  for (char c : text) {
    const int value = base64url_value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      bytes += static_cast<char>((bits >> pending) & 0xFF);
    }
  }
  return bytes;
}

[[noreturn]] void refuse(std::string_view cursor, const std::string& reason) {
  throw std::invalid_argument("invalid cursor \"" + excerpt(cursor, 60) + "\": " + reason +
                              "; pass back the next_cursor of a previous page unchanged");
}

}  // namespace

std::string encode_cursor(std::string_view kind, const nlohmann::json& position) {
  const std::string payload = nlohmann::json{{"v", kCursorVersion}, {"k", kind}, {"p", position}}.dump();
  return base64url_encode(payload) + "." + checksum(payload);
}

nlohmann::json decode_cursor(std::string_view kind, std::string_view cursor) {
  const std::size_t dot = cursor.rfind('.');
  if (cursor.empty() || dot == std::string_view::npos) refuse(cursor, "not a cursor");
  const std::optional<std::string> payload = base64url_decode(cursor.substr(0, dot));
  if (!payload) refuse(cursor, "not base64url");
  if (checksum(*payload) != cursor.substr(dot + 1)) refuse(cursor, "it was changed (checksum mismatch)");
  const nlohmann::json parsed = nlohmann::json::parse(*payload, nullptr, false);
  auto field = [&](const char* name) {
    return parsed.is_object() && parsed.contains(name) ? parsed.at(name) : nlohmann::json();
  };
  if (field("v") != kCursorVersion || !field("p").is_array()) refuse(cursor, "not a cursor of this version");
  if (field("k") != std::string(kind)) refuse(cursor, "not a " + std::string(kind) + " cursor");
  return field("p");
}

}  // namespace customeriq
