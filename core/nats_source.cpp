#include "nats_source.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include <nats/nats.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace customeriq {
namespace {

using namespace std::chrono_literals;

std::string status_text(natsStatus status) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(status);
  // The thread's last error often says more ("Authorization Violation",
  // the JetStream API's description), prefixed with "(file.c:123): ".
  if (last && *last) {
    std::string detail = last;
    if (detail.front() == '(') {
      if (const auto end = detail.find("): "); end != std::string::npos) detail.erase(0, end + 3);
    }
    if (!detail.empty() && detail != text) text += ": " + detail;
  }
  return text;
}

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw NatsError(what + ": " + status_text(status));
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Per event, at debug level: the subject, and what the payload says it is.
void log_received(const RawMessage& message) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const auto json = nlohmann::json::parse(message.bytes, nullptr, false);
  std::string type = "?", customer = "?";
  if (json.is_object()) {
    auto text = [](const nlohmann::json& object, const char* key) -> std::optional<std::string> {
      auto it = object.find(key);
      if (it == object.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    type = text(json, "event_type").value_or("?");
    if (auto id = text(json, "customer_id")) customer = *id;
    else if (auto data = json.find("data"); data != json.end() && data->is_object())
      customer = text(*data, "email").value_or(text(*data, "customer_email").value_or("?"));
  }
  spdlog::debug("[NATS] Received event on {}: {} {}", message.subject, type, customer);
}

RawMessage to_raw_message(natsMsg* msg) {
  RawMessage message;
  message.subject = natsMsg_GetSubject(msg);
  if (const char* data = natsMsg_GetData(msg))
    message.bytes.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  message.headers = nats_headers(msg);
  return message;
}

}  // namespace

Headers nats_headers(natsMsg* msg) {
  Headers headers;
  const char** keys = nullptr;
  int key_count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &key_count) != NATS_OK) return headers;
  for (int i = 0; i < key_count; ++i) {
    const char** values = nullptr;
    int value_count = 0;
    if (natsMsgHeader_Values(msg, keys[i], &values, &value_count) == NATS_OK) {
      for (int j = 0; j < value_count; ++j) headers.emplace_back(keys[i], values[j] ? values[j] : "");
      std::free(static_cast<void*>(values));
    }
  }
  std::free(static_cast<void*>(keys));
  return headers;
}

// ---------------------------------------------------------------- StopFlag

void StopFlag::request(int exit_code) {
  std::lock_guard lock(mutex_);
  if (!requested_) {
    exit_code_ = exit_code;
    requested_ = true;
  }
  changed_.notify_all();
}

int StopFlag::exit_code() const {
  std::lock_guard lock(mutex_);
  return exit_code_;
}

bool StopFlag::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requested_.load(); });
}

// ---------------------------------------------------------- NatsConnection

// nats.c calls back into these with the NatsConnection as closure.
struct NatsCallbacks {
  static void disconnected(natsConnection*, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    {
      std::lock_guard lock(self.state_mutex_);
      self.up_ = false;
    }
    if (self.closing_ || !self.connected_once_) return;
    ++self.disconnects_;
    spdlog::warn("[NATS] Disconnected from NATS server {}; reconnecting...", redact_url(self.last_url_));
  }

  static void reconnected(natsConnection* connection, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const std::string url = mark_up(self, connection);
    ++self.reconnects_;
    spdlog::info("[NATS] Reconnected to NATS server {}", redact_url(url));
  }

  // The first connection, when it was made in the background
  // (RetryOnFailedConnect).
  static void connected(natsConnection* connection, void* closure) {
    mark_up(*static_cast<NatsConnection*>(closure), connection);
  }

  // Records that the connection is up, at which URL, and wakes waiters.
  static std::string mark_up(NatsConnection& self, natsConnection* connection) {
    char url[512] = {0};
    natsConnection_GetConnectedUrl(connection, url, sizeof url);
    std::lock_guard lock(self.state_mutex_);
    self.up_ = true;
    self.last_url_ = url;
    self.state_changed_.notify_all();
    return url;
  }

  static void closed(natsConnection*, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const bool unexpected = !self.closing_;
    if (unexpected) {
      if (self.connected_once_) {
        spdlog::error("[NATS] The connection to NATS was closed and will not be retried "
                      "(the server rejected it: check the credentials)");
      }
      if (self.stop_) self.stop_->request(1);
    }
    // Notify under the lock: close() may destroy this object as soon as it
    // sees closed_.
    std::lock_guard lock(self.state_mutex_);
    self.closed_ = true;
    self.up_ = false;
    self.state_changed_.notify_all();
  }

