// Server URLs as logs and errors may show them: without their secrets.
#pragma once

#include <string>
#include <string_view>

namespace customeriq {

// The URL with a password or token replaced by "***", for logs and
// errors. What stands where the port goes is shown only when it is a
// number: a URL that lost its '@' and host (or was split at a comma in the
// password) may have a password there.
std::string redact_url(const std::string& url);

// A comma-separated list of URLs with each one redacted, the separators
// and blanks kept.
std::string redact_url_list(std::string_view text);

}  // namespace customeriq
