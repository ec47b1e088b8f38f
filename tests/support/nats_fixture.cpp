#include "nats_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <nats/nats.h>

#include <regex>
#include <stdexcept>
#include <thread>

#include <SQLiteCpp/Database.h>

extern char** environ;

namespace customeriq::test {

TakenPort::TakenPort() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd_, 16) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd_);
    throw std::runtime_error("cannot listen on a loopback port");
  }
  port_ = ntohs(address.sin_port);
}

TakenPort::~TakenPort() { close(fd_); }

std::optional<std::string> http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  return response;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

ProcessOptions customeriq_env(const TempDir& dir, std::map<std::string, std::string> env) {
  ProcessOptions options;
  for (char** entry = environ; *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string name(text.substr(0, text.find('=')));
    if ((name.rfind("NATS_", 0) == 0 || name.rfind("CUSTOMERIQ_", 0) == 0) && !env.count(name))
      options.unset_env.push_back(name);
  }
  if (!env.count("HOME")) env["HOME"] = dir.path().string();
  // Tests run side by side: serve's HTTP API takes a free port, not 8080.
  env.try_emplace("CUSTOMERIQ_HTTP_ADDR", "127.0.0.1:0");
  options.env = std::move(env);
  options.working_directory = dir.path();  // no stray .env from where the tests run
  return options;
}

std::string query_text(const std::filesystem::path& database, const std::string& sql) {
  SQLite::Database db(database.string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  return db.execAndGet(sql).getString();
}

std::int64_t query_count(const std::filesystem::path& database, const std::string& sql) {
  if (!std::filesystem::exists(database)) return 0;
  try {
    SQLite::Database db(database.string(), SQLite::OPEN_READONLY);
    db.setBusyTimeout(5000);
    return db.execAndGet(sql).getInt64();
  } catch (const std::exception&) {
    return 0;  // the schema is not there yet
  }
}

std::optional<ServeSummary> parse_summary(const std::string& log) {
  static const std::regex line(
      R"(\[NATS\] Stopped: (\d+) received, (\d+) applied, (\d+) duplicates, (\d+) dead-lettered, (\d+) suppressed, (\d+) dropped, (\d+) not committed)");
  std::smatch match;
  if (!std::regex_search(log, match, line)) return std::nullopt;
  ServeSummary summary;
  summary.received = std::stoll(match[1]);
  summary.applied = std::stoll(match[2]);
  summary.duplicates = std::stoll(match[3]);
  summary.dead_lettered = std::stoll(match[4]);
  summary.suppressed = std::stoll(match[5]);
  summary.dropped = std::stoll(match[6]);
  summary.not_committed = std::stoll(match[7]);
  return summary;
}

void publish_raw(const std::string& url, const std::string& subject, const std::string& data,
                 const std::string& message_id, bool jetstream) {
  natsConnection* connection = nullptr;
  if (natsConnection_ConnectTo(&connection, url.c_str()) != NATS_OK)
    throw std::runtime_error("cannot connect to " + url);
  natsMsg* msg = nullptr;
  natsStatus status = natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (status == NATS_OK) status = natsMsgHeader_Set(msg, "Nats-Msg-Id", message_id.c_str());
  jsCtx* js = nullptr;
  if (status == NATS_OK && jetstream) {
    status = natsConnection_JetStream(&js, connection, nullptr);
    if (status == NATS_OK) status = js_PublishMsg(nullptr, js, msg, nullptr, nullptr);
  } else if (status == NATS_OK) {
    status = natsConnection_PublishMsg(connection, msg);
    if (status == NATS_OK) status = natsConnection_FlushTimeout(connection, 5000);
  }
  natsMsg_Destroy(msg);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  if (status != NATS_OK) throw std::runtime_error(std::string("publish: ") + natsStatus_GetText(status));
}

ConsumerState consumer_state(const std::string& url, const std::string& stream,
                             const std::string& durable) {
  natsConnection* connection = nullptr;
  if (natsConnection_ConnectTo(&connection, url.c_str()) != NATS_OK)
    throw std::runtime_error("cannot connect to " + url);
  jsCtx* js = nullptr;
  jsConsumerInfo* info = nullptr;
  natsStatus status = natsConnection_JetStream(&js, connection, nullptr);
  if (status == NATS_OK)
    status = js_GetConsumerInfo(&info, js, stream.c_str(), durable.c_str(), nullptr, nullptr);
  ConsumerState state;
  if (status == NATS_OK) {
    state.delivered = info->Delivered.Consumer;
    state.ack_pending = info->NumAckPending;
    state.pending = info->NumPending;
    state.redelivered = info->NumRedelivered;
    jsConsumerInfo_Destroy(info);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  if (status != NATS_OK)
    throw std::runtime_error(std::string("consumer info: ") + natsStatus_GetText(status));
  return state;
}

}  // namespace customeriq::test
