#include "config/pipeline_config.hpp"

#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <set>

#include <yaml-cpp/yaml.h>

namespace customeriq {
namespace {

class YamlReader {
 public:
  explicit YamlReader(std::filesystem::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    throw ConfigError(where(node.Mark()) + ": " + message);
  }

  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_.string();
    return file_.string() + ":" + std::to_string(mark.line + 1) + ":" +
           std::to_string(mark.column + 1);
  }

  void expect_keys(const YAML::Node& map, const char* what,
                   std::initializer_list<const char*> allowed) const {
    if (!map.IsMap()) fail(map, std::string(what) + " must be a mapping");
    std::set<std::string> known(allowed.begin(), allowed.end());
    for (const auto& entry : map) {
      const std::string key = key_of(entry.first, what);
      if (!known.count(key)) {
        std::string list;
        for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
        fail(entry.first, "unknown key '" + key + "' in " + what + " (expected one of: " + list + ")");
      }
    }
  }

  std::string key_of(const YAML::Node& key, const char* what) const {
    if (!key.IsScalar()) fail(key, std::string("a key in ") + what + " must be a plain string");
    return key.Scalar();
  }

  std::string string(const YAML::Node& node, const char* what) const {
    if (!node.IsScalar()) fail(node, std::string(what) + " must be a string");
    return interpolate_at(node);
  }

  // A name that selects something (a plugin, an event type): an empty one,
  // e.g. from an unset ${VAR:-}, would select nothing and fail far from here.
  std::string name(const YAML::Node& node, const char* what) const {
    std::string text = string(node, what);
    if (text.empty()) fail(node, std::string(what) + " is empty");
    return text;
  }

  long long integer(const YAML::Node& node, const char* what, long long min, long long max) const {
    if (!node.IsScalar()) fail(node, std::string(what) + " must be an integer");
    const std::string text = interpolate_at(node);
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || value < min || value > max) {
      fail(node, std::string(what) + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got '" + text + "'");
    }
    return value;
  }

  bool boolean(const YAML::Node& node, const char* what) const {
    if (!node.IsScalar()) fail(node, std::string(what) + " must be true or false");
    const std::string text = interpolate_at(node);
    if (text == "true") return true;
    if (text == "false") return false;
    fail(node, std::string(what) + " must be true or false, got '" + text + "'");
  }

  std::vector<std::string> string_list(const YAML::Node& node, const char* what) const {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(string(node, what));
      return out;
    }
    if (!node.IsSequence()) fail(node, std::string(what) + " must be a list of strings");
    for (const auto& item : node) out.push_back(string(item, what));
    return out;
  }

  // A YAML value as JSON. Plain scalars are typed (true/false, integers,
  // numbers, null); quoted scalars stay strings.
  Json to_json(const YAML::Node& node) const {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Sequence: {
        Json array = Json::array();
        for (const auto& item : node) array.push_back(to_json(item));
        return array;
      }
      case YAML::NodeType::Map: {
        Json object = Json::object();
        for (const auto& entry : node) object[key_of(entry.first, "mapping")] = to_json(entry.second);
        return object;
      }
      case YAML::NodeType::Scalar:
        break;
    }
    const std::string text = interpolate_at(node);
    if (node.Tag() == "!") return text;  // quoted
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (text == "null" || text == "~") return nullptr;
    if (!text.empty()) {
      char* end = nullptr;
      errno = 0;
      const long long integer_value = std::strtoll(text.c_str(), &end, 10);
      if (*end == '\0' && errno != ERANGE) return integer_value;
      const double number = std::strtod(text.c_str(), &end);
      if (*end == '\0') return number;
    }
    return text;
  }

 private:
  std::string interpolate_at(const YAML::Node& node) const {
    try {
      return interpolate(node.Scalar());
    } catch (const ConfigError& error) {
      fail(node, error.what());
    }
  }

  std::filesystem::path file_;
};

