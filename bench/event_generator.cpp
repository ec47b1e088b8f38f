#include "event_generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <unordered_set>

#include "json_object_writer.hpp"

namespace customeriq::bench {
namespace {

// Real words first (they take the frequent ranks), then pronounceable
// made-up words for the long tail (product names, jargon, typos...).
constexpr const char* kRealWords[] = {
    "the", "and", "to", "a", "of", "is", "it", "in", "that", "customer", "not", "for", "with",
    "was", "on", "after", "device", "when", "we", "this", "issue", "they", "but", "be", "at",
    "have", "from", "replaced", "order", "screen", "battery", "working", "again", "support",
    "said", "called", "update", "firmware", "reported", "checked", "warranty", "shipping",
    "delivery", "refund", "account", "password", "login", "error", "message", "app", "phone",
    "laptop", "tablet", "headphones", "speaker", "charger", "cable", "bluetooth", "wifi",
    "connection", "network", "router", "signal", "pairing", "audio", "sound", "volume",
    "noise", "cancelling", "microphone", "camera", "photo", "video", "display", "brightness",
    "touch", "button", "power", "restart", "reset", "factory", "settings", "software",
    "hardware", "driver", "install", "installation", "setup", "configuration", "technician",
    "visit", "appointment", "schedule", "rescheduled", "cancelled", "confirmed", "received",
    "package", "box", "damaged", "broken", "cracked", "scratched", "missing", "parts",
    "replacement", "repair", "service", "center", "store", "online", "purchase", "invoice",
    "billing", "charge", "charged", "twice", "payment", "card", "credit", "discount", "coupon",
    "promotion", "subscription", "renewal", "plan", "upgrade", "downgrade", "premium",
    "monthly", "annual", "price", "cost", "fee", "late", "early", "today", "yesterday",
    "tomorrow", "week", "month", "morning", "afternoon", "evening", "hours", "minutes", "days",
    "slow", "fast", "quickly", "finally", "still", "already", "never", "always", "sometimes",
    "often", "intermittent", "random", "constant", "overheating", "hot", "warm", "cold",
    "fan", "loud", "quiet", "clicking", "buzzing", "flickering", "freezing", "crashing",
    "crashes", "stuck", "frozen", "unresponsive", "drains", "drain", "percent", "hour",
    "charging", "charges", "port", "usb", "hdmi", "adapter", "dock", "keyboard", "mouse",
    "trackpad", "printer", "ink", "paper", "scanner", "monitor", "television", "remote",
    "thermostat", "doorbell", "lock", "sensor", "hub", "smart", "home", "kitchen", "office",
    "garage", "basement", "upstairs", "outside", "inside", "unit", "model", "serial", "number",
    "version", "latest", "previous", "original", "new", "old", "second", "third", "first",
    "last", "next", "other", "same", "different", "similar", "better", "worse", "good", "bad",
    "happy", "unhappy", "frustrated", "satisfied", "disappointed", "polite", "angry", "calm",
    "patient", "loyal", "longtime", "wants", "needs", "asked", "requested", "expects",
    "promised", "offered", "agreed", "declined", "accepted", "escalated", "resolved", "closed",
    "opened", "pending", "waiting", "follow", "up", "email", "chat", "call", "callback",
    "voicemail", "left", "right", "back", "front", "top", "bottom", "side", "corner", "edge",
    "left", "manual", "guide", "instructions", "steps", "tried", "try", "trying", "tested",
    "test", "diagnostic", "diagnosis", "logs", "sent", "attached", "photos", "receipt",
    "proof", "address", "changed", "moved", "office", "company", "business", "team", "manager",
    "supervisor", "agent", "notes", "history", "previous", "ticket", "case", "reference",
    "priority", "urgent", "critical", "important", "minor", "major", "severe", "recurring",
    "multiple", "several", "few", "many", "every", "each", "all", "none", "some", "only",
    "also", "very", "really", "quite", "about", "around", "before", "during", "while",
    "because", "since", "although", "however", "otherwise", "then", "now", "soon", "later",
    "could", "would", "should", "might", "will", "can", "cannot", "does", "did", "doesnt",
    "works", "worked", "stopped", "started", "keeps", "turning", "off", "connects",
    "disconnects", "drops", "dropping", "sync", "syncing", "cloud", "backup", "restore",
    "data", "lost", "files", "storage", "memory", "full", "space", "cleanup", "performance",
    "speed", "latency", "lag", "delay", "delayed", "tracking", "carrier", "courier", "label",
    "return", "exchange", "credit", "store", "gift", "birthday", "holiday", "sale", "black",
    "friday", "bundle", "accessory", "accessories", "case", "cover", "protector", "strap",
    "band", "watch", "fitness", "tracker", "heart", "rate", "steps", "sleep", "app",
};

constexpr const char* kSyllables[] = {
    "ka", "ro", "mi", "tel", "vo", "zen", "tri", "lux", "pro", "max", "neo", "sol", "ter",
    "qua", "dri", "fle", "gra", "hy", "jo", "ki", "lan", "mor", "nix", "ox", "pa", "ra",
    "sen", "tu", "ul", "ven", "wa", "xi", "yo", "za", "bel", "cor", "dex", "fin", "gal", "hub",
};

constexpr const char* kFirstNames[] = {
    "John", "Maria", "Wei", "Fatima", "Carlos", "Aisha", "Liam", "Sofia", "Noah", "Yuki",
    "Olga", "Ahmed", "Emma", "Raj", "Chloe", "Diego", "Hannah", "Ivan", "Grace", "Kofi",
    "Lucia", "Mateo", "Nina", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar"};
constexpr const char* kLastNames[] = {
    "Smith", "Garcia", "Chen", "Khan", "Silva", "Okafor", "Murphy", "Rossi", "Kim", "Tanaka",
    "Petrov", "Hassan", "Muller", "Patel", "Dubois", "Lopez", "Schmidt", "Novak", "Brown",
    "Mensah", "Costa", "Fernandez", "Larsen", "Ali", "Sharma", "Moreau", "Santos", "Berg",
    "Walsh", "Yilmaz", "Jensen", "Nakamura", "Cohen", "Ivanova", "Nguyen", "Reyes", "Weber"};

constexpr const char* kProducts[] = {
    "Wireless Headphones Pro", "Smart Thermostat", "Laptop Air 13", "Gaming Mouse X",
    "USB-C Charger 65W", "4K Monitor 27", "Mechanical Keyboard", "Robot Vacuum S7",
    "Fitness Tracker 3", "Video Doorbell", "Mesh Router Duo", "Portable Speaker Mini",
    "Noise Cancelling Earbuds", "Tablet Pro 11", "Smart Lock Plus", "Action Camera 5",
    "E-Reader Paperlight", "Espresso Machine", "Air Purifier 400", "Phone Case Rugged"};
constexpr const char* kPayments[] = {"credit_card", "paypal", "gift_card", "bank_transfer", "apple_pay"};
constexpr const char* kTicketStatus[] = {"open", "open", "pending", "closed", "resolved"};
constexpr const char* kPriorities[] = {"low", "medium", "medium", "high", "urgent"};
constexpr const char* kCategories[] = {"technical", "billing", "shipping", "account", "returns"};
constexpr const char* kOrderTypes[] = {"repair", "installation", "maintenance", "inspection"};
constexpr const char* kChannels[] = {"phone", "chat", "email", "in_store", "social"};
constexpr const char* kNoteCategories[] = {"preference", "relationship", "risk", "opportunity", "general"};

template <std::size_t N>
const char* pick(Rng& rng, const char* const (&items)[N]) {
  return items[rng.below(N)];
}

const std::vector<double>& zipf_cdf() {
  static const std::vector<double> cdf = [] {
    const auto& words = EventGenerator::vocabulary();
    std::vector<double> c(words.size());
    double total = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), 1.07);
      c[i] = total;
    }
    for (auto& v : c) v /= total;
    return c;
  }();
  return cdf;
}

