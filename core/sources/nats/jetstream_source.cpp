#include "sources/nats/jetstream_source.hpp"

#include <algorithm>

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "backoff.hpp"
#include "sources/nats/nats_support.hpp"

namespace customeriq {

using namespace std::chrono_literals;

namespace {

// Setting up the stream and consumer again: 1 s doubling to 30 s.
constexpr Backoff kSetupBackoff{1s, 30s};
// The delay asked of the server before it redelivers an event that could
// not be committed: 1 s doubling to 60 s, by the number of deliveries.
constexpr Backoff kRedeliveryBackoff{1s, 60s};
// Fetches failing while the connection is up.
constexpr Backoff kFetchBackoff{200ms, 5s};

}  // namespace

struct JetStreamSource::Counters {
  std::atomic<std::uint64_t> received{0}, skipped{0}, acked{0}, terminated{0}, nak{0}, ack_errors{0};
};

namespace {

// What to tell the server once the writer settled the message.
void settle(natsMsg* msg, Outcome outcome, int max_deliver, JetStreamSource::Counters& counters);

}  // namespace

JetStreamSource::JetStreamSource(const NatsConfig& config, EventSink& sink, StopFlag& stop)
    : config_(config),
      sink_(sink),
      stop_(stop),
      connection_(config, &stop),
      counters_(std::make_shared<Counters>()) {}

JetStreamSource::~JetStreamSource() { close(); }

bool JetStreamSource::start() {
  if (!connection_.connect()) return false;
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = 10000;
  check(natsConnection_JetStream(&js_, connection_.handle(), &options), "JetStream context");
  spdlog::info("[NATS] Subscribing to: {} (JetStream stream: {}, durable consumer: {})",
               join(config_.subjects), config_.stream, config_.durable);
  for (int attempt = 1;; ++attempt) {
    try {
      bind();
      return true;
    } catch (const NatsError& error) {
      const auto delay = kSetupBackoff.after(attempt);
      spdlog::error("[NATS] JetStream setup failed: {}; retrying in {} s", error.what(),
                    std::chrono::duration_cast<std::chrono::seconds>(delay).count());
      unbind();
      if (stop_.wait_for(delay)) return false;
    }
  }
}

void JetStreamSource::ensure_stream() {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, js_, config_.stream.c_str(), nullptr, &code);
  if (status == NATS_OK) {
    std::vector<std::string> subjects;
    for (int i = 0; i < info->Config->SubjectsLen; ++i) subjects.emplace_back(info->Config->Subjects[i]);
    jsStreamInfo_Destroy(info);
    spdlog::info("[NATS] Using JetStream stream {} (subjects: {})", config_.stream, join(subjects));
    for (const auto& wanted : config_.subjects) {
      const bool covered = std::any_of(subjects.begin(), subjects.end(), [&](const std::string& s) {
        return subject_matches(s, wanted);
      });
      if (!covered)
        spdlog::warn("[NATS] Stream {} does not take subject {}: events on it will not arrive "
                     "(add it to the stream's subjects)",
                     config_.stream, wanted);
    }
    return;
  }
  if (status == NATS_NO_RESPONDERS || code == JSNotEnabledErr || code == JSNotEnabledForAccountErr)
    throw NatsError("JetStream is not enabled on the NATS server (start nats-server with -js)");
  if (status != NATS_NOT_FOUND && code != JSStreamNotFoundErr)
    throw NatsError("cannot read stream " + config_.stream + ": " + status_text(status));
  if (!config_.stream_create) {
    throw NatsError("stream " + config_.stream + " does not exist: create it over " +
                    join(config_.subjects) + ", or set NATS_STREAM_CREATE=true");
  }
  std::vector<const char*> subjects;
  for (const auto& subject : config_.subjects) subjects.push_back(subject.c_str());
  jsStreamConfig stream;
  jsStreamConfig_Init(&stream);
  stream.Name = config_.stream.c_str();
  stream.Description = "customer events, created by customeriq serve";
  stream.Subjects = subjects.data();
  stream.SubjectsLen = static_cast<int>(subjects.size());
  stream.Storage = js_FileStorage;
  stream.Retention = js_LimitsPolicy;
  status = js_AddStream(nullptr, js_, &stream, nullptr, &code);
  if (status == NATS_OK) {
    spdlog::info("[NATS] Created JetStream stream {} over {}", config_.stream, join(config_.subjects));
    return;
  }
  if (code == JSStreamNameExistErr) return;  // another instance made it just now
  if (code == JSStreamSubjectOverlapErr) {
    throw NatsError("cannot create stream " + config_.stream + ": its subjects " +
                    join(config_.subjects) +
                    " overlap another stream's; set NATS_STREAM to that stream's name");
  }
  throw NatsError("cannot create stream " + config_.stream + ": " + status_text(status));
}

