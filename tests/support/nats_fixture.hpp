// For the NATS tests: what they check on a real nats-server (NatsServer,
// nats_server.hpp) and on the processes they run in the background
// (ChildProcess, child_process.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopback.hpp"
#include "nats_server.hpp"
#include "test_support.hpp"

namespace customeriq::test {

using namespace std::chrono_literals;

// A loopback port with a socket listening on it (connections are never
// accepted), held until destroyed: a port that is taken.
class TakenPort {
 public:
  TakenPort();
  ~TakenPort();
  TakenPort(const TakenPort&) = delete;
  TakenPort& operator=(const TakenPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// GET http://127.0.0.1:<port><path> (HTTP/1.0): the whole response, status
// line and headers included; nullopt when nothing listens there.
std::optional<std::string> http_get(int port, const std::string& path);

// Polls until condition() holds; false at the timeout.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 50ms);

// Options to run customeriq with: no NATS_* or CUSTOMERIQ_* from the
// test's environment, a HOME of its own, serve's HTTP API on a free port
// (CUSTOMERIQ_HTTP_ADDR=127.0.0.1:0), plus env.
ProcessOptions customeriq_env(const TempDir& dir, std::map<std::string, std::string> env);

// One integer from the database (0 when the file or table is not there yet).
std::int64_t query_count(const std::filesystem::path& database, const std::string& sql);
// The first column of the first row, as text; throws what SQLite says.
std::string query_text(const std::filesystem::path& database, const std::string& sql);

// The numbers of the "[NATS] Stopped: ..." summary line.
struct ServeSummary {
  std::int64_t received = -1, applied = -1, duplicates = -1, dead_lettered = -1, suppressed = -1, dropped = -1,
               not_committed = -1;
};
std::optional<ServeSummary> parse_summary(const std::string& log);

// Publishes bytes as they are (e.g. an invalid event) with a Nats-Msg-Id;
// through JetStream (acknowledged) or core NATS (flushed).
void publish_raw(const std::string& url, const std::string& subject, const std::string& data,
                 const std::string& message_id, bool jetstream);

// The durable consumer as the server sees it.
struct ConsumerState {
  std::uint64_t delivered = 0;     // consumer sequence: deliveries, redeliveries included
  std::int64_t ack_pending = 0;    // delivered, not acknowledged yet
  std::uint64_t pending = 0;       // not delivered yet
  std::int64_t redelivered = 0;
};
ConsumerState consumer_state(const std::string& url, const std::string& stream,
                             const std::string& durable);

}  // namespace customeriq::test
