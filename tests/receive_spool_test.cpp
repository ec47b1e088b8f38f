// The receive spool without NATS: a real spool file in front of a sink that
// settles messages later, on a thread of its own, as the writer does. What
// is settled leaves the file; what is not (retry_later, or not yet) is
// there for the next spool on the same file, in order. tests/nats_test.cpp
// ("[spool]") covers it inside `customeriq serve` against a real server.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "sources/receive_spool.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::TempDir;

namespace {

// Settles each message with `outcome` a moment after it arrives, from its
// own thread; flush() waits until all are settled.
class LaterSink final : public EventSink {
 public:
  explicit LaterSink(Outcome outcome) : outcome_(outcome), thread_([this] { run(); }) {}
  ~LaterSink() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  // Waits while 8 are queued, as the writer's bounded queue does.
  void submit(RawMessage message) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 8; });
    queue_.push_back(std::move(message));
    changed_.notify_all();
  }
  void flush() override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }
  std::vector<std::string> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      RawMessage message = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (message.ack) message.ack(outcome_);
      lock.lock();
      received_.push_back(message.bytes);
      busy_ = false;
      changed_.notify_all();
    }
  }

  Outcome outcome_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<RawMessage> queue_;
  std::vector<std::string> received_;
  bool busy_ = false, stopping_ = false;
  std::thread thread_;
};

RawMessage message(int n) {
  RawMessage m;
  m.bytes = "{\"n\":" + std::to_string(n) + "}";
  m.subject = "customer.events.c" + std::to_string(n % 3) + ".note";
  m.headers = {{"Nats-Msg-Id", "id-" + std::to_string(n)}, {"X-Trace", "a: b"}};
  return m;
}

}  // namespace

TEST_CASE("spool: stopped while the sink is still settling, it keeps exactly what was not applied", "[spool]") {
  TempDir dir;
  const auto path = dir / "db-spool";
  LaterSink sink(Outcome::applied);
  {
    ReceiveSpool spool(SpoolOptions{.path = path, .feed_batch = 16}, sink);
    for (int n = 0; n < 2000; ++n) spool.submit(message(n));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (sink.received().size() < 10 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Stopped now: what was fed settles first (its acks reach the spool),
    // the rest stays in the file.
  }
  const auto received = sink.received();
  REQUIRE(received.size() >= 10);
  CHECK(received.size() < 2000);
  for (std::size_t n = 0; n < received.size(); ++n) CHECK(received[n] == message(static_cast<int>(n)).bytes);
  ReceiveSpool again(SpoolOptions{.path = path}, sink);
  CHECK(again.stats().left_by_last_run == 2000 - received.size());
  again.flush();
  const auto all = sink.received();
  REQUIRE(all.size() == 2000);
  for (std::size_t n = 0; n < all.size(); ++n) CHECK(all[n] == message(static_cast<int>(n)).bytes);
}

TEST_CASE("spool: what could not be committed stays, and the next spool feeds it again, in order, headers and all",
          "[spool]") {
  TempDir dir;
  const auto path = dir / "db-spool";
  {
    LaterSink failing(Outcome::retry_later);
    ReceiveSpool spool(SpoolOptions{.path = path}, failing);
    for (int n = 0; n < 50; ++n) spool.submit(message(n));
    spool.flush();
    CHECK(spool.stats().pending == 50);
  }
  struct Recording final : EventSink {
    std::vector<RawMessage> messages;
    std::mutex mutex;
    void submit(RawMessage m) override {
      std::lock_guard lock(mutex);
      if (m.ack) m.ack(Outcome::applied);
      messages.push_back(std::move(m));
    }
    void flush() override {}
  } recording;
  {
    ReceiveSpool spool(SpoolOptions{.path = path}, recording);
    CHECK(spool.stats().left_by_last_run == 50);
    spool.flush();
    CHECK(spool.stats().pending == 0);
  }
  std::lock_guard lock(recording.mutex);
  REQUIRE(recording.messages.size() == 50);
  for (int n = 0; n < 50; ++n) {
    const RawMessage& got = recording.messages[static_cast<std::size_t>(n)];
    CHECK(got.bytes == message(n).bytes);
    CHECK(got.subject == message(n).subject);
    CHECK(got.headers == message(n).headers);
  }
}

// Debian's SQLite is built with SECURE_DELETE on; the spool asks for it
// itself, so that this holds with any SQLite.
TEST_CASE("spool: a settled event leaves no copy of its bytes in the spool file", "[spool]") {
  TempDir dir;
  const auto path = dir / "db-spool";
  auto event = [](int n) {
    RawMessage m = message(n);
    m.bytes = R"({"customer_id":"c","event_type":"note","data":{"email":"private.)" + std::to_string(n) +
              R"(@example.com","note":")" + std::string(400, 'x') + R"("}})";
    return m;
  };
  {
    LaterSink sink(Outcome::applied);
    ReceiveSpool spool(SpoolOptions{.path = path, .feed_batch = 16}, sink);
    for (int n = 0; n < 3000; ++n) spool.submit(event(n));
    spool.flush();
    CHECK(spool.stats().pending == 0);
  }
  // The last connection closed: the WAL is checkpointed into the file and removed.
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
  std::ifstream file(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(bytes.size() > 0);
  CHECK(bytes.find("@example.com") == std::string::npos);
}

TEST_CASE("spool: a second spool on the same file is refused while the first holds it", "[spool]") {
  TempDir dir;
  LaterSink sink(Outcome::applied);
  ReceiveSpool first(SpoolOptions{.path = dir / "db-spool"}, sink);
  CHECK_THROWS_AS(ReceiveSpool(SpoolOptions{.path = dir / "db-spool"}, sink), SpoolInUse);
  // open_receive_spool takes the next slot instead.
  auto second = open_receive_spool(dir / "db", 1 << 20, sink);
  REQUIRE(second);
}