std::string padded(std::uint64_t value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  return digits;
}

}  // namespace

const std::vector<std::string>& EventGenerator::vocabulary() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const char* w : kRealWords) {
      if (seen.insert(w).second) out.emplace_back(w);
    }
    // 2- and 3-syllable made-up words, in a fixed pseudo-random order.
    std::vector<std::string> made;
    const std::size_t n = std::size(kSyllables);
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = 0; b < n; ++b) {
        made.push_back(std::string(kSyllables[a]) + kSyllables[b]);
        for (std::size_t k = 0; k < 3; ++k)
          made.push_back(std::string(kSyllables[a]) + kSyllables[b] + kSyllables[(a * 7 + b * 3 + k * 11) % n]);
      }
    Rng rng(7);
    for (std::size_t i = made.size(); i > 1; --i) std::swap(made[i - 1], made[rng.below(i)]);
    for (auto& w : made) {
      if (out.size() >= 6000) break;
      if (seen.insert(w).second) out.push_back(std::move(w));
    }
    return out;
  }();
  return words;
}

std::string EventGenerator::customer_id(std::uint32_t index) { return "cust_" + padded(index, 6); }

std::string EventGenerator::customer_name(std::uint32_t index) {
  const std::size_t f = std::size(kFirstNames), l = std::size(kLastNames);
  return std::string(kFirstNames[index % f]) + " " + kLastNames[(index / f) % l];
}

