// The extractive plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

namespace {
const std::string kReview =
    "Shipping was quick. The bluetooth headphones keep disconnecting. I like the color. "
    "Support could not fix the bluetooth headphones. Bluetooth pairing fails after every "
    "update of the headphones firmware.";
}

TEST_CASE("extractive: keeps the highest-scoring sentences that fit, in original order", "[plugins]") {
  auto extractive = summarizer("extractive");
  // Scores: "The bluetooth..." 3.58 > "Bluetooth pairing..." 3.48 > "Support..." 3.02 >
  // "Shipping..." 1.15 > "I like..." 1.0 (word frequency sum / sqrt(words)).
  CHECK(extractive->summarize(kReview, 115) ==
        "The bluetooth headphones keep disconnecting. Bluetooth pairing fails after every "
        "update of the headphones firmware.");
  // The second-best does not fit; the third does.
  CHECK(extractive->summarize(kReview, 92) ==
        "The bluetooth headphones keep disconnecting. Support could not fix the bluetooth headphones.");
  // A lower-scoring sentence that fits comes back in its original place, first.
  CHECK(extractive->summarize(kReview, 68) ==
        "Shipping was quick. The bluetooth headphones keep disconnecting.");
}

TEST_CASE("extractive: lines are sentences - ties go to the earlier sentence", "[plugins]") {
  auto extractive = summarizer("extractive");
  const std::string lines =
      "Bluetooth headphones broken\nCall back tomorrow morning\nBluetooth headphones replaced";
  CHECK(extractive->summarize(lines, 30) == "Bluetooth headphones broken");
  CHECK(extractive->summarize(lines, 57) == "Bluetooth headphones broken Bluetooth headphones replaced");
}

TEST_CASE("extractive: min_sentence_chars keeps short sentences out unless nothing else fits", "[plugins]") {
  const std::string text =
      "Bluetooth today. Bluetooth headphones arrived today. Weather is nice outside today.";
  CHECK(summarizer("extractive")->summarize(text, 31) == "Bluetooth today.");
  auto strict = summarizer("extractive", {{"min_sentence_chars", 20}});
  CHECK(strict->summarize(text, 31) == "Weather is nice outside today.");
  CHECK(strict->summarize(text, 20) == "Bluetooth today.");
  CHECK(summarizer("extractive", {{"min_sentence_chars", 0}})->summarize(text, 31) == "Bluetooth today.");
  CHECK_THROWS_WITH(summarizer("extractive", {{"min_sentence_chars", -1}}),
                    "plugin extractive: config key 'min_sentence_chars' must be an integer >= 0, got -1");
}

TEST_CASE("extractive: when no sentence fits, a word-boundary cut with an ellipsis", "[plugins]") {
  auto extractive = summarizer("extractive");
  CHECK(extractive->summarize("Bluetooth pairing keeps failing on every device we tried at home", 20) ==
        "Bluetooth pairing" + kEllipsis);
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi" + kEllipsis);
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 1) == "a");
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 0) == "");
}

TEST_CASE("extractive: never longer than the limit, never inside a code point", "[plugins]") {
  auto extractive = summarizer("extractive");
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e was served at table " + std::to_string(i) +
            ". \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3082\u3042\u308a\u307e\u3059\u3002\n"
            "The \U0001F3A7 headphones\u2014great sound! \u00bfQu\u00e9 tal? "
            "Tr\u00e8s bien, merci beaucoup. ";
  const std::size_t length = sdk::utf8_length(text);
  REQUIRE(length > 300);
  for (std::size_t max = 0; max < length; ++max) {
    INFO("max_chars " << max);
    const std::string summary = extractive->summarize(text, max);
    CHECK(sdk::utf8_length(summary) <= max);
    CHECK(valid_utf8(summary));
    CHECK(extractive->summarize(text, max) == summary);
    if (max >= 40) CHECK(sdk::utf8_length(summary) * 2 >= max / 2);
  }
}

TEST_CASE("extractive: as the pipeline summarizer behind a handler", "[plugins]") {
  TestHandler generic(builtin("generic"), Json::object(), summarizer("extractive"), 92);
  const auto mutations = generic.handle(event("review", {{"description", kReview}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description ==
        "The bluetooth headphones keep disconnecting. Support could not fix the bluetooth headphones.");
}
