// NatsConfig: how `customeriq serve` talks to NATS. Read from the
// environment (after .env), then from the pipeline YAML's `source:` block
// for what the environment does not set, then the defaults below.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/environment.hpp"

namespace customeriq {

struct NatsConfig {
  bool enabled = false;                                       // NATS_ENABLED / enabled
  std::vector<std::string> servers{"nats://localhost:4222"};  // NATS_SERVERS / servers
  std::vector<std::string> subjects{"customer.events.>"};     // NATS_SUBJECTS / subjects
  std::string queue_group = "customeriq-service";             // NATS_QUEUE_GROUP / queue_group

  // Authentication and TLS (empty: not used).
  std::string user, password;  // NATS_USER, NATS_PASSWORD
  std::string token;           // NATS_TOKEN
  std::string creds_file;      // NATS_CREDS
  std::string tls_ca;          // NATS_TLS_CA
  std::string tls_cert;        // NATS_TLS_CERT (with NATS_TLS_KEY)
  std::string tls_key;         // NATS_TLS_KEY

  // Core mode: what nats.c may buffer per subscription before it drops
  // messages as a slow consumer.
  int pending_msgs = 16384;             // NATS_PENDING_MSGS
  int pending_bytes = 16 * 1024 * 1024;  // NATS_PENDING_BYTES: bounds memory

  // JetStream mode.
  bool jetstream = false;               // NATS_JETSTREAM
  std::string stream = "CUSTOMER_EVENTS";  // NATS_STREAM
  bool stream_create = true;            // NATS_STREAM_CREATE
  std::string durable = "customeriq";   // NATS_DURABLE
  int max_deliver = 10;                 // NATS_MAX_DELIVER
  int ack_wait_seconds = 30;            // NATS_ACK_WAIT_SECONDS
  int fetch_batch = 256;                // NATS_FETCH_BATCH
  int max_ack_pending = 20000;          // NATS_MAX_ACK_PENDING

  bool tls() const;  // a tls:// server or any NATS_TLS_* setting
};

// Looks a variable up; the real reader is env() (environment.hpp). Tests
// pass their own.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// A command-line option given in place of a variable (publish --servers):
// it wins over the environment, and errors name the option.
struct NatsOption {
  const char* variable;  // "NATS_SERVERS"
  std::string option;    // "--servers"
  std::string value;
};

// Reads and checks everything. source is PipelineConfig::source (the YAML
// `source:` block as JSON), source_location its "file:line:column".
// Throws ConfigError naming the variable (or option, or source.<key> with
// its location) for an unknown key or a malformed value. Errors never show
// a password or token: not NATS_PASSWORD's or NATS_TOKEN's value, not the
// user info of a server URL.
NatsConfig read_nats_config(const nlohmann::json& source, const std::string& source_location,
                            const EnvLookup& lookup = env, const std::vector<NatsOption>& options = {});

// NATS_* variables set in the environment that CustomerIQ does not read
// (probably typos), each with a hint when one is close.
std::vector<std::string> unknown_nats_variables();

// True when subject matches pattern ('*' one token, '>' the rest).
bool subject_matches(std::string_view pattern, std::string_view subject);

// The URL with a password or token replaced by "***", for logs and
// errors. What stands where the port goes is shown only when it is a
// number: a URL that lost its '@' and host (or was split at a comma in the
// password) may have a password there.
std::string redact_url(const std::string& url);

// The servers, redacted, joined with ", ".
std::string server_list(const std::vector<std::string>& servers);

}  // namespace customeriq
