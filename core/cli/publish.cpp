// customeriq publish: the seed's sample events, or many unique ones (a load
// generator), on customer.events.{customer_id}.{event_type}.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "sources/nats/nats_config.hpp"
#include "sources/nats/nats_connection.hpp"
#include "sources/nats/nats_support.hpp"
#include "commands.hpp"

namespace customeriq::cli {
namespace {

using OrderedJson = nlohmann::ordered_json;

struct Sample {
  const char* event_type;
  const char* json;
};

// One per event type the default pipeline routes, in the order of a
// customer's story: the work order the repair opens is completed by the
// work_order sample, so that one comes after it. The first three are the
// seed's payloads, byte for byte (for cust_001).
constexpr Sample kSamples[] = {
    {"purchase",
     R"({"customer_id":"cust_001","event_type":"purchase","timestamp":1734134400,"source_service":"e-commerce-service","data":{"purchase_id":"ord_12345","product_name":"Wireless Headphones Pro","product_sku":"WHP-2000","quantity":1,"price":299.99,"total":299.99,"warranty_expires":1765670400,"customer_name":"John Smith","email":"john.smith@example.com"},"metadata":{"session_id":"sess_abc123","payment_method":"credit_card"}})"},
    {"support_ticket",
     R"({"customer_id":"cust_001","event_type":"support_ticket","timestamp":1734220800,"source_service":"support-system","data":{"ticket_id":"TKT-5678","title":"Product not working","description":"Bluetooth pairing is inconsistent...","status":"open","priority":"high","category":"technical","important":true,"save_as_memory":true},"metadata":{"channel":"email"}})"},
    {"repair",
     R"({"customer_id":"cust_001","event_type":"repair","timestamp":1734307200,"source_service":"repair-service","data":{"work_order_id":"WO-9999","order_type":"repair","issue_description":"Bluetooth module needs replacement","status":"open","priority":"medium","assigned_to":"technician_05","product_id":"WHP-2000"}})"},
    {"contact",
     R"({"customer_id":"cust_001","event_type":"contact","timestamp":1734393600,"source_service":"crm","data":{"channel":"phone","subject":"Repair status call","message":"Customer called to ask when the headphones will be back from repair.","status":"resolved"},"metadata":{"agent_id":"agent_42"}})"},
    {"note",
     R"({"customer_id":"cust_001","event_type":"note","timestamp":1734480000,"source_service":"crm","data":{"content":"Prefers email over phone calls; interested in the noise-cancelling upgrade.","category":"preference","importance":"high","tags":["preference","upsell"]}})"},
    {"profile_update",
     R"({"customer_id":"cust_001","event_type":"profile_update","timestamp":1734566400,"source_service":"crm","data":{"name":"John Smith","email":"john.smith@example.com","phone":"+1-555-0100","company":"Acme Corp","tags":["vip"]}})"},
    {"work_order",
     R"({"customer_id":"cust_001","event_type":"work_order","timestamp":1734652800,"source_service":"repair-service","data":{"work_order_id":"WO-9999","status":"completed","resolution":"Replaced the Bluetooth module; pairing tested with three phones","cost":0,"completed_date":1734652800,"assigned_to":"technician_05"},"metadata":{"covered_by":"warranty"}})"},
    {"observation",
     R"({"customer_id":"cust_001","event_type":"observation","timestamp":1734739200,"source_service":"retail-store","data":{"title":"In-store visit","content":"Tried the noise-cancelling model in store and asked twice about battery life.","category":"behavior","importance":"medium","tags":["in-store","battery"]}})"},
};

std::string known_types() {
  std::string out;
  for (const auto& sample : kSamples) out += (out.empty() ? "" : ", ") + std::string(sample.event_type);
  return out;
}

// The sample for the customer; with a load index, its ids made unique so
// that every event is a row of its own.
std::string payload(const Sample& sample, const std::string& customer,
                    const std::optional<std::string>& unique) {
  OrderedJson event = OrderedJson::parse(sample.json);
  event["customer_id"] = customer;
  // The seed's record ids (ord_12345, TKT-5678, WO-9999) belong to
  // cust_001: for another customer they get the customer as a suffix, or
  // that customer's events would take over cust_001's purchase and work order.
  std::optional<std::string> suffix = unique;
  if (!suffix && customer != "cust_001") suffix = customer;
  if (suffix) {
    auto& data = event["data"];
    const std::string type = sample.event_type;
    if (type == "purchase") data["purchase_id"] = data["purchase_id"].get<std::string>() + "-" + *suffix;
    else if (type == "support_ticket") data["ticket_id"] = data["ticket_id"].get<std::string>() + "-" + *suffix;
    else if (type == "repair" || type == "work_order")
      data["work_order_id"] = data["work_order_id"].get<std::string>() + "-" + *suffix;
  }
  if (unique) {
    event["timestamp"] = static_cast<std::int64_t>(std::time(nullptr));
    auto& data = event["data"];
    const std::string type = sample.event_type;
    if (type == "note" || type == "observation")
      data["content"] = data["content"].get<std::string>() + " (" + *unique + ")";
    else if (type == "contact") data["subject"] = "Call " + *unique;
  }
  return event.dump();
}

// Publishes one message at a time; JetStream publishes are acknowledged.
class Publisher {
 public:
  Publisher(natsConnection* connection, bool jetstream) : connection_(connection) {
    if (!jetstream) return;
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = 10000;
    options.PublishAsync.MaxPending = 4096;
    // nats.c's default gives up after 200 ms with 4,096 unacknowledged:
    // a server busy recovering its streams, or on a loaded machine, is slower.
    options.PublishAsync.StallWait = 30000;
    options.PublishAsync.ErrHandler = on_async_error;
    options.PublishAsync.ErrHandlerClosure = this;
    if (natsConnection_JetStream(&js_, connection, &options) != NATS_OK)
      throw NatsError("cannot get a JetStream context");
  }
  ~Publisher() { jsCtx_Destroy(js_); }

