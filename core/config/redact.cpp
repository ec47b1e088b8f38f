#include "config/redact.hpp"

namespace customeriq {

std::string redact_url(const std::string& url) {
  const auto scheme = url.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::string out = url;
  std::size_t host = start;
  if (const auto at = url.rfind('@'); at != std::string::npos && at >= start) {
    const auto colon = url.find(':', start);
    if (colon != std::string::npos && colon < at)
      out = url.substr(0, colon + 1) + "***" + url.substr(at);
    else
      out = url.substr(0, start) + "***" + url.substr(at);  // a token as the user part
    host = out.rfind('@') + 1;
  }
  // host[:port], the host possibly an [IPv6] address.
  std::size_t port_colon = std::string::npos;
  if (host < out.size() && out[host] == '[') {
    if (const auto bracket = out.find(']', host); bracket != std::string::npos && bracket + 1 < out.size() &&
                                                  out[bracket + 1] == ':')
      port_colon = bracket + 1;
  } else {
    port_colon = out.find(':', host);
  }
  if (port_colon != std::string::npos) {
    const std::string_view port = std::string_view(out).substr(port_colon + 1);
    if (!port.empty() && port.find_first_not_of("0123456789") != std::string_view::npos)
      out = out.substr(0, port_colon + 1) + "***";
  }
  return out;
}

std::string redact_url_list(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    const auto begin = item.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) {
      out += item;
    } else {
      const auto end = item.find_last_not_of(" \t\r\n") + 1;
      out += std::string(item.substr(0, begin)) + redact_url(std::string(item.substr(begin, end - begin))) +
             std::string(item.substr(end));
    }
    if (comma == std::string_view::npos) break;
    out += ',';
    start = comma + 1;
  }
  return out;
}

}  // namespace customeriq
