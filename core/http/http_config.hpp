// HttpConfig: serve's HTTP settings (CUSTOMERIQ_HTTP_*, CUSTOMERIQ_SSE_*,
// CUSTOMERIQ_CHANGE_RETENTION_SECONDS), read through the setting table.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/environment.hpp"

namespace customeriq {

struct HttpConfig {
  bool enabled = true;  // CUSTOMERIQ_HTTP_ADDR is not empty
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::optional<std::string> token;
  std::size_t read_threads = 2;
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds heartbeat{15};
  std::chrono::seconds change_retention{604800};

  // host:port as a URL authority ([::1]:8080 for IPv6).
  std::string authority(std::uint16_t actual_port) const;
};

// Throws ConfigError naming the variable: a malformed address, or an
// address that is not loopback while CUSTOMERIQ_HTTP_TOKEN is unset.
HttpConfig read_http_config(const EnvLookup& lookup = env);

bool is_loopback_address(const std::string& host);

}  // namespace customeriq
