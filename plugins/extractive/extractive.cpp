// extractive: the summarizer that keeps the sentences whose words recur most
// in the text, in their original order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Sentences end at . ! ? followed by whitespace, and at every newline.
std::vector<std::string_view> split_sentences(std::string_view text) {
  std::vector<std::string_view> sentences;
  std::size_t start = 0;
  auto close = [&](std::size_t end) {
    const std::string_view sentence = trim(text.substr(start, end - start));
    if (!sentence.empty()) sentences.push_back(sentence);
    start = end;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n')
      close(i);
    else if ((c == '.' || c == '!' || c == '?') && i + 1 < text.size() && is_space(text[i + 1]))
      close(i + 1);
  }
  close(text.size());
  return sentences;
}

// Decodes the code point at text[i] and advances i; malformed bytes count as
// one non-letter each.
char32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || i + length > text.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t point = length == 1 ? lead : lead & (0x3F >> (length - 1));
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    point = (point << 6) | (byte(i + k) & 0x3F);
  }
  i += length;
  return point;
}

// ASCII letters and digits, and non-ASCII outside the common punctuation and
// symbol blocks (so "café" and "日本" are words, "—" and "…" are not).
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, arrows, math, shapes
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFE30 && c <= 0xFE4F) return false;
  if (c >= 0xFF00 && c <= 0xFF0F) return false;
  return true;
}

struct Word {
  std::string_view text;  // a view into the ASCII lower-cased copy of the text
  std::size_t chars;
};

// The words of lowered (text with ASCII letters lower-cased, so byte
// offsets are the same), appended to words.
void split_words(std::string_view lowered, std::vector<Word>& words) {
  std::size_t begin = 0, chars = 0;
  for (std::size_t i = 0; i < lowered.size();) {
    const std::size_t start = i;
    if (is_word_char(next_code_point(lowered, i))) {
      if (chars++ == 0) begin = start;
    } else if (chars > 0) {
      words.push_back(Word{lowered.substr(begin, start - begin), chars});
      chars = 0;
    }
  }
  if (chars > 0) words.push_back(Word{lowered.substr(begin), chars});
}

bool is_stopword(std::string_view word) {
  static const std::unordered_set<std::string_view> stopwords = {
      "the",   "and",   "for",    "are",   "but",   "not",   "you",    "your",  "with",
      "this",  "that",  "was",    "were",  "have",  "has",   "had",    "from",  "they",
      "them",  "their", "there",  "what",  "when",  "which", "who",    "whom",  "will",
      "would", "can",   "could",  "should", "been", "being", "into",   "about", "than",
      "then",  "its",   "our",    "ours",  "out",   "all",   "any",    "also",  "just",
      "very",  "some",  "such",   "only",  "over",  "more",  "most",   "other", "these",
      "those", "his",   "her",    "hers",  "she",   "him",   "how",    "why",   "where",
      "each",  "both",  "after",  "before", "because", "while", "does", "did",  "doing",
      "again", "here",  "once",   "off",   "own",   "same",  "too",    "nor",   "may",
      "might", "must",  "shall",  "yours", "myself", "itself", "ourselves", "yourself",
      "themselves", "himself", "herself", "under", "until", "above", "below", "between",
      "through", "during", "against", "further", "few", "now", "let", "get", "got"};
  return stopwords.count(word) > 0;
}

struct Sentence {
  std::string_view text;
  std::size_t chars = 0;
  double score = 0;
};