std::string EventGenerator::customer_email(std::uint32_t index) {
  const std::size_t f = std::size(kFirstNames), l = std::size(kLastNames);
  std::string email = std::string(kFirstNames[index % f]) + "." + kLastNames[(index / f) % l] + "." +
                      std::to_string(index) + "@example.com";
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return email;
}

std::string EventGenerator::event_id(std::uint64_t seed, std::uint64_t seq) {
  return "evt-" + std::to_string(seed) + "-" + padded(seq, 9);
}

EventGenerator::EventGenerator(GeneratorOptions options)
    : options_(options), rng_(options.seed), open_orders_(options.customers) {
  if (options_.customers == 0) throw std::invalid_argument("customers must be at least 1");
}

const std::string& EventGenerator::zipf_word() {
  const auto& cdf = zipf_cdf();
  const double u = rng_.unit();
  auto it = std::lower_bound(cdf.begin(), cdf.end(), u);
  std::size_t index = static_cast<std::size_t>(it - cdf.begin());
  if (index >= cdf.size()) index = cdf.size() - 1;
  return vocabulary()[index];
}

std::string EventGenerator::sentence_text(std::size_t target_chars) {
  std::string text;
  text.reserve(target_chars + 32);
  while (text.size() < target_chars) {
    const int words = static_cast<int>(rng_.between(5, 18));
    std::string sentence;
    for (int i = 0; i < words; ++i) {
      if (i) sentence += ' ';
      sentence += zipf_word();
    }
    sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
    const std::uint64_t end = rng_.below(10);
    sentence += end == 0 ? '?' : end == 1 ? '!' : '.';
    if (!text.empty()) text += rng_.below(8) == 0 ? '\n' : ' ';
    text += sentence;
  }
  if (text.size() > target_chars) {
    // Cut at a word boundary and end the sentence.
    std::size_t cut = text.rfind(' ', target_chars - 1);
    if (cut == std::string::npos || cut < target_chars / 2) cut = target_chars - 1;
    text.resize(cut);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
    text += '.';
  }
  return text;
}

std::string EventGenerator::title_text(int min_words, int max_words) {
  const int words = static_cast<int>(rng_.between(min_words, max_words));
  std::string title;
  for (int i = 0; i < words; ++i) {
    if (i) title += ' ';
    title += zipf_word();
  }
  title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  return title;
}

const char* to_string(Mix mix) { return mix == Mix::long_text ? "long" : "seed"; }

