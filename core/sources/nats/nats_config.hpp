// NatsConfig: how `customeriq serve` talks to NATS. Read from the
// environment (after .env), then from the pipeline YAML's `source:` block
// for what the environment does not set, then the defaults of the setting
// table (config/setting_table.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/redact.hpp"
#include "config/setting_reader.hpp"

namespace customeriq {

// Every field is set by read_nats_config, from the setting of the same
// name in config/setting_table.cpp (its default included).
struct NatsConfig {
  bool enabled = false;                // NATS_ENABLED / enabled
  std::vector<std::string> servers;    // NATS_SERVERS / servers
  std::vector<std::string> subjects;   // NATS_SUBJECTS / subjects
  std::string queue_group;             // NATS_QUEUE_GROUP / queue_group

  // Authentication and TLS (empty: not used).
  std::string user, password;  // NATS_USER, NATS_PASSWORD
  std::string token;           // NATS_TOKEN
  std::string creds_file;      // NATS_CREDS
  std::string nkey_seed_file;  // NATS_NKEY_SEED
  std::string nkey_public;     //   and the public key of its seed
  std::string tls_ca;          // NATS_TLS_CA
  std::string tls_cert;        // NATS_TLS_CERT (with NATS_TLS_KEY)
  std::string tls_key;         // NATS_TLS_KEY

  // Core mode: what nats.c may buffer per subscription before it drops
  // messages as a slow consumer.
  int pending_msgs = 0;   // NATS_PENDING_MSGS
  int pending_bytes = 0;  // NATS_PENDING_BYTES: bounds memory
  std::uint64_t spool_max_bytes = 0;  // NATS_SPOOL_MAX_BYTES: the receive spool on disk

  // JetStream mode.
  bool jetstream = false;     // NATS_JETSTREAM
  std::string stream;         // NATS_STREAM
  bool stream_create = false; // NATS_STREAM_CREATE
  std::string durable;        // NATS_DURABLE
  int max_deliver = 0;        // NATS_MAX_DELIVER
  int ack_wait_seconds = 0;   // NATS_ACK_WAIT_SECONDS
  int fetch_batch = 0;        // NATS_FETCH_BATCH
  int max_ack_pending = 0;    // NATS_MAX_ACK_PENDING

  bool tls() const;  // a tls:// server or any NATS_TLS_* setting
};

// Reads and checks everything. source is PipelineConfig::source (the YAML
// `source:` block as JSON), source_location its "file:line:column";
// overrides are options given in place of variables (publish --servers).
// Throws ConfigError naming the variable (or option, or source.<key> with
// its location) for an unknown key or a malformed value. Errors never show
// a password or token: not NATS_PASSWORD's or NATS_TOKEN's value, not the
// user info of a server URL.
NatsConfig read_nats_config(const nlohmann::json& source, const std::string& source_location,
                            const EnvLookup& lookup = env, const std::vector<SettingOverride>& overrides = {});

// NATS_* variables set in the environment that the setting table does not
// declare (probably typos), each with a hint when one is close.
std::vector<std::string> unknown_nats_variables();

// True when subject matches pattern ('*' one token, '>' the rest).
bool subject_matches(std::string_view pattern, std::string_view subject);

// The servers, redacted, joined with ", ".
std::string server_list(const std::vector<std::string>& servers);

}  // namespace customeriq
