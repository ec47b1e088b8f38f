// libFuzzer target: bytes a source could deliver → Pipeline::process (decode,
// route, the real handler plugins) → every value StoreWriter binds for the
// result, checked against what the store needs. A violation aborts with a
// message naming the pipeline, the value and the field.
//
// Input: the event bytes, as a NATS message body or an ingested line. An
// input that starts with \x01 carries a subject and headers first, as NATS
// delivers them:
//   \x01<subject>\n<Name>: <value>\n...\n\n<body>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <customeriq/sdk/sdk.hpp>
#include <spdlog/spdlog.h>

#include "fuzz_support.hpp"
#include "pipeline/pipeline.hpp"
#include "config/pipeline_config.hpp"
#include "plugin_host/plugin_loader.hpp"
#include "work_item.hpp"

namespace {

using customeriq::Json;
namespace sdk = customeriq::sdk;

constexpr char kEnvelopeMarker = '\x01';
// Short enough that fuzzed text reaches the summarizers, which the shipped
// threshold (500 characters) leaves to the rare long input.
constexpr std::size_t kShortThreshold = 24;

struct Variant {
  std::string name;
  std::unique_ptr<customeriq::Pipeline> pipeline;
};

struct Summarizer {
  std::string name;
  customeriq::SummarizerPtr summarizer;
};

// Built once in LLVMFuzzerInitialize and never destroyed: the plugins stay
// loaded for every input.
std::vector<Variant>* variants = nullptr;
std::vector<Summarizer>* summarizers = nullptr;

using customeriq::fuzz::printable;

// Well-formed UTF-8 (RFC 3629): no cut or overlong sequences, no surrogates,
// nothing above U+10FFFF. What nlohmann::json dump() and SQLite's text
// functions expect.
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) length = 3, low = 0xA0;
    else if (lead == 0xED) length = 3, high = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
    else if (lead == 0xF0) length = 4, low = 0x90;
    else if (lead == 0xF4) length = 4, high = 0x8F;
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    else return false;
    if (i + length > text.size()) return false;
    if (byte(i + 1) < low || byte(i + 1) > high) return false;
    for (std::size_t k = 2; k < length; ++k)
      if ((byte(i + k) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

// Checks the values one WriteItem makes the writer bind. `where` names the
// pipeline variant and the mutation in every message.
class Checker {
 public:
  Checker(const std::string& pipeline, std::string_view input) : pipeline_(pipeline), input_(input) {}

  void at(std::string where) { where_ = std::move(where); }

  [[noreturn]] void fail(const std::string& what) const {
    std::fprintf(stderr,
                 "\n==pipeline_fuzz== INVARIANT VIOLATED (pipeline %s, %s): %s\n"
                 "==pipeline_fuzz== input: %s\n",
                 pipeline_.c_str(), where_.c_str(), what.c_str(), printable(input_).c_str());
    std::fflush(stderr);
    std::abort();
  }

  void text(const char* field, std::string_view value) const {
    if (!valid_utf8(value))
      fail(std::string(field) + " is bound as TEXT but is not valid UTF-8: \"" + printable(value) + "\"");
  }
  void text_if_present(const char* field, const std::optional<std::string>& value) const {
    if (value) text(field, *value);
  }
  void non_empty_text(const char* field, std::string_view value) const {
    if (value.empty()) fail(std::string(field) + " is empty");
    text(field, value);
  }

  void number(const char* field, double value) const {
    if (!std::isfinite(value)) fail(std::string(field) + " is not finite: " + std::to_string(value));
  }
  void number(const char* field, const std::optional<double>& value) const {
    if (value) number(field, *value);
  }

  // What the writer binds for a JSON column: dump() must not throw, and the
  // text must be valid UTF-8.
  void json(const char* field, const Json& value) const {
    std::string dumped;
    try {
      dumped = value.dump();
    } catch (const std::exception& error) {
      fail(std::string(field) + ".dump() threw: " + error.what());
    }
    text(field, dumped);
  }
  void json(const char* field, const std::optional<Json>& value) const {
    if (value) json(field, *value);
  }
  void json_object(const char* field, const std::optional<Json>& value) const {
    if (!value) return;
    if (!value->is_object()) fail(std::string(field) + " must be a JSON object, got " + value->type_name());
    json(field, *value);
  }
  void string_array(const char* field, const std::optional<Json>& value) const {
    if (!value) return;
    if (!value->is_array()) fail(std::string(field) + " must be a JSON array, got " + value->type_name());
    for (const Json& item : *value)
      if (!item.is_string()) fail(std::string(field) + " must hold only strings, got " + item.type_name());
    json(field, *value);
  }

  // What record_dead_letter binds: the reason, subject, headers as JSON,
  // event_type and idempotency key as TEXT, the raw bytes as a BLOB.
  void dead_letter_fields(std::string_view subject, const customeriq::Headers& headers,
                          std::string_view event_type, std::string_view idempotency_key) const {
    text("dead_letters.subject", subject);
    Json array = Json::array();
    for (const auto& [name, value] : headers) array.push_back({name, value});
    json("dead_letters.headers", array);
    text("dead_letters.event_type", event_type);
    text("dead_letters.idempotency_key", idempotency_key);
  }

  void dead_letter(const customeriq::DeadLetter& letter) {
    at("dead letter");
    if (letter.reason.empty()) fail("dead letter without a reason");
    text("dead_letters.reason", letter.reason);
    if (letter.raw != input_body_)
      fail("dead letter does not keep the message whole: raw is \"" + printable(letter.raw) + "\"");
    dead_letter_fields(letter.subject, letter.headers, letter.event_type, letter.idempotency_key);
  }

  void handled(const customeriq::HandledEvent& handled) {
    const sdk::Event& event = handled.event;
    at("event " + event.event_type + " via plugin " + handled.handler_id);
    non_empty_text("event_type", event.event_type);
    non_empty_text("idempotency_key", event.idempotency_key);
    if (event.customer_id.empty() && event.customer_email.empty()) fail("no customer_id and no customer_email");
    text("customers.id", event.customer_id);
    text("customers.email", event.customer_email);
    if (auto name = event.data.find("customer_name"); name != event.data.end() && name->is_string())
      text("customers.name", name->get_ref<const std::string&>());
    text("customer_events.source_service", event.source_service);
    // raw_event_data is bound as TEXT (bindNoCopy of a std::string).
    if (event.raw != input_body_)
      fail("the event's raw bytes are not the message: \"" + printable(event.raw) + "\"");
    text("customer_events.raw_event_data", event.raw);
    // A NUL cannot appear in JSON text: one here means bytes after the JSON
    // value were ignored, and they still make the idempotency hash differ.
    if (const auto nul = event.raw.find('\0'); nul != std::string::npos)
      fail("an applied event's raw bytes hold a NUL at byte " + std::to_string(nul) +
           ": bytes after the JSON value were ignored");
    // The store may still reject the event and dead-letter it with these.
    dead_letter_fields(event.subject, event.headers, event.event_type, event.idempotency_key);

    for (std::size_t i = 0; i < handled.mutations.size(); ++i) {
      std::visit([&](const auto& m) { mutation(i, m); }, handled.mutations[i]);
    }
  }

  void expect_body(std::string body) { input_body_ = std::move(body); }

 private:
  void mutation(std::size_t i, const sdk::UpdateCustomer& m) {
    at(where_prefix(i) + "UpdateCustomer");
    text_if_present("customers.name", m.name);
    text_if_present("customers.email", m.email);
    text_if_present("customers.phone", m.phone);
    text_if_present("customers.company", m.company);
    text_if_present("customers.status", m.status);
    string_array("customers.tags", m.tags);
    json_object("customers.custom_fields", m.custom_fields);  // json_patch merges objects
  }
  void mutation(std::size_t i, const sdk::AppendTimelineEvent& m) {
    at(where_prefix(i) + "AppendTimelineEvent");
    text("customer_events.event_type", m.event_type);
    text_if_present("customer_events.title", m.title);
    text_if_present("customer_events.description", m.description);
    number("customer_events.amount", m.amount);
    text_if_present("customer_events.status", m.status);
    json("customer_events.metadata", m.metadata);
    text_if_present("customer_events.agent_notes", m.agent_notes);
  }
  void mutation(std::size_t i, const sdk::UpsertPurchase& m) {
    at(where_prefix(i) + "UpsertPurchase");
    non_empty_text("purchases.id", m.purchase_id);
    text_if_present("purchases.product_name", m.product_name);
    text_if_present("purchases.product_sku", m.product_sku);
    number("purchases.price", m.price);
    number("purchases.total", m.total);
    json("purchases.metadata", m.metadata);
  }
  void mutation(std::size_t i, const sdk::UpsertWorkOrder& m) {
    at(where_prefix(i) + "UpsertWorkOrder");
    non_empty_text("work_orders.id", m.work_order_id);
    text_if_present("work_orders.order_type", m.order_type);
    text_if_present("work_orders.issue_description", m.issue_description);
    text_if_present("work_orders.resolution", m.resolution);
    text_if_present("work_orders.status", m.status);
    text_if_present("work_orders.priority", m.priority);
    text_if_present("work_orders.assigned_to", m.assigned_to);
    number("work_orders.cost", m.cost);
    json_object("work_orders.metadata", m.metadata);  // json_patch merges objects
  }
  void mutation(std::size_t i, const sdk::AddKnowledge& m) {
    at(where_prefix(i) + "AddKnowledge");
    non_empty_text("customer_knowledge.content", m.content);
    text("customer_knowledge.category", m.category);
    if (m.importance < 1 || m.importance > 10)
      fail("customer_knowledge.importance is outside 1..10: " + std::to_string(m.importance));
    string_array("customer_knowledge.tags", m.tags);
    text("customer_knowledge.source", m.source);
  }
  void mutation(std::size_t i, const sdk::AdjustLifetimeValue& m) {
    at(where_prefix(i) + "AdjustLifetimeValue");
    number("customers.lifetime_value delta", m.delta);
  }

  static std::string where_prefix(std::size_t i) { return "mutation " + std::to_string(i) + " "; }

  const std::string& pipeline_;
  std::string_view input_;
  std::string input_body_;
  std::string where_;
};

// The Summarizer contract (sdk/summarizer.hpp), called directly: the core
// cuts an overlong summary itself, which would hide a summarizer that breaks
// it. Only text longer than max_chars is passed, as the core does.
void check_summaries(const sdk::Event& event, std::string_view input) {
  static const std::string kPipeline = "summarizers";
  Checker check(kPipeline, input);
  for (const Json* object : {&event.data, &event.metadata}) {
    for (const auto& [key, value] : object->items()) {
      if (!value.is_string()) continue;
      const std::string& text = value.get_ref<const std::string&>();
      const std::size_t length = sdk::utf8_length(text);
      if (length == 0) continue;
      for (const std::size_t max_chars : {std::size_t{0}, std::size_t{1}, std::size_t{2}, length / 2, length - 1}) {
        if (max_chars >= length) continue;
        for (const auto& [name, summarizer] : *summarizers) {
          check.at(name + ".summarize(data." + key + ", " + std::to_string(max_chars) + ")");
          std::string summary;
          try {
            summary = summarizer->summarize(text, max_chars);
          } catch (const std::exception& error) {
            check.fail(std::string("threw: ") + error.what());
          }
          check.text("the summary", summary);
          if (sdk::utf8_length(summary) > max_chars) {
            check.fail("the summary has " + std::to_string(sdk::utf8_length(summary)) +
                       " characters, over the limit: \"" + printable(summary) + "\"");
          }
        }
      }
    }
  }
}

// The message a source would hand to the pipeline, and its body.
customeriq::RawMessage message_from(std::string_view input) {
  customeriq::RawMessage message;
  message.subject = "customer.events.fuzz";
  if (input.empty() || input.front() != kEnvelopeMarker) {
    message.bytes = std::string(input);
    return message;
  }
  input.remove_prefix(1);
  // nats.c hands subjects and header values over as C strings: no NULs.
  auto next_line = [&]() {
    const std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    return line.substr(0, line.find('\0'));
  };
  message.subject = std::string(next_line());
  while (!input.empty()) {
    const std::string_view line = next_line();
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    message.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  message.bytes = std::string(input);
  return message;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Every dead letter logs a warning; the fuzzer makes millions of them.
  spdlog::set_level(std::getenv("CUSTOMERIQ_FUZZ_LOG") ? spdlog::level::debug : spdlog::level::off);
  // Only this build's instrumented plugins, never a folder from the caller's environment.
  unsetenv("CUSTOMERIQ_PLUGIN_DIR");
  try {
    const auto config = customeriq::load_pipeline_config(CUSTOMERIQ_DEFAULT_PIPELINE);
    variants = new std::vector<Variant>();
    variants->push_back({"default.yaml", std::make_unique<customeriq::Pipeline>(config)});
    variants->push_back({"default.yaml, threshold " + std::to_string(kShortThreshold),
                         std::make_unique<customeriq::Pipeline>(config, kShortThreshold)});
    auto truncating = config;
    if (!truncating.summarizer) throw std::runtime_error(std::string(CUSTOMERIQ_DEFAULT_PIPELINE) + " has no summarizer");
    truncating.summarizer->plugin = "truncate";
    truncating.summarizer->config = Json::object();
    variants->push_back({"default.yaml, truncate, threshold " + std::to_string(kShortThreshold),
                         std::make_unique<customeriq::Pipeline>(truncating, kShortThreshold)});

    summarizers = new std::vector<Summarizer>();
    for (const char* id : {"extractive", "truncate"}) {
      auto plugin = customeriq::load_plugin(customeriq::find_plugin_file(id, config.plugin_path));
      summarizers->push_back({id, plugin->create_summarizer(plugin->resolve_config(Json::object()))});
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "pipeline_fuzz: cannot build the pipeline: %s\n", error.what());
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bool summaries_checked = false;
  for (const auto& variant : *variants) {
    customeriq::RawMessage message = message_from(input);
    Checker check(variant.name, input);
    check.expect_body(message.bytes);
    customeriq::WriteItem item;
    try {
      item = variant.pipeline->process(std::move(message));
    } catch (const std::exception& error) {
      check.at("Pipeline::process");
      check.fail(std::string("threw (it must never throw): ") + error.what());
    } catch (...) {
      check.at("Pipeline::process");
      check.fail("threw a non-standard exception (it must never throw)");
    }
    if (const auto* letter = std::get_if<customeriq::DeadLetter>(&item.content)) {
      check.dead_letter(*letter);
    } else {
      const auto& handled = std::get<customeriq::HandledEvent>(item.content);
      check.handled(handled);
      if (!summaries_checked) {
        check_summaries(handled.event, input);
        summaries_checked = true;
      }
    }
  }
  return 0;
}
