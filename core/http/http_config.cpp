#include "http/http_config.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "config/setting_reader.hpp"

namespace customeriq {
namespace {

bool is_ip_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

bool is_loopback_address(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string HttpConfig::authority(std::uint16_t actual_port) const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(actual_port);
}

HttpConfig read_http_config(const EnvLookup& lookup) {
  const SettingReader settings(lookup);
  HttpConfig config;
  const SettingValue address = settings.get("CUSTOMERIQ_HTTP_ADDR");
  const std::string text = address.text();
  if (text.empty()) {
    config.enabled = false;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      address.refuse("must be HOST:PORT with an IP address, e.g. 127.0.0.1:8080 or [::1]:8080");
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    if (!is_ip_address(host)) address.refuse("must name an IP address (or localhost), not '" + host + "'");
    const std::string port = text.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535)
      address.refuse("must end in a port from 0 to 65535");
    config.host = host;
    config.port = static_cast<std::uint16_t>(value);
  }
  if (std::string token = settings.get("CUSTOMERIQ_HTTP_TOKEN").text(); !token.empty()) config.token = std::move(token);
  config.read_threads = static_cast<std::size_t>(settings.get("CUSTOMERIQ_HTTP_READ_THREADS").integer());
  config.read_timeout = std::chrono::milliseconds(settings.get("CUSTOMERIQ_HTTP_READ_TIMEOUT_MS").integer());
  config.write_timeout = std::chrono::seconds(settings.get("CUSTOMERIQ_HTTP_WRITE_TIMEOUT_SECONDS").integer());
  config.heartbeat = std::chrono::seconds(settings.get("CUSTOMERIQ_SSE_HEARTBEAT_SECONDS").integer());
  config.change_retention = std::chrono::seconds(settings.get("CUSTOMERIQ_CHANGE_RETENTION_SECONDS").integer());
  if (config.enabled && !config.token && !is_loopback_address(config.host)) {
    throw ConfigError("CUSTOMERIQ_HTTP_ADDR=" + text +
                      " is not a loopback address: set CUSTOMERIQ_HTTP_TOKEN so that only clients "
                      "holding the token can read profiles, or listen on 127.0.0.1");
  }
  return config;
}

}  // namespace customeriq
