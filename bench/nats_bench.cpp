#include "nats_bench.hpp"

#include <nats/nats.h>

#include <stdexcept>

namespace customeriq::bench {
namespace {

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw std::runtime_error(what + ": " + natsStatus_GetText(status));
}

void on_publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
  static_cast<std::atomic<std::uint64_t>*>(closure)->fetch_add(1);
  (void)pae;
}

}  // namespace

Publisher::Publisher(const std::string& url, bool jetstream, bool send_asap, int max_pending)
    : jetstream_(jetstream) {
  natsOptions* options = nullptr;
  check(natsOptions_Create(&options), "natsOptions_Create");
  natsOptions_SetURL(options, url.c_str());
  natsOptions_SetName(options, "customeriq-bench-publisher");
  // A large outbound buffer: the publisher should never be the bottleneck.
  natsOptions_SetIOBufSize(options, 1 << 20);
  if (send_asap) natsOptions_SetSendAsap(options, true);
  const natsStatus status = natsConnection_Connect(&connection_, options);
  natsOptions_Destroy(options);
  check(status, "connect to " + url);
  if (jetstream_) {
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.MaxPending = max_pending;
    js_options.PublishAsync.ErrHandler = on_publish_error;
    js_options.PublishAsync.ErrHandlerClosure = &errors_;
    check(natsConnection_JetStream(&js_, connection_, &js_options), "JetStream context");
  }
}

Publisher::~Publisher() {
  if (js_) jsCtx_Destroy(js_);
  if (connection_) {
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
  }
}

void Publisher::publish(const std::string& subject, std::string_view data, const std::string& msg_id) {
  natsMsg* msg = nullptr;
  check(natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())), "natsMsg_Create");
  natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  natsStatus status;
  if (jetstream_) {
    status = js_PublishMsgAsync(js_, &msg, nullptr);  // takes the message on success
  } else {
    status = natsConnection_PublishMsg(connection_, msg);
  }
  if (msg) natsMsg_Destroy(msg);
  if (status != NATS_OK) errors_.fetch_add(1);
}

void Publisher::publish_core(const std::string& subject, std::string_view data) {
  if (natsConnection_Publish(connection_, subject.c_str(), data.data(), static_cast<int>(data.size())) != NATS_OK)
    errors_.fetch_add(1);
  natsConnection_Flush(connection_);
}

void Publisher::finish(int timeout_ms) {
  if (jetstream_) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = timeout_ms;
    check(js_PublishAsyncComplete(js_, &options), "waiting for JetStream acks");
  }
  check(natsConnection_FlushTimeout(connection_, timeout_ms), "flush");
}

}  // namespace customeriq::bench
