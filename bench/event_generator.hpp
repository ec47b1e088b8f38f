// Deterministic benchmark events: the same seed and options give the same
// JSON lines on every machine (own PRNG, no std::*_distribution).
//
// Mix: 60% purchase, 15% support_ticket, 10% repair, 10% contact, 5% note,
// over `customers` customers (uniform), every event with a unique event_id
// and a free-text field (see Mix; uniform length) made of
// Zipf-distributed words from a ~6,000-word vocabulary, so FTS5 sees a
// realistic mix of very common and rare terms.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace customeriq::bench {

// long_text: free text of 50..2,000 characters in every event (~1.5 KB
// per JSON line). seed_sized: events like the seed service's examples,
// 300-450 bytes: free text of 15..60 characters, and one support ticket in
// ten with a description of ~800.
enum class Mix { long_text, seed_sized };

struct GeneratorOptions {
  std::uint64_t events = 200'000;
  std::uint32_t customers = 10'000;
  std::uint64_t seed = 20240101;
  Mix mix = Mix::long_text;
};

const char* to_string(Mix mix);  // "long", "seed"

struct GeneratedEvent {
  std::uint64_t seq = 0;     // 0-based
  std::string event_id;      // "evt-<seed>-<seq>"
  std::string customer_id;   // "cust_000042"
  std::string event_type;
  std::string json;          // one line, no newline
};

class EventGenerator {
 public:
  // Bump when the output for the same options changes (invalidates caches).
  static constexpr int kVersion = 2;

  explicit EventGenerator(GeneratorOptions options);

  // The next event; false once options.events were produced.
  bool next(GeneratedEvent& out);

  const GeneratorOptions& options() const { return options_; }

  // Words by frequency rank (index 0 is the most frequent).
  static const std::vector<std::string>& vocabulary();
  static std::string customer_id(std::uint32_t index);
  static std::string customer_name(std::uint32_t index);
  static std::string customer_email(std::uint32_t index);
  static std::string event_id(std::uint64_t seed, std::uint64_t seq);

 private:
  std::string sentence_text(std::size_t target_chars);
  std::string title_text(int min_words, int max_words);
  const std::string& zipf_word();

  GeneratorOptions options_;
  Rng rng_;
  std::uint64_t seq_ = 0;
  // Work orders opened and not yet completed, per customer (for follow-ups).
  std::vector<std::vector<std::uint64_t>> open_orders_;
};

// Writes options.events JSON lines to path (atomically: temp file + rename).
void write_jsonl(const GeneratorOptions& options, const std::filesystem::path& path);

// The string value of "key" in a flat JSON line written by the generator
// (fast, no parser; only for the generator's own output). Empty if absent.
std::string_view json_string_field(std::string_view line, std::string_view key);

}  // namespace customeriq::bench