std::vector<Sentence> score_sentences(std::string_view text) {
  const std::string lowered = sdk::ascii_lower(std::string(text));
  std::vector<Sentence> sentences;
  std::vector<Word> words;                    // of every sentence, in order
  std::vector<std::size_t> first_word = {0};  // sentence i has words [first_word[i], first_word[i+1])
  std::unordered_map<std::string_view, std::size_t> frequency;
  frequency.reserve(text.size() / 8);
  for (std::string_view part : split_sentences(text)) {
    sentences.push_back(Sentence{part, sdk::utf8_length(part), 0});
    const std::size_t offset = static_cast<std::size_t>(part.data() - text.data());
    split_words(std::string_view(lowered).substr(offset, part.size()), words);
    first_word.push_back(words.size());
  }
  for (const Word& word : words)
    if (word.chars >= 3 && !is_stopword(word.text)) ++frequency[word.text];
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const std::size_t count = first_word[i + 1] - first_word[i];
    if (count == 0) continue;
    double sum = 0;
    for (std::size_t w = first_word[i]; w < first_word[i + 1]; ++w) {
      auto it = frequency.find(words[w].text);
      if (it != frequency.end()) sum += static_cast<double>(it->second);
    }
    // sqrt, not the count: long sentences may win, but not just by being long.
    sentences[i].score = sum / std::sqrt(static_cast<double>(count));
  }
  return sentences;
}

class ExtractiveSummarizer final : public sdk::Summarizer {
 public:
  explicit ExtractiveSummarizer(const sdk::Json& config)
      : min_sentence_chars_(sdk::config_value<std::size_t>(config, "min_sentence_chars")) {}

  std::string summarize(std::string_view text, std::size_t max_chars) const override {
    if (sdk::utf8_length(text) <= max_chars) return std::string(text);
    const std::vector<Sentence> sentences = score_sentences(text);

    std::vector<std::size_t> ranked(sentences.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) ranked[i] = i;
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) {
      return sentences[a].score > sentences[b].score;
    });

    std::vector<std::size_t> chosen = pick(sentences, ranked, max_chars, min_sentence_chars_);
    if (chosen.empty()) chosen = pick(sentences, ranked, max_chars, 0);
    if (chosen.empty()) return cut_at_word(text, max_chars);

    std::sort(chosen.begin(), chosen.end());
    std::string summary;
    for (std::size_t index : chosen) {
      if (!summary.empty()) summary += ' ';
      summary.append(sentences[index].text);
    }
    return summary;
  }

 private:
  // Greedy by rank: every sentence that still fits, joined with one space.
  static std::vector<std::size_t> pick(const std::vector<Sentence>& sentences,
                                       const std::vector<std::size_t>& ranked,
                                       std::size_t max_chars, std::size_t min_chars) {
    std::vector<std::size_t> chosen;
    std::size_t used = 0;
    for (std::size_t index : ranked) {
      const Sentence& sentence = sentences[index];
      if (sentence.chars < min_chars) continue;
      const std::size_t needed = sentence.chars + (chosen.empty() ? 0 : 1);
      if (used + needed > max_chars) continue;
      chosen.push_back(index);
      used += needed;
    }
    return chosen;
  }

  // When no sentence fits: the beginning, cut at a word boundary when that
  // keeps at least half, with an ellipsis.
  static std::string cut_at_word(std::string_view text, std::size_t max_chars) {
    static constexpr std::string_view kEllipsis = "\u2026";
    const bool with_ellipsis = max_chars > 1;
    const std::size_t budget = with_ellipsis ? max_chars - 1 : max_chars;
    const std::size_t end = sdk::utf8_prefix_bytes(text, budget);
    std::string_view kept = trim(text.substr(0, end));
    for (std::size_t i = end + 1; i-- > 0;) {
      if (i >= text.size() || !is_space(text[i])) continue;
      const std::string_view at_word = trim(text.substr(0, i));
      if (2 * sdk::utf8_length(at_word) >= budget) kept = at_word;
      break;
    }
    std::string summary(kept);
    if (with_ellipsis) summary += kEllipsis;
    return summary;
  }

  std::size_t min_sentence_chars_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"min_sentence_chars", sdk::ConfigType::integer, "12",
     "sentences shorter than this (in characters) are kept only when no longer one fits", /*min*/ 0}};
const auto kDescriptor = sdk::summarizer_descriptor<ExtractiveSummarizer>(
    "extractive", "1.0.0",
    "Keeps the sentences whose words recur most in the text, in their original order", kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
