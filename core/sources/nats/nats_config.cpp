#include "sources/nats/nats_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "sources/nats/nkey.hpp"
#include "text.hpp"

extern char** environ;

namespace customeriq {
namespace {

using Json = nlohmann::json;

// NATS subjects: dot-separated non-empty tokens, no whitespace; '*' is a
// whole token; '>' is a whole last token.
void check_subject(const SettingValue& value, const std::string& subject) {
  const auto fail = [&](const std::string& why) {
    value.refuse("has an invalid subject '" + subject + "': " + why);
  };
  if (subject.find_first_of(" \t\r\n") != std::string::npos) fail("no whitespace allowed");
  const auto tokens = [&] {
    std::vector<std::string_view> out;
    std::string_view rest = subject;
    for (;;) {
      const auto dot = rest.find('.');
      out.push_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    return out;
  }();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto token = tokens[i];
    if (token.empty()) fail("empty token");
    if (token.find('>') != std::string_view::npos && (token != ">" || i + 1 != tokens.size()))
      fail("'>' must be the whole last token");
    if (token.find('*') != std::string_view::npos && token != "*")
      fail("'*' must be a whole token");
  }
}

// Stream and consumer names: no whitespace, '.', '*', '>', '/', '\'.
void check_name(const SettingValue& value, const std::string& name) {
  if (name.empty()) value.refuse("must not be empty");
  if (name.find_first_of(" \t\r\n.*>/\\") != std::string::npos)
    value.refuse("must not contain whitespace or any of . * > / \\");
}

// [nats://|tls://][user[:password]@]host[:port]
void check_server(const SettingValue& value, const std::string& url) {
  std::string_view rest = url;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    const std::string name = ascii_lower(rest.substr(0, scheme));
    if (name != "nats" && name != "tls")
      value.refuse("has a server '" + redact_url(url) + "' with an unknown scheme (use nats:// or tls://)");
    rest.remove_prefix(scheme + 3);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (rest.empty() || rest.find_first_of(" \t/") != std::string_view::npos)
    value.refuse("has a malformed server URL '" + redact_url(url) + "'");
  std::string_view host = rest;
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.back() != ']') {
    host = rest.substr(0, colon);
    const std::string port(rest.substr(colon + 1));
    char* end = nullptr;
    const long number = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || number < 1 || number > 65535)
      value.refuse("has a server '" + redact_url(url) + "' with a bad port");
  }
  if (host.empty()) value.refuse("has a server '" + redact_url(url) + "' without a host");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

bool NatsConfig::tls() const {
  if (!tls_ca.empty() || !tls_cert.empty() || !tls_key.empty()) return true;
  return std::any_of(servers.begin(), servers.end(),
                     [](const std::string& url) { return ascii_lower(url).rfind("tls://", 0) == 0; });
}

NatsConfig read_nats_config(const Json& source, const std::string& source_location,
                            const EnvLookup& lookup, const std::vector<SettingOverride>& overrides) {
  const SettingReader settings(lookup, overrides, source, source_location);
  NatsConfig config;
  config.enabled = settings.get("NATS_ENABLED").boolean();
  {
    const auto servers = settings.get("NATS_SERVERS");
    config.servers = servers.list();
    for (const auto& url : config.servers) check_server(servers, url);
  }
  {
    const auto subjects = settings.get("NATS_SUBJECTS");
    config.subjects = subjects.list();
    for (const auto& subject : config.subjects) check_subject(subjects, subject);
    std::set<std::string> seen;
    for (const auto& subject : config.subjects)
      if (!seen.insert(subject).second) subjects.refuse("lists '" + subject + "' twice");
  }
  {
    const auto group = settings.get("NATS_QUEUE_GROUP");
    config.queue_group = group.text();
    if (config.queue_group.empty() || config.queue_group.find_first_of(" \t\r\n") != std::string::npos)
      group.refuse("must be a non-empty name without whitespace");
  }

  config.user = settings.get("NATS_USER").text();
  config.password = settings.get("NATS_PASSWORD").text();
  config.token = settings.get("NATS_TOKEN").text();
  config.creds_file = settings.get("NATS_CREDS").text();
  if (const auto seed = settings.get("NATS_NKEY_SEED"); !seed.text().empty()) {
    config.nkey_seed_file = seed.text();
    std::ifstream file(config.nkey_seed_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) seed.refuse("cannot be read");
    try {
      config.nkey_public = nkey_public_key(text);
    } catch (const ConfigError& error) {
      seed.refuse(error.what());
    }
  }
  config.tls_ca = settings.get("NATS_TLS_CA").text();
  config.tls_cert = settings.get("NATS_TLS_CERT").text();
  config.tls_key = settings.get("NATS_TLS_KEY").text();
  if (config.user.empty() != config.password.empty())
    throw ConfigError(config.user.empty() ? "NATS_PASSWORD is set but NATS_USER is not: set both"
                                          : "NATS_USER is set but NATS_PASSWORD is not: set both");
  const int methods = !config.user.empty() + !config.token.empty() + !config.creds_file.empty() +
                      !config.nkey_seed_file.empty();
  if (methods > 1)
    throw ConfigError(
        "set only one of NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS and NATS_NKEY_SEED (several are set)");
  if (config.tls_cert.empty() != config.tls_key.empty())
    throw ConfigError(config.tls_cert.empty() ? "NATS_TLS_KEY is set but NATS_TLS_CERT is not: set both"
                                              : "NATS_TLS_CERT is set but NATS_TLS_KEY is not: set both");

  // The bounds of the table keep these within int.
  const auto integer = [&](const char* variable) { return static_cast<int>(settings.get(variable).integer()); };
  config.pending_msgs = integer("NATS_PENDING_MSGS");
  config.pending_bytes = integer("NATS_PENDING_BYTES");
  config.spool_max_bytes = static_cast<std::uint64_t>(settings.get("NATS_SPOOL_MAX_BYTES").integer());

  config.jetstream = settings.get("NATS_JETSTREAM").boolean();
  {
    const auto stream = settings.get("NATS_STREAM");
    config.stream = stream.text();
    check_name(stream, config.stream);
  }
  config.stream_create = settings.get("NATS_STREAM_CREATE").boolean();
  {
    const auto durable = settings.get("NATS_DURABLE");
    config.durable = durable.text();
    check_name(durable, config.durable);
  }
  config.max_deliver = integer("NATS_MAX_DELIVER");
  config.ack_wait_seconds = integer("NATS_ACK_WAIT_SECONDS");
  config.fetch_batch = integer("NATS_FETCH_BATCH");
  config.max_ack_pending = integer("NATS_MAX_ACK_PENDING");
  return config;
}

std::vector<std::string> unknown_nats_variables() {
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string name(text.substr(0, text.find('=')));
    if (name.rfind("NATS_", 0) != 0 || find_setting(name)) continue;
    std::string best;
    std::size_t best_distance = 4;
    for (const auto& setting : setting_table()) {
      if (std::string_view(setting.variable).rfind("NATS_", 0) != 0) continue;
      const std::size_t distance = edit_distance(name, setting.variable);
      if (distance < best_distance) best_distance = distance, best = setting.variable;
    }
    if (name == "NATS_URL") best = "NATS_SERVERS";
    out.push_back(best.empty() ? name : name + " (did you mean " + best + "?)");
  }
  return out;
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
  for (;;) {
    const auto pattern_dot = pattern.find('.');
    const auto subject_dot = subject.find('.');
    const std::string_view token = pattern.substr(0, pattern_dot);
    if (token == ">") return !subject.empty();
    if (subject.empty()) return false;
    if (token != "*" && token != subject.substr(0, subject_dot)) return false;
    if (pattern_dot == std::string_view::npos || subject_dot == std::string_view::npos)
      return pattern_dot == std::string_view::npos && subject_dot == std::string_view::npos;
    pattern.remove_prefix(pattern_dot + 1);
    subject.remove_prefix(subject_dot + 1);
  }
}

std::string server_list(const std::vector<std::string>& servers) {
  std::string out;
  for (const auto& url : servers) out += (out.empty() ? "" : ", ") + redact_url(url);
  return out;
}

}  // namespace customeriq
