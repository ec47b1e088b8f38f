// truncate: the summarizer that keeps the beginning of the text, cut at a
// sentence end, else a word boundary, else a character boundary.
#include <cstddef>
#include <string>
#include <string_view>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// "x. ", "x! ", "x? " (any whitespace after the mark)
bool ends_sentence_at(std::string_view text, std::size_t i) {
  const char c = text[i];
  return (c == '.' || c == '!' || c == '?') && i + 1 < text.size() && is_space(text[i + 1]);
}

class TruncateSummarizer final : public sdk::Summarizer {
 public:
  explicit TruncateSummarizer(const sdk::Json& config)
      : ellipsis_(sdk::config_value<std::string>(config, "ellipsis")),
        ellipsis_chars_(sdk::utf8_length(ellipsis_)) {}

  std::string summarize(std::string_view text, std::size_t max_chars) const override {
    if (sdk::utf8_length(text) <= max_chars) return std::string(text);

    // A whole sentence needs no ellipsis, so it may use the full budget.
    const std::size_t window = sdk::utf8_prefix_bytes(text, max_chars);
    for (std::size_t i = window; i-- > 0;) {
      if (!ends_sentence_at(text, i)) continue;
      const std::string_view kept = text.substr(0, i + 1);
      if (2 * sdk::utf8_length(kept) >= max_chars) return std::string(kept);
      break;
    }

    // An ellipsis that would fill the whole budget would say nothing.
    const bool with_ellipsis = max_chars > ellipsis_chars_;
    const std::size_t budget = with_ellipsis ? max_chars - ellipsis_chars_ : max_chars;
    const std::size_t end = sdk::utf8_prefix_bytes(text, budget);
    std::string_view kept = trim_right(text.substr(0, end));
    // Whitespace right at `end` means the last word ends exactly at the budget.
    for (std::size_t i = end + 1; i-- > 0;) {
      if (i >= text.size() || !is_space(text[i])) continue;
      const std::string_view at_word = trim_right(text.substr(0, i));
      if (2 * sdk::utf8_length(at_word) >= budget) kept = at_word;
      break;
    }
    std::string summary(kept);
    if (with_ellipsis) summary += ellipsis_;
    return summary;
  }

 private:
  std::string ellipsis_;
  std::size_t ellipsis_chars_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"ellipsis", sdk::ConfigType::string, "\"\u2026\"",
     "appended when the text is cut inside a sentence; counts toward the limit"}};
const auto kDescriptor = sdk::summarizer_descriptor<TruncateSummarizer>(
    "truncate", "1.0.0",
    "Keeps the beginning: cut at a sentence end, else a word boundary, else a character",
    kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