bool EventGenerator::next(GeneratedEvent& out) {
  if (seq_ >= options_.events) return false;
  const std::uint64_t seq = seq_++;
  const auto customer = static_cast<std::uint32_t>(rng_.below(options_.customers));
  const std::uint64_t roll = rng_.below(100);
  const char* type = roll < 60 ? "purchase" : roll < 75 ? "support_ticket" : roll < 85 ? "repair"
                     : roll < 95 ? "contact" : "note";
  const std::int64_t timestamp = 1704067200 + static_cast<std::int64_t>(seq) * 7;
  const auto description_chars = static_cast<std::size_t>(
      options_.mix == Mix::long_text ? rng_.between(50, 2000)
      : (roll >= 60 && roll < 75 && rng_.chance(0.1)) ? rng_.between(700, 900)
                                                       : rng_.between(15, 60));

  out.seq = seq;
  out.event_id = event_id(options_.seed, seq);
  out.customer_id = customer_id(customer);
  out.event_type = type;
  std::string& json = out.json;
  json.clear();
  json.reserve(description_chars + 600);

  std::string data;
  ObjectWriter d(data);
  std::string metadata;
  ObjectWriter m(metadata);
  const std::string type_name = type;
  if (type_name == "purchase") {
    const std::size_t product = rng_.below(std::size(kProducts));
    const std::int64_t quantity = rng_.below(10) == 0 ? rng_.between(2, 4) : 1;
    const double price = static_cast<double>(rng_.between(499, 99999)) / 100.0;
    d.str("purchase_id", "ord_" + padded(seq, 9))
        .str("product_name", kProducts[product])
        .str("product_sku", "SKU-" + padded(product * 97 + 1000, 5))
        .integer("quantity", quantity)
        .number("price", price)
        .number("total", std::round(price * static_cast<double>(quantity) * 100.0) / 100.0)
        .integer("warranty_expires", timestamp + 365LL * 86400)
        .str("notes", sentence_text(description_chars));
    m.str("session_id", "sess_" + padded(rng_.below(1'000'000'000), 9)).str("payment_method", pick(rng_, kPayments));
  } else if (type_name == "support_ticket") {
    const bool important = rng_.chance(0.2);
    d.str("ticket_id", "TKT-" + padded(seq, 9))
        .str("title", title_text(3, 8))
        .str("description", sentence_text(description_chars))
        .str("status", pick(rng_, kTicketStatus))
        .str("priority", pick(rng_, kPriorities))
        .str("category", pick(rng_, kCategories));
    if (important) d.boolean("important", true);
    m.str("channel", pick(rng_, kChannels));
  } else if (type_name == "repair") {
    auto& open = open_orders_[customer];
    const bool follow_up = !open.empty() && rng_.chance(0.4);
    if (follow_up) {
      const std::uint64_t order = open.back();
      open.pop_back();
      d.str("work_order_id", "WO-" + padded(order, 9))
          .str("status", "completed")
          .str("resolution", sentence_text(description_chars))
          .number("cost", static_cast<double>(rng_.between(0, 50000)) / 100.0)
          .str("assigned_to", "technician_" + padded(rng_.below(60), 2));
    } else {
      open.push_back(seq);
      if (open.size() > 8) open.erase(open.begin());
      d.str("work_order_id", "WO-" + padded(seq, 9))
          .str("order_type", pick(rng_, kOrderTypes))
          .str("issue_description", sentence_text(description_chars))
          .str("status", "open")
          .str("priority", pick(rng_, kPriorities))
          .str("assigned_to", "technician_" + padded(rng_.below(60), 2))
          .str("product_id", "SKU-" + padded(rng_.below(std::size(kProducts)) * 97 + 1000, 5));
    }
  } else if (type_name == "contact") {
    d.str("channel", pick(rng_, kChannels))
        .str("subject", title_text(3, 7))
        .str("message", sentence_text(description_chars))
        .str("status", rng_.chance(0.7) ? "resolved" : "open")
        .integer("duration_seconds", rng_.between(30, 3600));
    m.str("agent", "agent_" + padded(rng_.below(200), 3));
  } else {  // note
    d.str("content", sentence_text(description_chars))
        .str("category", pick(rng_, kNoteCategories))
        .integer("importance", rng_.between(1, 10))
        .raw("tags", rng_.chance(0.5) ? R"(["vip"])" : R"(["followup","account"])");
    m.str("author", "agent_" + padded(rng_.below(200), 3));
  }
  // Every event names the customer (as the seed's purchase does).
  d.str("customer_name", customer_name(customer)).str("email", customer_email(customer));
  d.close();
  m.close();

  ObjectWriter e(json);
  e.str("event_id", out.event_id)
      .str("customer_id", out.customer_id)
      .str("event_type", type)
      .integer("timestamp", timestamp)
      .str("source_service", type_name == "purchase" ? "e-commerce-service"
                             : type_name == "repair" ? "repair-service"
                                                     : "support-system")
      .raw("data", data)
      .raw("metadata", metadata);
  e.close();
  return true;
}

void write_jsonl(const GeneratorOptions& options, const std::filesystem::path& path) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + temp.string());
    EventGenerator generator(options);
    GeneratedEvent event;
    while (generator.next(event)) {
      out.write(event.json.data(), static_cast<std::streamsize>(event.json.size()));
      out.put('\n');
    }
    if (!out) throw std::runtime_error("write error on " + temp.string());
  }
  std::filesystem::rename(temp, path);
}

std::string_view json_string_field(std::string_view line, std::string_view key) {
  std::string needle = "\"";
  needle += key;
  needle += "\":\"";
  const auto at = line.find(needle);
  if (at == std::string_view::npos) return {};
  const auto start = at + needle.size();
  const auto end = line.find('"', start);
  if (end == std::string_view::npos) return {};
  return line.substr(start, end - start);
}

}  // namespace customeriq::bench