PipelineConfig read_pipeline(YamlReader& reader, const YAML::Node& root, PipelineConfig config) {
  if (!root.IsMap()) throw ConfigError(config.file.string() + ": a pipeline is a YAML mapping");
  reader.expect_keys(root, "pipeline",
                     {"version", "plugin_path", "summarizer", "handlers", "limits", "writer", "identity",
                      "source"});

  if (root["version"] && reader.integer(root["version"], "version", 1, 1) != 1)
    reader.fail(root["version"], "unsupported pipeline version");

  if (const auto path = root["plugin_path"]) {
    for (const std::string& folder : reader.string_list(path, "plugin_path")) {
      if (folder.empty()) continue;  // an unset ${VAR:-} adds nothing
      std::filesystem::path dir(folder);
      if (dir.is_relative()) dir = config.file.parent_path() / dir;
      config.plugin_path.push_back(dir.lexically_normal());
    }
  }

  if (const auto node = root["summarizer"]; node && !node.IsNull()) {
    reader.expect_keys(node, "summarizer", {"plugin", "threshold", "config"});
    SummarizerSpec spec;
    spec.location = reader.where(node.Mark());
    if (!node["plugin"]) reader.fail(node, "summarizer needs a plugin");
    spec.plugin = reader.name(node["plugin"], "summarizer.plugin");
    if (node["threshold"])
      spec.threshold = static_cast<std::size_t>(
          reader.integer(node["threshold"], "summarizer.threshold", 1, 1 << 20));
    if (node["config"]) {
      if (!node["config"].IsMap() && !node["config"].IsNull())
        reader.fail(node["config"], "summarizer.config must be a mapping");
      if (node["config"].IsMap()) spec.config = reader.to_json(node["config"]);
    }
    if (spec.plugin != "none") config.summarizer = std::move(spec);
  }

  const auto handlers = root["handlers"];
  if (!handlers || !handlers.IsSequence() || handlers.size() == 0)
    reader.fail(handlers ? handlers : root, "handlers must be a non-empty list");
  for (const auto& node : handlers) {
    reader.expect_keys(node, "handler", {"plugin", "event_types", "config"});
    PluginSpec spec;
    spec.location = reader.where(node.Mark());
    if (!node["plugin"]) reader.fail(node, "handler needs a plugin");
    spec.plugin = reader.name(node["plugin"], "plugin");
    if (node["event_types"]) {
      spec.event_types = reader.string_list(node["event_types"], "event_types");
      if (spec.event_types.empty()) reader.fail(node["event_types"], "event_types is empty");
      for (const auto& type : spec.event_types)
        if (type.empty()) reader.fail(node["event_types"], "event_types holds an empty name");
    }
    if (node["config"]) {
      if (!node["config"].IsMap() && !node["config"].IsNull())
        reader.fail(node["config"], "config must be a mapping");
      if (node["config"].IsMap()) spec.config = reader.to_json(node["config"]);
    }
    config.handlers.push_back(std::move(spec));
  }

  if (const auto limits = root["limits"]) {
    reader.expect_keys(limits, "limits", {"max_event_bytes", "max_nesting_depth"});
    if (limits["max_event_bytes"])
      config.max_event_bytes = static_cast<std::size_t>(
          reader.integer(limits["max_event_bytes"], "limits.max_event_bytes", 64, 1LL << 30));
    // Bounded above: deeper JSON would exhaust the stack of recursive code.
    if (limits["max_nesting_depth"])
      config.max_nesting_depth = static_cast<std::size_t>(
          reader.integer(limits["max_nesting_depth"], "limits.max_nesting_depth", 2, 512));
  }

  if (const auto writer = root["writer"]) {
    reader.expect_keys(writer, "writer", {"batch_max_events", "batch_max_delay_ms", "queue_capacity", "pipeline_threads"});
    if (writer["batch_max_events"])
      config.batch_max_events = static_cast<std::size_t>(
          reader.integer(writer["batch_max_events"], "writer.batch_max_events", 1, 100000));
    if (writer["batch_max_delay_ms"])
      config.batch_max_delay_ms = static_cast<int>(
          reader.integer(writer["batch_max_delay_ms"], "writer.batch_max_delay_ms", 0, 60000));
    if (writer["queue_capacity"])
      config.queue_capacity = static_cast<std::size_t>(
          reader.integer(writer["queue_capacity"], "writer.queue_capacity", 1, 10000000));
    if (writer["pipeline_threads"])
      config.pipeline_threads = static_cast<std::size_t>(
          reader.integer(writer["pipeline_threads"], "writer.pipeline_threads", 0, 64));
  }

  if (const auto identity = root["identity"]) {
    reader.expect_keys(identity, "identity", {"auto_merge"});
    if (identity["auto_merge"]) config.auto_merge = reader.boolean(identity["auto_merge"], "identity.auto_merge");
  }

  if (const auto source = root["source"]) {
    if (!source.IsMap()) reader.fail(source, "source must be a mapping");
    config.source = reader.to_json(source);
    config.source_location = reader.where(source.Mark());
  }
  return config;
}

}  // namespace

PipelineConfig load_pipeline_config(const std::filesystem::path& file) {
  PipelineConfig config;
  config.file = std::filesystem::absolute(file).lexically_normal();
  YamlReader reader(config.file);

  if (!std::filesystem::exists(config.file))
    throw ConfigError(config.file.string() + ": pipeline file not found");
  YAML::Node root;
  try {
    root = YAML::LoadFile(config.file.string());
  } catch (const YAML::ParserException& error) {
    throw ConfigError(reader.where(error.mark) + ": malformed YAML: " + error.msg);
  } catch (const YAML::Exception& error) {
    throw ConfigError(config.file.string() + ": " + error.what());
  }
  // The reader checks every node's kind before converting it; this catch is
  // for whatever yaml-cpp still throws (an odd tag, a conversion), so a
  // broken file always fails as a ConfigError naming the file and position.
  try {
    return read_pipeline(reader, root, std::move(config));
  } catch (const YAML::Exception& error) {
    throw ConfigError(reader.where(error.mark) + ": " + error.msg);
  }
}

}  // namespace customeriq
