#include "sources/nats/nats_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <set>

extern char** environ;

namespace customeriq {
namespace {

using Json = nlohmann::json;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    items.push_back(trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

enum class Kind { text, list, boolean, integer };

// One setting: its variable, its YAML key, how to read it.
struct Field {
  const char* variable;  // NATS_...
  const char* key;       // source.<key>
  Kind kind;
  long long min = 0, max = 0;  // integers
};

constexpr Field kFields[] = {
    {"NATS_ENABLED", "enabled", Kind::boolean},
    {"NATS_SERVERS", "servers", Kind::list},
    {"NATS_SUBJECTS", "subjects", Kind::list},
    {"NATS_QUEUE_GROUP", "queue_group", Kind::text},
    {"NATS_USER", "user", Kind::text},
    {"NATS_PASSWORD", "password", Kind::text},
    {"NATS_TOKEN", "token", Kind::text},
    {"NATS_CREDS", "creds", Kind::text},
    {"NATS_TLS_CA", "tls_ca", Kind::text},
    {"NATS_TLS_CERT", "tls_cert", Kind::text},
    {"NATS_TLS_KEY", "tls_key", Kind::text},
    {"NATS_PENDING_MSGS", "pending_msgs", Kind::integer, 1, INT_MAX},
    {"NATS_PENDING_BYTES", "pending_bytes", Kind::integer, 1024, INT_MAX},
    {"NATS_JETSTREAM", "jetstream", Kind::boolean},
    {"NATS_STREAM", "stream", Kind::text},
    {"NATS_STREAM_CREATE", "stream_create", Kind::boolean},
    {"NATS_DURABLE", "durable", Kind::text},
    {"NATS_MAX_DELIVER", "max_deliver", Kind::integer, 1, 1000000},
    {"NATS_ACK_WAIT_SECONDS", "ack_wait_seconds", Kind::integer, 1, 86400},
    {"NATS_FETCH_BATCH", "fetch_batch", Kind::integer, 1, 10000},
    {"NATS_MAX_ACK_PENDING", "max_ack_pending", Kind::integer, 1, 10000000},
};

// Read by settings.cpp and scripts/serve-local.sh, not here, but
// CustomerIQ variables all the same.
constexpr const char* kOtherVariables[] = {"NATS_SUMMARIZE_THRESHOLD", "NATS_AUTO_CREATE_CUSTOMER",
                                           "NATS_MONITOR_PORT"};

// A value, as read from one place, with what to name in an error.
struct Value {
  std::string text;                      // from the environment (or an option), or a YAML scalar
  std::optional<Json> json;              // from YAML
  std::string name;                      // "NATS_X", "--option" or "<location>: source.x"
  bool from_env = false;                 // the environment or an option: text, no json
};

// Values that are secrets as a whole: never shown.
bool is_secret(const Field& field) {
  return field.variable == std::string_view("NATS_PASSWORD") ||
         field.variable == std::string_view("NATS_TOKEN");
}

// Values that hold secrets in part: server URLs, shown redacted.
bool holds_urls(const Field& field) { return field.variable == std::string_view("NATS_SERVERS"); }

std::string type_of(const Json& json) {
  if (json.is_object()) return "a mapping";
  if (json.is_array()) return "a list";
  if (json.is_string()) return "a string";
  if (json.is_boolean()) return "a boolean";
  if (json.is_number()) return "a number";
  return "null";
}

// A comma-separated list of URLs with each one redacted, separators kept.
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

// The value as an error may show it.
std::string shown(const Field& field, const Value& value) {
  if (value.from_env) return holds_urls(field) ? redact_url_list(value.text) : value.text;
  const Json& json = *value.json;
  if (is_secret(field)) return type_of(json);
  if (!holds_urls(field)) return json.dump();
  if (json.is_string()) return Json(redact_url_list(json.get<std::string>())).dump();
  if (!json.is_array()) return type_of(json);
  Json redacted = Json::array();
  for (const auto& item : json)
    redacted.push_back(item.is_string() ? Json(redact_url(item.get<std::string>())) : Json(type_of(item)));
  return redacted.dump();
}

[[noreturn]] void bad(const Field& field, const Value& value, const std::string& expected) {
  if (value.from_env) {
    if (is_secret(field)) throw ConfigError(value.name + " " + expected);
    throw ConfigError(value.name + "=" + shown(field, value) + " " + expected);
  }
  throw ConfigError(value.name + " " + expected + ", got " + shown(field, value));
}

std::string as_text(const Field& field, const Value& value) {
  if (value.from_env) return value.text;
  const Json& json = *value.json;
  if (json.is_string()) return json.get<std::string>();
  if (json.is_number() || json.is_boolean()) return json.dump();
  bad(field, value, "must be a string");
}

std::vector<std::string> as_list(const Field& field, const Value& value) {
  std::vector<std::string> items;
  if (!value.from_env && value.json->is_array()) {
    std::size_t position = 0;
    for (const auto& item : *value.json) {
      ++position;
      if (!item.is_string()) {
        throw ConfigError(value.name + " must be a list of strings: entry " + std::to_string(position) +
                          " is " + type_of(item));
      }
      items.push_back(trim(item.get<std::string>()));
    }
  } else if (!value.from_env && (value.json->is_object() || value.json->is_null())) {
    bad(field, value, "must be a list of strings or a comma-separated string");
  } else {
    items = split_list(as_text(field, value));
  }
  if (items.empty() || std::any_of(items.begin(), items.end(), [](const auto& s) { return s.empty(); }))
    bad(field, value, "must be a non-empty comma-separated list with no empty entry");
  return items;
}

bool as_bool(const Field& field, const Value& value) {
  if (!value.from_env && value.json->is_boolean()) return value.json->get<bool>();
  const std::string text = lower(as_text(field, value));
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  bad(field, value, "is not a boolean (use true/false, 1/0, yes/no, on/off)");
}

long long as_integer(const Field& field, const Value& value) {
  const std::string range = "is not an integer from " + std::to_string(field.min) + " to " +
                            std::to_string(field.max);
  long long number = 0;
  if (!value.from_env && value.json->is_number_integer()) {
    number = value.json->get<long long>();
  } else {
    const std::string text = as_text(field, value);
    errno = 0;
    char* end = nullptr;
    number = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE) bad(field, value, range);
  }
  if (number < field.min || number > field.max) bad(field, value, range);
  return number;
}

// NATS subjects: dot-separated non-empty tokens, no whitespace; '*' is a
// whole token; '>' is a whole last token.
void check_subject(const Field& field, const Value& value, const std::string& subject) {
  const auto fail = [&](const std::string& why) {
    bad(field, value, "has an invalid subject '" + subject + "': " + why);
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
void check_name(const Field& field, const Value& value, const std::string& name) {
  if (name.empty()) bad(field, value, "must not be empty");
  if (name.find_first_of(" \t\r\n.*>/\\") != std::string::npos)
    bad(field, value, "must not contain whitespace or any of . * > / \\");
}

// [nats://|tls://][user[:password]@]host[:port]
void check_server(const Field& field, const Value& value, const std::string& url) {
  std::string_view rest = url;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    const std::string name = lower(std::string(rest.substr(0, scheme)));
    if (name != "nats" && name != "tls")
      bad(field, value, "has a server '" + redact_url(url) + "' with an unknown scheme (use nats:// or tls://)");
    rest.remove_prefix(scheme + 3);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (rest.empty() || rest.find_first_of(" \t/") != std::string_view::npos)
    bad(field, value, "has a malformed server URL '" + redact_url(url) + "'");
  std::string_view host = rest;
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.back() != ']') {
    host = rest.substr(0, colon);
    const std::string port(rest.substr(colon + 1));
    char* end = nullptr;
    const long number = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || number < 1 || number > 65535)
      bad(field, value, "has a server '" + redact_url(url) + "' with a bad port");
  }
  if (host.empty()) bad(field, value, "has a server '" + redact_url(url) + "' without a host");
}

void check_file(const Field& field, const Value& value, const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    bad(field, value, "names a file that does not exist or is not a regular file");
}

const Field& field_named(const char* variable) {
  for (const auto& field : kFields)
    if (std::string_view(field.variable) == variable) return field;
  throw std::logic_error(std::string("no NATS field ") + variable);
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
                     [](const std::string& url) { return lower(url).rfind("tls://", 0) == 0; });
}

NatsConfig read_nats_config(const Json& source, const std::string& source_location,
                            const EnvLookup& lookup, const std::vector<NatsOption>& options) {
  for (const auto& option : options) field_named(option.variable);  // a known variable
  if (!source.is_null() && !source.is_object())
    throw ConfigError(source_location + ": source must be a mapping");
  // Unknown YAML keys first: a typo there would otherwise be silently ignored.
  if (source.is_object()) {
    for (const auto& [key, ignored] : source.items()) {
      const bool known = std::any_of(std::begin(kFields), std::end(kFields),
                                     [&](const Field& field) { return key == field.key; });
      if (!known) {
        std::string list;
        for (const auto& field : kFields) list += (list.empty() ? "" : ", ") + std::string(field.key);
        throw ConfigError(source_location + ": unknown key 'source." + key +
                          "' (expected one of: " + list + ")");
      }
    }
  }

  // The value for a field: an option wins, then the environment, then the YAML.
  const auto value_of = [&](const Field& field) -> std::optional<Value> {
    for (const auto& option : options) {
      if (option.variable != std::string_view(field.variable)) continue;
      Value value;
      value.text = option.value;
      value.name = option.option;
      value.from_env = true;
      return value;
    }
    if (auto text = lookup(field.variable)) {
      Value value;
      value.text = *text;
      value.name = field.variable;
      value.from_env = true;
      return value;
    }
    if (source.is_object()) {
      if (auto it = source.find(field.key); it != source.end() && !it->is_null()) {
        Value value;
        value.json = *it;
        value.name = source_location + ": source." + field.key;
        return value;
      }
    }
    return std::nullopt;
  };

  NatsConfig config;
  const auto read_text = [&](const char* variable, std::string& out) -> std::optional<Value> {
    const Field& field = field_named(variable);
    auto value = value_of(field);
    if (value) {
      out = as_text(field, *value);
      // Secrets are taken as they are; names lose stray blanks.
      if (field.variable != std::string_view("NATS_PASSWORD") &&
          field.variable != std::string_view("NATS_TOKEN"))
        out = trim(out);
    }
    return value;
  };
  const auto read_bool = [&](const char* variable, bool& out) {
    const Field& field = field_named(variable);
    if (auto value = value_of(field)) out = as_bool(field, *value);
  };
  const auto read_int = [&](const char* variable, int& out) {
    const Field& field = field_named(variable);
    if (auto value = value_of(field)) out = static_cast<int>(as_integer(field, *value));
  };

  read_bool("NATS_ENABLED", config.enabled);
  {
    const Field& field = field_named("NATS_SERVERS");
    if (auto value = value_of(field)) {
      config.servers = as_list(field, *value);
      for (const auto& url : config.servers) check_server(field, *value, url);
    }
  }
  {
    const Field& field = field_named("NATS_SUBJECTS");
    if (auto value = value_of(field)) {
      config.subjects = as_list(field, *value);
      for (const auto& subject : config.subjects) check_subject(field, *value, subject);
      std::set<std::string> seen;
      for (const auto& subject : config.subjects)
        if (!seen.insert(subject).second) bad(field, *value, "lists '" + subject + "' twice");
    }
  }
  if (auto value = read_text("NATS_QUEUE_GROUP", config.queue_group)) {
    const Field& field = field_named("NATS_QUEUE_GROUP");
    if (config.queue_group.empty() || config.queue_group.find_first_of(" \t\r\n") != std::string::npos)
      bad(field, *value, "must be a non-empty name without whitespace");
  }

  read_text("NATS_USER", config.user);
  read_text("NATS_PASSWORD", config.password);
  read_text("NATS_TOKEN", config.token);
  if (auto value = read_text("NATS_CREDS", config.creds_file); value && !config.creds_file.empty())
    check_file(field_named("NATS_CREDS"), *value, config.creds_file);
  if (auto value = read_text("NATS_TLS_CA", config.tls_ca); value && !config.tls_ca.empty())
    check_file(field_named("NATS_TLS_CA"), *value, config.tls_ca);
  if (auto value = read_text("NATS_TLS_CERT", config.tls_cert); value && !config.tls_cert.empty())
    check_file(field_named("NATS_TLS_CERT"), *value, config.tls_cert);
  if (auto value = read_text("NATS_TLS_KEY", config.tls_key); value && !config.tls_key.empty())
    check_file(field_named("NATS_TLS_KEY"), *value, config.tls_key);
  if (config.user.empty() != config.password.empty())
    throw ConfigError(config.user.empty() ? "NATS_PASSWORD is set but NATS_USER is not: set both"
                                          : "NATS_USER is set but NATS_PASSWORD is not: set both");
  const int methods = !config.user.empty() + !config.token.empty() + !config.creds_file.empty();
  if (methods > 1)
    throw ConfigError(
        "set only one of NATS_USER/NATS_PASSWORD, NATS_TOKEN and NATS_CREDS (several are set)");
  if (config.tls_cert.empty() != config.tls_key.empty())
    throw ConfigError(config.tls_cert.empty() ? "NATS_TLS_KEY is set but NATS_TLS_CERT is not: set both"
                                              : "NATS_TLS_CERT is set but NATS_TLS_KEY is not: set both");

  read_int("NATS_PENDING_MSGS", config.pending_msgs);
  read_int("NATS_PENDING_BYTES", config.pending_bytes);

  read_bool("NATS_JETSTREAM", config.jetstream);
  if (auto value = read_text("NATS_STREAM", config.stream))
    check_name(field_named("NATS_STREAM"), *value, config.stream);
  read_bool("NATS_STREAM_CREATE", config.stream_create);
  if (auto value = read_text("NATS_DURABLE", config.durable))
    check_name(field_named("NATS_DURABLE"), *value, config.durable);
  read_int("NATS_MAX_DELIVER", config.max_deliver);
  read_int("NATS_ACK_WAIT_SECONDS", config.ack_wait_seconds);
  read_int("NATS_FETCH_BATCH", config.fetch_batch);
  read_int("NATS_MAX_ACK_PENDING", config.max_ack_pending);
  return config;
}

std::vector<std::string> unknown_nats_variables() {
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string name(text.substr(0, text.find('=')));
    if (name.rfind("NATS_", 0) != 0) continue;
    const bool known =
        std::any_of(std::begin(kFields), std::end(kFields),
                    [&](const Field& field) { return name == field.variable; }) ||
        std::any_of(std::begin(kOtherVariables), std::end(kOtherVariables),
                    [&](const char* other) { return name == other; });
    if (known) continue;
    std::string best;
    std::size_t best_distance = 4;
    for (const auto& field : kFields) {
      const std::size_t distance = edit_distance(name, field.variable);
      if (distance < best_distance) best_distance = distance, best = field.variable;
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

std::string server_list(const std::vector<std::string>& servers) {
  std::string out;
  for (const auto& url : servers) out += (out.empty() ? "" : ", ") + redact_url(url);
  return out;
}

}  // namespace customeriq
