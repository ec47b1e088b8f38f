// Cursors of keyset-paged reads: the position after a page's last row,
// handed to callers as opaque text and checked when it comes back.
// For store/ and the MCP tools, which page their answers.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace customeriq {

// The cursor for position (a JSON array of the ordering keys) in the read
// named kind ("timeline", "customers"): URL-safe text carrying the kind, the
// position and a checksum of both.
std::string encode_cursor(std::string_view kind, const nlohmann::json& position);

// The position encode_cursor(kind, …) put in cursor. Throws
// std::invalid_argument saying what is wrong for text that is not such a
// cursor: not base64url, changed (checksum), of another read, not JSON.
// Checking the position's own fields is the caller's part.
nlohmann::json decode_cursor(std::string_view kind, std::string_view cursor);

}  // namespace customeriq