  static void error(natsConnection*, natsSubscription* subscription, natsStatus status,
                    void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    if (self.on_async_error) {
      self.on_async_error(subscription, status);
      return;
    }
    spdlog::warn("[NATS] Asynchronous error{}{}: {}", subscription ? " on " : "",
                 subscription ? natsSubscription_GetSubject(subscription) : "",
                 natsStatus_GetText(status));
  }

  // Called by nats.c after every server of the list failed once: the wait
  // before the next round. Exponential from 250 ms to 5 s, plus up to 25%
  // random jitter so that many instances do not come back in step.
  static int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const int exponent = std::clamp(attempts - 1, 0, 5);
    const std::int64_t base = std::min<std::int64_t>(250LL << exponent, 5000);
    thread_local std::minstd_rand random(std::random_device{}());
    const std::int64_t delay = base + static_cast<std::int64_t>(random() % (base / 4 + 1));
    if (self.closing_) return delay;
    if (self.connected_once_) {
      spdlog::warn("[NATS] Reconnect attempt {} to {} failed; retrying in {} ms", attempts,
                   server_list(self.config_.servers), delay);
    } else {
      spdlog::warn("[NATS] No NATS server reachable at {} yet (attempt {}); retrying in {} ms",
                   server_list(self.config_.servers), attempts, delay);
    }
    return delay;
  }
};

NatsConnection::NatsConnection(const NatsConfig& config, StopFlag* stop)
    : config_(config), stop_(stop) {
  check(natsOptions_Create(&options_), "cannot create NATS options");
  std::vector<const char*> servers;
  for (const auto& url : config_.servers) servers.push_back(url.c_str());
  check(natsOptions_SetServers(options_, servers.data(), static_cast<int>(servers.size())),
        "NATS_SERVERS");
  check(natsOptions_SetName(options_, "customeriq"), "NATS options");
  check(natsOptions_SetMaxReconnect(options_, -1), "NATS options");
  check(natsOptions_SetReconnectWait(options_, 250), "NATS options");
  check(natsOptions_SetReconnectJitter(options_, 100, 1000), "NATS options");
  check(natsOptions_SetPingInterval(options_, 10000), "NATS options");
  check(natsOptions_SetMaxPingsOut(options_, 3), "NATS options");
  if (stop_) {
    check(natsOptions_SetCustomReconnectDelay(options_, NatsCallbacks::reconnect_delay, this),
          "NATS options");
  }
  check(natsOptions_SetDisconnectedCB(options_, NatsCallbacks::disconnected, this), "NATS options");
  check(natsOptions_SetReconnectedCB(options_, NatsCallbacks::reconnected, this), "NATS options");
  check(natsOptions_SetClosedCB(options_, NatsCallbacks::closed, this), "NATS options");
  check(natsOptions_SetErrorHandler(options_, NatsCallbacks::error, this), "NATS options");

  if (!config_.user.empty())
    check(natsOptions_SetUserInfo(options_, config_.user.c_str(), config_.password.c_str()),
          "NATS_USER/NATS_PASSWORD");
  if (!config_.token.empty())
    check(natsOptions_SetToken(options_, config_.token.c_str()), "NATS_TOKEN");
  if (!config_.creds_file.empty())
    check(natsOptions_SetUserCredentialsFromFiles(options_, config_.creds_file.c_str(), nullptr),
          "NATS_CREDS=" + config_.creds_file);
  if (config_.tls()) {
    check(natsOptions_SetSecure(options_, true), "TLS");
    if (!config_.tls_ca.empty())
      check(natsOptions_LoadCATrustedCertificates(options_, config_.tls_ca.c_str()),
            "NATS_TLS_CA=" + config_.tls_ca);
    if (!config_.tls_cert.empty())
      check(natsOptions_LoadCertificatesChain(options_, config_.tls_cert.c_str(),
                                              config_.tls_key.c_str()),
            "NATS_TLS_CERT/NATS_TLS_KEY");
  }
}

NatsConnection::~NatsConnection() {
  close();
  natsOptions_Destroy(options_);
}

std::string NatsConnection::connected_url() const {
  std::lock_guard lock(state_mutex_);
  return last_url_;
}