  // Returns a description of the stored message ("stream X seq N"), or "".
  // async: JetStream publish without waiting for this message's ack.
  std::string publish(const std::string& subject, const std::string& id, const std::string& data,
                      bool async) {
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(),
                                       static_cast<int>(data.size()));
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
    std::string stored;
    if (status == NATS_OK) {
      if (!js_) {
        status = natsConnection_PublishMsg(connection_, msg);
      } else if (async) {
        status = js_PublishMsgAsync(js_, &msg, nullptr);  // takes msg on success
      } else {
        jsPubAck* ack = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        status = js_PublishMsg(&ack, js_, msg, nullptr, &code);
        if (status == NATS_OK) {
          stored = "stream " + std::string(ack->Stream) + " seq " + std::to_string(ack->Sequence) +
                   (ack->Duplicate ? ", a duplicate: already in the stream" : "");
          jsPubAck_Destroy(ack);
        }
      }
    }
    natsMsg_Destroy(msg);
    if (status == NATS_NO_RESPONDERS && js_) {
      throw NatsError("no JetStream stream takes " + subject +
                      ": run `customeriq serve` with NATS_JETSTREAM=true once (it creates the "
                      "stream), or publish without --jetstream");
    }
    if (status != NATS_OK)
      throw NatsError("publish on " + subject + " failed: " + natsStatus_GetText(status) + " " +
                      nats_GetLastError(nullptr));
    return stored;
  }

  // Waits for every publish to be acknowledged (JetStream) or sent (core).
  void finish() {
    if (js_) {
      jsPubOptions options;
      jsPubOptions_Init(&options);
      options.MaxWait = 60000;
      if (js_PublishAsyncComplete(js_, &options) != NATS_OK)
        throw NatsError("JetStream did not acknowledge every publish within 60 s");
      std::lock_guard lock(mutex_);
      if (failed_)
        throw NatsError(std::to_string(failed_) + " publishes failed, the first with: " + first_error_);
    } else if (natsConnection_FlushTimeout(connection_, 30000) != NATS_OK) {
      throw NatsError("the server did not confirm the publishes within 30 s");
    }
  }

 private:
  static void on_async_error(jsCtx*, jsPubAckErr* error, void* closure) {
    auto& self = *static_cast<Publisher*>(closure);
    std::lock_guard lock(self.mutex_);
    if (self.failed_++ == 0)
      self.first_error_ = std::string(natsStatus_GetText(error->Err)) +
                          (error->ErrText ? std::string(" ") + error->ErrText : "");
  }

