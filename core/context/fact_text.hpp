// How the context document writes one fact: untrusted text as one bounded
// line, lengths in code points, dates and sums of money. For context/ and mcp/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace customeriq {

// Unicode code points in text, which is valid UTF-8.
std::size_t code_points(std::string_view text);

// text as one line of at most max_chars code points: bytes that are not
// UTF-8 as \xHH, control characters (C0, DEL, C1, line and paragraph
// separators) as spaces, bidirectional overrides and isolates dropped,
// runs of spaces as one, trimmed; longer text is cut on a code point and
// ends in "…". max_chars is at least 1.
std::string one_line(std::string_view text, std::size_t max_chars);

// A row value as text: strings as they are, numbers as JSON writes them,
// arrays of strings joined by ", ", "" for null and anything else.
std::string value_text(const nlohmann::json& value);

// YYYY-MM-DD (UTC) of unix seconds; the number itself outside years 1 to 9999.
std::string utc_date(std::int64_t unix_seconds);

// A sum of money with two decimals: 299.99, -5.00 (1.000e+15 from 10^15 on).
std::string money(double amount);

// Whole days from `from` to `to`, rounded down; 0 when to is before from.
std::int64_t whole_days(std::int64_t from, std::int64_t to);

// text percent-encoded for a URL path segment (RFC 3986 unreserved kept).
std::string path_segment(std::string_view text);

}  // namespace customeriq
