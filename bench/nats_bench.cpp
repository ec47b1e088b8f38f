#include "nats_bench.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nats/nats.h>

#include <stdexcept>
#include <thread>

#include "support/loopback.hpp"

namespace customeriq::bench {
namespace {

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw std::runtime_error(what + ": " + natsStatus_GetText(status));
}

void on_publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
  static_cast<std::atomic<std::uint64_t>*>(closure)->fetch_add(1);
  (void)pae;
}

// True once something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

NatsServer::NatsServer(std::filesystem::path executable, std::filesystem::path work_dir, bool jetstream)
    : executable_(std::move(executable)), work_dir_(std::move(work_dir)), jetstream_(jetstream) {}

NatsServer::~NatsServer() { stop(); }

void NatsServer::start() {
  port_ = test::free_port();
  std::filesystem::create_directories(work_dir_);
  std::vector<std::string> args = {"-a", "127.0.0.1", "-p", std::to_string(port_)};
  if (jetstream_) {
    const auto store = work_dir_ / "jetstream";
    std::filesystem::remove_all(store);
    args.insert(args.end(), {"-js", "-sd", store.string()});
  }
  const auto log = work_dir_ / "nats-server.log";
  child_ = std::make_unique<ChildProcess>(executable_, args, child_options(work_dir_ / "nats-server.out", log));
  if (!wait_for_port(port_, std::chrono::seconds(10))) {
    stop();
    throw std::runtime_error("nats-server did not listen on 127.0.0.1:" + std::to_string(port_) + " (see " +
                             log.string() + ")");
  }
}

void NatsServer::stop() {
  if (child_) {
    child_->stop(std::chrono::seconds(10));
    child_.reset();
  }
}

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