  natsConnection* connection_;
  jsCtx* js_ = nullptr;
  std::mutex mutex_;
  std::uint64_t failed_ = 0;
  std::string first_error_;
};

int run_publish(Args& args, const GlobalOptions& /*global*/) {
  const bool all = args.flag("--all");
  const bool jetstream = args.flag("--jetstream");
  const auto event_type = args.option("--event");
  const std::string customer = args.option("--customer").value_or("cust_001");
  const auto servers = args.option("--servers");
  const std::string prefix = args.option("--subject-prefix").value_or("customer.events");
  const auto count = args.integer_option("--count", 1, 1'000'000'000);
  const auto rate = args.integer_option("--rate", 0, 10'000'000).value_or(0);
  args.positionals(0);

  if (all == event_type.has_value()) throw UsageError("give --event TYPE or --all (see --help)");
  std::vector<const Sample*> samples;
  for (const auto& sample : kSamples)
    if (all || *event_type == sample.event_type) samples.push_back(&sample);
  if (samples.empty())
    throw UsageError("unknown event type '" + *event_type + "' (one of: " + known_types() + ")");
  const auto bad_token = [](const std::string& text) {
    return text.empty() || text.find_first_of(" \t.*>") != std::string::npos;
  };
  if (bad_token(customer))
    throw UsageError("--customer must be one subject token (no '.', '*', '>' or blanks)");
  if (prefix.empty() || prefix.find_first_of(" \t*>") != std::string::npos || prefix.front() == '.' ||
      prefix.back() == '.')
    throw UsageError("--subject-prefix must be a plain subject such as customer.events");

  // Servers, auth and TLS as `serve` reads them; --servers wins.
  std::vector<SettingOverride> options;
  if (servers) options.push_back({"NATS_SERVERS", "--servers", *servers});
  const NatsConfig config = read_nats_config(nlohmann::json::object(), "", env, options);
  NatsConnection connection(config, nullptr);
  connection.connect();
  Publisher publisher(connection.handle(), jetstream);

  if (!count) {
    for (const Sample* sample : samples) {
      const std::string subject = prefix + "." + customer + "." + sample->event_type;
      const std::string id = customer + "-" + sample->event_type + "-sample";
      const std::string stored = publisher.publish(subject, id, payload(*sample, customer, {}), false);
      std::cout << "published " << sample->event_type << " for " << customer << " on " << subject
                << " (Nats-Msg-Id " << id << (stored.empty() ? "" : ", " + stored) << ")\n";
    }
    publisher.finish();
    return 0;
  }

  // Load: unique ids in every event; a run id keeps runs apart.
  std::random_device random;
  char run[16];
  std::snprintf(run, sizeof run, "%08x", static_cast<unsigned>(random()));
  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  for (long long i = 0; i < *count; ++i) {
    if (rate > 0) {
      const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(i) / rate));
      std::this_thread::sleep_until(due);
    }
    const Sample& sample = *samples[static_cast<std::size_t>(i) % samples.size()];
    const std::string unique = std::string(run) + "_" + std::to_string(i + 1);
    const std::string subject = prefix + "." + customer + "." + sample.event_type;
    // The first JetStream publish waits for its ack: a missing stream is
    // reported once, clearly.
    publisher.publish(subject, "load-" + unique, payload(sample, customer, unique), i > 0);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress >= std::chrono::seconds(2)) {
      spdlog::info("[Publish] {} of {} events published", i + 1, *count);
      last_progress = now;
    }
  }
  publisher.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string types;
  for (const Sample* sample : samples) types += (types.empty() ? "" : ", ") + std::string(sample->event_type);
  std::cout << "published " << *count << " events (" << types << ") for " << customer << " on "
            << prefix << "." << customer << ".* with ids load-" << run << "_1.."
            << *count << (jetstream ? ", all acknowledged by JetStream" : "") << " in " << seconds
            << " s (" << static_cast<long long>(seconds > 0 ? *count / seconds : 0) << " events/s)\n";
  return 0;
}

}  // namespace

const Command kPublishCommand{
    "publish", "Publish sample events (or many, for load) to NATS",
    R"(usage: customeriq publish (--event TYPE | --all) [--customer ID] [--servers URL]
                          [--subject-prefix P] [--jetstream] [--count N [--rate R]]

Publishes the sample event of TYPE (purchase, support_ticket, repair,
contact, note, profile_update, work_order, observation: every type the
default pipeline routes), or of every type with --all, for the customer,
on P.{customer_id}.{event_type}, with a Nats-Msg-Id header.
Sample ids are stable (customer + type): publishing them twice is
harmless. For a customer other than cust_001 the sample's record ids get
the customer as a suffix (ord_12345-cust_002), so customers do not share
a purchase or work order. Prints what was published.

  --event TYPE          one event type
  --all                 every event type
  --customer ID         customer id (default cust_001)
  --servers URL         comma-separated servers (default NATS_SERVERS, else
                        nats://localhost:4222); NATS_USER/NATS_PASSWORD,
                        NATS_TOKEN, NATS_CREDS and NATS_TLS_* apply
  --subject-prefix P    subject prefix (default customer.events)
  --jetstream           publish through JetStream: each publish is
                        acknowledged by the stream (which must exist:
                        `customeriq serve` with NATS_JETSTREAM=true creates it)
  --count N             load: N events (cycling through the types), each
                        with unique ids (Nats-Msg-Id, purchase_id, ...)
  --rate R              with --count: R events per second (default 0: as
                        fast as possible)

exit codes: 0 ok, 1 no server reachable, the credentials rejected, or a
publish failed, 2 usage or configuration error (a malformed --servers too)
)",
    run_publish};

}  // namespace customeriq::cli