void JetStreamSource::ensure_consumer() {
  const std::string wanted_filter = config_.subjects.size() == 1 ? config_.subjects[0] : "";
  jsConsumerConfig consumer;
  jsConsumerConfig_Init(&consumer);
  consumer.Durable = config_.durable.c_str();
  consumer.Description = "customeriq serve";
  consumer.DeliverPolicy = js_DeliverAll;
  consumer.AckPolicy = js_AckExplicit;
  consumer.AckWait = static_cast<int64_t>(config_.ack_wait_seconds) * 1'000'000'000LL;
  consumer.MaxDeliver = config_.max_deliver;
  consumer.MaxAckPending = config_.max_ack_pending;
  consumer.FilterSubject = wanted_filter.empty() ? nullptr : wanted_filter.c_str();

  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus status =
      js_GetConsumerInfo(&info, js_, config_.stream.c_str(), config_.durable.c_str(), nullptr, &code);
  if (status == NATS_OK) {
    const jsConsumerConfig& existing = *info->Config;
    if (existing.DeliverSubject && *existing.DeliverSubject) {
      jsConsumerInfo_Destroy(info);
      throw NatsError("consumer " + config_.durable + " on stream " + config_.stream +
                      " is a push consumer; customeriq needs a pull consumer: delete it or set "
                      "NATS_DURABLE to another name");
    }
    filter_subject_ = existing.FilterSubject ? existing.FilterSubject : "";
    if (filter_subject_ != wanted_filter) {
      spdlog::warn("[NATS] Consumer {} filters '{}' but NATS_SUBJECTS asks for {}; keeping the "
                   "consumer's filter (delete the consumer to change it)",
                   config_.durable, filter_subject_.empty() ? "(whole stream)" : filter_subject_,
                   join(config_.subjects));
    }
    const bool differs = existing.AckWait != consumer.AckWait ||
                         existing.MaxDeliver != consumer.MaxDeliver ||
                         existing.MaxAckPending != consumer.MaxAckPending;
    const std::uint64_t pending = info->NumPending;
    jsConsumerInfo_Destroy(info);
    if (differs) {
      consumer.FilterSubject = filter_subject_.empty() ? nullptr : filter_subject_.c_str();
      status = js_UpdateConsumer(nullptr, js_, config_.stream.c_str(), &consumer, nullptr, &code);
      if (status == NATS_OK) {
        spdlog::info("[NATS] Updated consumer {}: ack wait {} s, max deliver {}, max ack pending {}",
                     config_.durable, config_.ack_wait_seconds, config_.max_deliver,
                     config_.max_ack_pending);
      } else {
        spdlog::warn("[NATS] Could not update consumer {} to the configured ack wait/max deliver: {}",
                     config_.durable, status_text(status));
      }
    }
    spdlog::info("[NATS] Using durable consumer {} on stream {} ({} messages waiting)",
                 config_.durable, config_.stream, pending);
    return;
  }
  if (status != NATS_NOT_FOUND && code != JSConsumerNotFoundErr)
    throw NatsError("cannot read consumer " + config_.durable + ": " + status_text(status));
  status = js_AddConsumer(nullptr, js_, config_.stream.c_str(), &consumer, nullptr, &code);
  if (status != NATS_OK)  // perhaps another instance created it: the retry binds to it
    throw NatsError("cannot create consumer " + config_.durable + ": " + status_text(status));
  filter_subject_ = wanted_filter;
  spdlog::info("[NATS] Created durable consumer {} on stream {} (ack wait {} s, max deliver {})",
               config_.durable, config_.stream, config_.ack_wait_seconds, config_.max_deliver);
}

void JetStreamSource::bind() {
  ensure_stream();
  ensure_consumer();
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = config_.stream.c_str();
  options.Consumer = config_.durable.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string subject = filter_subject_.empty() ? config_.subjects[0] : filter_subject_;
  const natsStatus status = js_PullSubscribe(&subscription_, js_, subject.c_str(),
                                             config_.durable.c_str(), nullptr, &options, &code);
  if (status != NATS_OK) {
    subscription_ = nullptr;
    throw NatsError("cannot bind to consumer " + config_.durable + ": " + status_text(status));
  }
}

void JetStreamSource::unbind() {
  if (!subscription_) return;
  // Destroying a subscription bound to an existing consumer keeps the consumer.
  natsSubscription_Destroy(subscription_);
  subscription_ = nullptr;
}