bool NatsConnection::connect() {
  const std::string servers = server_list(config_.servers);
  spdlog::info("[NATS] Connecting to NATS server(s): {}", servers);
  natsStatus status = natsConnection_Connect(&connection_, options_);
  if (status == NATS_NO_SERVER && stop_) {
    spdlog::warn("[NATS] No NATS server reachable at {} ({}); will keep trying until one is",
                 servers, status_text(status));
    check(natsOptions_SetRetryOnFailedConnect(options_, true, NatsCallbacks::connected, this),
          "NATS options");
    status = natsConnection_Connect(&connection_, options_);
    if (status == NATS_NOT_YET_CONNECTED) {
      std::unique_lock lock(state_mutex_);
      while (!up_ && !closed_ && !stop_->requested())
        state_changed_.wait_for(lock, 200ms);
      if (!up_) {
        const bool closed = closed_;
        lock.unlock();
        if (closed) {
          throw NatsError("the NATS server at " + servers +
                          " closed the connection before it was established (wrong credentials? "
                          "check NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS)");
        }
        return false;  // stop requested
      }
      status = NATS_OK;
    }
  }
  if (status == NATS_CONNECTION_AUTH_FAILED || status == NATS_NOT_PERMITTED) {
    throw NatsError("authorization failed at " + servers + ": " + status_text(status) +
                    " (check NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS)");
  }
  if (status != NATS_OK)
    throw NatsError("cannot connect to NATS at " + servers + ": " + status_text(status));
  {
    char url[512] = {0};
    natsConnection_GetConnectedUrl(connection_, url, sizeof url);
    std::lock_guard lock(state_mutex_);
    up_ = true;
    last_url_ = url;
  }
  connected_once_ = true;
  spdlog::info("[NATS] Connected successfully");
  spdlog::debug("[NATS] Connected to {}", redact_url(connected_url()));
  return true;
}

void NatsConnection::close() {
  if (!connection_) return;
  closing_ = true;
  if (natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED) {
    if (natsConnection_FlushTimeout(connection_, 5000) != NATS_OK)
      spdlog::warn("[NATS] Could not flush the last messages (acks) to the server");
  }
  natsConnection_Close(connection_);
  {
    // Wait for the closed callback: it uses this object.
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, 5s, [&] { return closed_; });
  }
  natsConnection_Destroy(connection_);
  connection_ = nullptr;
}

// -------------------------------------------------------------- NatsSource

NatsSource::NatsSource(const NatsConfig& config, WriterThread& writer, StopFlag& stop)
    : config_(config), writer_(writer), stop_(stop), connection_(config, &stop) {
  connection_.on_async_error = [this](natsSubscription* subscription, int status) {
    handle_async_error(subscription, status);
  };
}

NatsSource::~NatsSource() { close(); }

bool NatsSource::start() {
  if (!connection_.connect()) return false;
  for (const auto& subject : config_.subjects) {
    spdlog::info("[NATS] Subscribing to: {} (queue: {})", subject, config_.queue_group);
    natsSubscription* subscription = nullptr;
    check(natsConnection_QueueSubscribe(&subscription, connection_.handle(), subject.c_str(),
                                        config_.queue_group.c_str(), on_message, this),
          "cannot subscribe to " + subject);
    subscriptions_.push_back(subscription);
    subscription_subjects_.push_back(subject);
    check(natsSubscription_SetPendingLimits(subscription, config_.pending_msgs, config_.pending_bytes),
          "NATS_PENDING_MSGS/NATS_PENDING_BYTES");
  }
  // The server has the subscriptions once it answers the flush.
  if (natsConnection_FlushTimeout(connection_.handle(), 5000) != NATS_OK)
    spdlog::warn("[NATS] The server did not confirm the subscriptions yet; they are sent on reconnect");
  return true;
}

void NatsSource::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& self = *static_cast<NatsSource*>(closure);
  RawMessage message = to_raw_message(msg);
  natsMsg_Destroy(msg);
  ++self.received_;
  log_received(message);
  std::string subject = message.subject;  // for the message below: submit takes the rest
  try {
    self.writer_.submit(std::move(message));  // blocks while the queue is full: backpressure
  } catch (const std::exception& error) {
    spdlog::error("[NATS] Event on {} not processed: {}", subject, error.what());
  }
}

