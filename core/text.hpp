// Small text helpers for messages and output: UTF-8 validity, short
// excerpts of user input, a JSON pre-scan, base64.
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

// What a JSON parser would take badly, found in one pass over the bytes
// before parsing: a NUL byte (a parser reading C strings takes it for the
// end of input and would apply "{valid}\0junk"), and nesting deeper than
// max_depth, which would exhaust the stack of recursive code downstream
// (copy, dump, compare). Empty when neither; depth_setting names the
// setting that raises the bound, for the message.
std::string json_structure_problem(std::string_view bytes, std::size_t max_depth,
                                   std::string_view depth_setting = {});

std::string base64_encode(std::string_view bytes);

// text with A-Z as a-z (names, schemes, booleans: ASCII only).
std::string ascii_lower(std::string_view text);

}  // namespace customeriq