namespace {

void settle(natsMsg* msg, Outcome outcome, int max_deliver, JetStreamSource::Counters& counters) {
  natsStatus status = NATS_OK;
  switch (outcome) {
    case Outcome::applied:
    case Outcome::duplicate:
    case Outcome::suppressed:  // settled: its customer was erased
      status = natsMsg_Ack(msg, nullptr);
      ++counters.acked;
      break;
    case Outcome::dead_lettered:  // kept in dead_letters: redelivery would not help
      status = natsMsg_Term(msg, nullptr);
      ++counters.terminated;
      break;
    case Outcome::retry_later: {
      std::uint64_t delivered = 1;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        delivered = meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
      }
      const std::int64_t delay_ms = kRedeliveryBackoff.after(static_cast<std::int64_t>(delivered)).count();
      if (static_cast<std::int64_t>(delivered) >= max_deliver) {
        spdlog::error("[NATS] Event on {} was delivered {} times (NATS_MAX_DELIVER) and never "
                      "committed; the server will not deliver it again (it stays in the stream)",
                      natsMsg_GetSubject(msg), delivered);
      }
      status = natsMsg_NakWithDelay(msg, delay_ms, nullptr);
      ++counters.nak;
      break;
    }
  }
  if (status != NATS_OK) {
    ++counters.ack_errors;
    spdlog::warn("[NATS] Could not acknowledge an event on {} ({}): {}; the server redelivers it "
                 "after the ack wait and it is then a harmless duplicate",
                 natsMsg_GetSubject(msg), to_string(outcome), status_text(status));
  }
}

}  // namespace

void JetStreamSource::run() {
  int failures = 0;
  while (!stop_.requested()) {
    if (!subscription_) {
      try {
        bind();
        failures = 0;
      } catch (const NatsError& error) {
        spdlog::error("[NATS] JetStream setup failed: {}", error.what());
        unbind();
        stop_.wait_for(kSetupBackoff.after(++failures));
        continue;
      }
    }
    natsMsgList list{nullptr, 0};
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus status =
        natsSubscription_Fetch(&list, subscription_, config_.fetch_batch, 1000, &code);
    if (status == NATS_OK) {
      failures = 0;
      for (int i = 0; i < list.Count; ++i) {
        natsMsg* msg = list.Msgs[i];
        list.Msgs[i] = nullptr;  // ours now
        std::shared_ptr<natsMsg> held(msg, natsMsg_Destroy);
        RawMessage message = to_raw_message(msg);
        const bool wanted = std::any_of(
            config_.subjects.begin(), config_.subjects.end(),
            [&](const std::string& pattern) { return subject_matches(pattern, message.subject); });
        if (!wanted) {  // the stream takes more subjects than NATS_SUBJECTS
          spdlog::debug("[NATS] Skipping event on {}: not in NATS_SUBJECTS", message.subject);
          natsMsg_Ack(msg, nullptr);
          ++counters_->skipped;
          continue;
        }
        ++counters_->received;
        log_received(message);
        message.ack = [held, counters = counters_, max_deliver = config_.max_deliver](Outcome outcome) {
          settle(held.get(), outcome, max_deliver, *counters);
        };
        sink_.submit(std::move(message));  // blocks while the queue is full: backpressure
      }
      natsMsgList_Destroy(&list);
      continue;
    }
    natsMsgList_Destroy(&list);
    if (status == NATS_TIMEOUT) continue;  // nothing to fetch: normal
    if (natsConnection_Status(connection_.handle()) != NATS_CONN_STATUS_CONNECTED) {
      stop_.wait_for(250ms);  // the connection callbacks log the reconnection
      continue;
    }
    ++failures;
    spdlog::warn("[NATS] Fetch from consumer {} failed: {}", config_.durable, status_text(status));
    if (failures >= 3) {
      // The consumer or the stream may have been deleted: bind again. Acks
      // of the messages taken so far go out through this subscription.
      spdlog::warn("[NATS] Binding to stream {} / consumer {} again", config_.stream, config_.durable);
      sink_.flush();
      unbind();
    }
    stop_.wait_for(kFetchBackoff.after(failures));
  }
}

void JetStreamSource::stop_taking() {
  // run() returned: no fetch is in flight. Messages the server sent for the
  // last fetch after it timed out stay unacknowledged and are redelivered
  // after the ack wait (to another instance, or to this one on restart).
  spdlog::info("[NATS] Stopped fetching from consumer {}", config_.durable);
}

void JetStreamSource::close() {
  unbind();
  if (js_) {
    jsCtx_Destroy(js_);
    js_ = nullptr;
  }
  connection_.close();
}

NatsStats JetStreamSource::stats() const {
  NatsStats stats;
  stats.received = counters_->received;
  stats.skipped = counters_->skipped;
  stats.acked = counters_->acked;
  stats.terminated = counters_->terminated;
  stats.nak = counters_->nak;
  stats.ack_errors = counters_->ack_errors;
  stats.disconnects = connection_.disconnects();
  stats.reconnects = connection_.reconnects();
  return stats;
}

}  // namespace customeriq