void NatsSource::handle_async_error(natsSubscription* subscription, int status) {
  const std::string subject = subscription ? natsSubscription_GetSubject(subscription) : "";
  if (status == NATS_SLOW_CONSUMER) {
    // nats.c reports every time the subscription falls behind again: say it
    // at most every 5 s (run() logs the running total as well).
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_slow_consumer_log_.load();
    if (last != 0 && now - last < std::chrono::steady_clock::duration(5s).count()) return;
    if (!last_slow_consumer_log_.compare_exchange_strong(last, now)) return;
    int64_t dropped = 0;
    if (subscription) natsSubscription_GetDropped(subscription, &dropped);
    spdlog::warn("[NATS] Slow consumer on {}: messages are being dropped ({} so far); core NATS "
                 "will not redeliver them. Raise NATS_PENDING_MSGS/NATS_PENDING_BYTES, or use "
                 "NATS_JETSTREAM=true",
                 subject, dropped);
    return;
  }
  spdlog::warn("[NATS] Asynchronous error{}{}: {}", subject.empty() ? "" : " on ", subject,
               natsStatus_GetText(static_cast<natsStatus>(status)));
}

void NatsSource::run() {
  std::uint64_t reported = 0;
  while (!stop_.wait_for(5s)) {
    const std::uint64_t dropped = stats().dropped;
    if (dropped > reported) {
      spdlog::warn("[NATS] {} messages dropped so far (slow consumer); they are lost", dropped);
      reported = dropped;
    }
  }
}

void NatsSource::stop_taking() {
  if (subscriptions_.empty()) return;
  dropped_ = stats().dropped;
  spdlog::info("[NATS] Draining subscriptions: no new messages, finishing those received");
  for (auto* subscription : subscriptions_) natsSubscription_Drain(subscription);
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) {
    while (natsSubscription_WaitForDrainCompletion(subscriptions_[i], 5000) == NATS_TIMEOUT) {
      int pending = 0;
      natsSubscription_GetPending(subscriptions_[i], &pending, nullptr);
      spdlog::info("[NATS] Still draining {} ({} messages pending)", subscription_subjects_[i], pending);
    }
  }
}

void NatsSource::close() {
  for (auto* subscription : subscriptions_) natsSubscription_Destroy(subscription);
  subscriptions_.clear();
  connection_.close();
}

NatsStats NatsSource::stats() const {
  NatsStats stats;
  stats.received = received_;
  stats.dropped = dropped_;
  if (!subscriptions_.empty()) {
    std::uint64_t dropped = 0;
    for (auto* subscription : subscriptions_) {
      int64_t count = 0;
      if (natsSubscription_GetDropped(subscription, &count) == NATS_OK && count > 0)
        dropped += static_cast<std::uint64_t>(count);
    }
    stats.dropped = std::max<std::uint64_t>(stats.dropped, dropped);
  }
  stats.disconnects = connection_.disconnects();
  stats.reconnects = connection_.reconnects();
  return stats;
}

// --------------------------------------------------------- JetStreamSource

struct JetStreamSource::Counters {
  std::atomic<std::uint64_t> received{0}, skipped{0}, acked{0}, terminated{0}, nak{0}, ack_errors{0};
};

namespace {

// What to tell the server once the writer settled the message.
void settle(natsMsg* msg, Outcome outcome, int max_deliver, JetStreamSource::Counters& counters);

}  // namespace

JetStreamSource::JetStreamSource(const NatsConfig& config, WriterThread& writer, StopFlag& stop)
    : config_(config),
      writer_(writer),
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
      const auto delay = std::chrono::seconds(std::min(1 << std::min(attempt - 1, 5), 30));
      spdlog::error("[NATS] JetStream setup failed: {}; retrying in {} s", error.what(), delay.count());
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
      const std::int64_t delay_ms =
          std::min<std::int64_t>(1000LL << std::min<std::uint64_t>(delivered - 1, 6), 60000);
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
        stop_.wait_for(std::chrono::seconds(std::min(1 << std::min(failures++, 5), 30)));
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
        writer_.submit(std::move(message));  // blocks while the queue is full: backpressure
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
      writer_.flush();
      unbind();
    }
    stop_.wait_for(std::chrono::milliseconds(200 * std::min(failures, 25)));
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

std::unique_ptr<EventSource> make_event_source(const NatsConfig& config, WriterThread& writer,
                                               StopFlag& stop) {
  if (config.jetstream) return std::make_unique<JetStreamSource>(config, writer, stop);
  return std::make_unique<NatsSource>(config, writer, stop);
}

}  // namespace customeriq
