// ReceiveSpool: a durable buffer on disk between core NATS and the writer.
// Core NATS never redelivers, so what its client library cannot hold is
// lost; the spool takes each message at network speed into a SQLite file of
// its own, and feeds the pipeline from there, in order, as fast as the
// writer commits. A spooled message survives a crash of the process
// (SIGKILL) and is applied after the restart, once: its row goes only after
// the commit that holds its effects, and the idempotency key turns a second
// delivery into a duplicate. Memory stays bounded whatever the burst; the
// file is bounded by max_bytes, beyond which messages are dropped, counted
// and logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "event_sink.hpp"
#include "store/store_error.hpp"

namespace SQLite {
class Database;
}

namespace customeriq {

struct SpoolOptions {
  std::filesystem::path path;            // its folder exists
  std::uint64_t max_bytes = 1ull << 30;  // payloads, subjects and headers spooled and not yet applied
  std::size_t memory_bytes = 8 << 20;    // received, not yet in the file: submit() waits beyond it
  std::size_t feed_batch = 512;          // rows read per step of the feed
  int feed_nice = 10;                    // the feeding thread's nice value (see feed_loop)
};

struct SpoolStats {
  std::uint64_t spooled = 0;         // messages written to the file by this process
  std::uint64_t dropped = 0;         // refused because the spool was full
  std::uint64_t pending = 0;         // in the file (or on the way to it), not yet applied
  std::uint64_t pending_bytes = 0;
  std::uint64_t left_by_last_run = 0;  // found in the file at start
};

// Another process holds the spool file.
struct SpoolInUse : StoreError {
  using StoreError::StoreError;
};

class ReceiveSpool final : public EventSink {
 public:
  // Opens (creating it mode 0600) and locks the spool file; what a previous
  // run left in it is fed first. Throws SpoolInUse when another process
  // holds it, StoreError naming the file when it cannot be opened. The
  // downstream sink must settle what it was given (flush) before the spool
  // goes.
  ReceiveSpool(SpoolOptions options, EventSink& downstream);
  ~ReceiveSpool() override;  // stop()
  ReceiveSpool(const ReceiveSpool&) = delete;
  ReceiveSpool& operator=(const ReceiveSpool&) = delete;

  // Takes the message into the spool; waits only while memory_bytes are on
  // their way to the file. A message that would take the spool past
  // max_bytes is dropped (counted, logged every few seconds). The message's
  // own ack is not called: the spool acknowledges by deleting its row.
  void submit(RawMessage message) override;

  // Returns once everything submitted before the call is in the file, fed
  // downstream and settled (or could not be committed: it stays spooled).
  void flush() override;

  // Stops writing and feeding, waits for what was fed to settle
  // (downstream flush), and deletes what was applied. What is not settled
  // stays in the file for the next run.
  void stop();

  SpoolStats stats() const;

 private:
  struct Incoming;
  void write_loop();
  void feed_loop();
  void settled(std::int64_t seq, std::size_t bytes, Outcome outcome);

  SpoolOptions options_;
  EventSink& downstream_;
  std::unique_ptr<SQLite::Database> writer_db_, reader_db_;
  int lock_fd_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_, room_, written_, settled_cv_;
  std::deque<Incoming> incoming_;
  std::size_t incoming_bytes_ = 0;
  std::int64_t next_seq_ = 1;          // the seq the next message gets
  std::int64_t written_through_ = 0;   // every seq up to it is in the file
  std::int64_t settled_through_ = 0;   // every seq up to it is applied (or a duplicate, or dead-lettered)
  std::int64_t deleted_through_ = 0;   // rows up to it are gone from the file
  std::int64_t failed_seq_ = 0;        // the first seq the writer could not commit, 0 for none
  std::uint64_t pending_bytes_ = 0;
  int flush_waiters_ = 0;  // settled() wakes flush() only when one waits
  bool stopping_ = false;
  SpoolStats stats_;
  std::optional<std::chrono::steady_clock::time_point> last_full_log_;

  std::thread writer_thread_, feeder_thread_;
};

// The spool of one `serve` of database: the first of database + "-spool",
// "-spool-2" … "-spool-8" no other process holds. Before it returns, what
// instances that are gone left in the other ones is applied through
// downstream (and those files emptied). Throws SpoolInUse when all eight
// are taken.
std::unique_ptr<ReceiveSpool> open_receive_spool(const std::filesystem::path& database, std::uint64_t max_bytes,
                                                 EventSink& downstream);

}  // namespace customeriq
