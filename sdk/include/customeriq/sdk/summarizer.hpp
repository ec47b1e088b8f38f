// Summarizer: shortens long text. One is chosen per pipeline (YAML
// `summarizer:`); handlers reach it through HandlerContext::summarize.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace customeriq::sdk {

class Summarizer {
 public:
  virtual ~Summarizer() = default;

  // Returns a summary of text that is at most max_chars characters (UTF-8
  // code points) long and never ends inside a code point. Called only for
  // text longer than max_chars. Must be safe to call from several threads.
  virtual std::string summarize(std::string_view text, std::size_t max_chars) const = 0;
};

// Number of UTF-8 code points in text (continuation bytes are not counted).
inline std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char byte : text) count += (byte & 0xC0) != 0x80;
  return count;
}

// Byte length of the longest prefix of text holding at most max_chars code points.
inline std::size_t utf8_prefix_bytes(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return i;
      ++chars;
    }
  }
  return text.size();
}

}  // namespace customeriq::sdk
