// The truncate plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("truncate: text within the limit is unchanged", "[plugins]") {
  auto truncate = summarizer("truncate");
  CHECK(truncate->summarize("short", 5) == "short");
  CHECK(truncate->summarize("d\u00e9j\u00e0 vu", 7) == "d\u00e9j\u00e0 vu");
}

TEST_CASE("truncate: prefers a sentence end, then a word boundary, then a character", "[plugins]") {
  auto truncate = summarizer("truncate");
  const std::string two = "First sentence here. Second sentence is longer than that.";
  // A sentence end keeping at least half the budget: no ellipsis.
  CHECK(truncate->summarize(two, 30) == "First sentence here.");
  CHECK(truncate->summarize("Is it broken? It stopped working yesterday evening.", 20) == "Is it broken?");
  CHECK(truncate->summarize("Wow! That was fast delivery, thanks a lot.", 8) == "Wow!");  // exactly half
  CHECK(truncate->summarize("Wow! That was fast delivery, thanks a lot.", 12) == "Wow! That" + kEllipsis);
  // The sentence end keeps less than half: the last word boundary instead.
  CHECK(truncate->summarize(two, 45) == "First sentence here. Second sentence is" + kEllipsis);
  // The only word boundary keeps less than half: a character cut.
  CHECK(truncate->summarize("Hi supercalifragilisticexpialidocious", 20) ==
        "Hi supercalifragili" + kEllipsis);
  CHECK(truncate->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi" + kEllipsis);
  // A word that ends exactly at the budget is kept whole.
  CHECK(truncate->summarize("abcd efgh ijkl", 10) == "abcd efgh" + kEllipsis);
  // Trailing whitespace is trimmed before the ellipsis.
  CHECK(truncate->summarize("abc    defghijklmnop", 8) == "abc" + kEllipsis);
}

TEST_CASE("truncate: the ellipsis config", "[plugins]") {
  auto dots = summarizer("truncate", {{"ellipsis", "..."}});
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefg...");
  // No room for the ellipsis and some text: no ellipsis.
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 3) == "abc");
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 2) == "ab");
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 0) == "");
  auto none = summarizer("truncate", {{"ellipsis", ""}});
  CHECK(none->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghij");
  CHECK(summarizer("truncate")->summarize("abcdef", 1) == "a");
}

TEST_CASE("truncate: never longer than the limit, never inside a code point", "[plugins]") {
  auto truncate = summarizer("truncate");
  auto dots = summarizer("truncate", {{"ellipsis", "[\u2192]"}});
  std::string text;
  for (int i = 0; i < 6; ++i)
    text += "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 "
            "\U0001F3A7 headphones\u2014great! \u00bfQu\u00e9 tal? Tr\u00e8s bien. ";
  text += "\U0001F3A7\U0001F3A7\U0001F3A7\u00e9\u00e9\u00e9";
  const std::size_t length = sdk::utf8_length(text);
  REQUIRE(length > 300);
  for (const auto& summarizer : {truncate, dots}) {
    for (std::size_t max = 0; max < length; ++max) {
      INFO("max_chars " << max);
      const std::string summary = summarizer->summarize(text, max);
      CHECK(sdk::utf8_length(summary) <= max);
      CHECK(valid_utf8(summary));
      // What is kept is the beginning of the text, whole code points only.
      std::string kept = summary;
      for (const std::string& ellipsis : {kEllipsis, std::string("[\u2192]")})
        if (kept.size() >= ellipsis.size() && kept.ends_with(ellipsis))
          kept.resize(kept.size() - ellipsis.size());
      CHECK(std::string_view(text).starts_with(kept));
      if (max >= 20) CHECK(sdk::utf8_length(summary) * 2 >= max);
    }
  }
}
