// Small text helpers for messages and output: UTF-8 validity, short
// excerpts of user input, base64.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace customeriq {

// True when bytes is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view bytes);

// bytes with every byte that is not part of well-formed UTF-8 written as
// \xHH, so the result can go into JSON output and logs.
std::string to_valid_utf8(std::string_view bytes);

// At most max_bytes of text, cut on a code point boundary, with "…" when
// cut: error messages quote user input without echoing megabytes of it.
std::string excerpt(std::string_view text, std::size_t max_bytes = 80);

std::string base64_encode(std::string_view bytes);

// text with A-Z as a-z (names, schemes, booleans: ASCII only).
std::string ascii_lower(std::string_view text);

}  // namespace customeriq
