#include "sources/receive_spool.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>

#include "backoff.hpp"

namespace customeriq {
namespace {

using namespace std::chrono_literals;

// After a batch the writer could not commit, the feed starts again from it.
constexpr Backoff kRefeedBackoff{1000ms, 30000ms};
// How often settled rows are deleted when nothing new arrives.
constexpr auto kIdleDeleteInterval = 200ms;

std::size_t size_of(const RawMessage& message) {
  std::size_t size = message.bytes.size() + message.subject.size();
  for (const auto& [name, value] : message.headers) size += name.size() + value.size() + 8;
  return size;
}

// Headers as NATS and HTTP write them, one "Name: value\r\n" per line (a
// value never holds CR or LF): cheaper than JSON for every message.
std::string header_lines(const Headers& headers) {
  std::string text;
  for (const auto& [name, value] : headers) {
    text += name;
    text += ": ";
    text += value;
    text += "\r\n";
  }
  return text;
}

Headers parse_header_lines(std::string_view text) {
  Headers headers;
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    const std::string_view line = text.substr(0, end);
    if (const auto colon = line.find(": "); colon != std::string_view::npos)
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 2);
  }
  return headers;
}

std::unique_ptr<SQLite::Database> open_spool(const std::filesystem::path& path) {
  // Each connection is used by one thread only: no per-call mutex.
  auto db = std::make_unique<SQLite::Database>(path.string(),
                                               SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
  db->setBusyTimeout(10000);
  db->exec("PRAGMA journal_mode=WAL");
  // A commit survives the process (SIGKILL); only an OS crash or power
  // loss may take the last ones (docs/NATS.md).
  db->exec("PRAGMA synchronous=NORMAL");
  // A settled event's bytes (its customer's email, say) are overwritten
  // when its row goes, not left in free pages: an erasure then leaves no
  // copy here once the spool moved past it. Debian's SQLite has it on by
  // default; another build may not.
  db->exec("PRAGMA secure_delete=ON");
  return db;
}

}  // namespace

struct ReceiveSpool::Incoming {
  std::int64_t seq;
  RawMessage message;
  std::size_t size;
};

ReceiveSpool::ReceiveSpool(SpoolOptions options, EventSink& downstream)
    : options_(std::move(options)), downstream_(downstream) {
  const std::string file = options_.path.string();
  const std::string lock_path = file + "-lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) throw StoreError("cannot create the spool lock " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw SpoolInUse("the spool " + file + " is in use by another customeriq serve of the same database");
  }
  // SQLite would create the file 0644 whatever the umask.
  if (const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  try {
    writer_db_ = open_spool(options_.path);
    writer_db_->exec(
        "CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY, subject TEXT NOT NULL, headers TEXT, "
        "payload BLOB NOT NULL)");
    reader_db_ = open_spool(options_.path);
    SQLite::Statement left(*writer_db_,
                           "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0), "
                           "coalesce(sum(length(payload) + length(subject) + coalesce(length(headers), 0)), 0) "
                           "FROM spool");
    left.executeStep();
    const auto rows = left.getColumn(0).getInt64();
    if (rows > 0) {
      settled_through_ = deleted_through_ = left.getColumn(1).getInt64() - 1;
      written_through_ = left.getColumn(2).getInt64();
      next_seq_ = written_through_ + 1;
      pending_bytes_ = static_cast<std::uint64_t>(left.getColumn(3).getInt64());
      stats_.left_by_last_run = static_cast<std::uint64_t>(rows);
      spdlog::info("[Spool] {} events received before the last stop are not applied yet: applying them first",
                   rows);
    }
  } catch (const SQLite::Exception& error) {
    ::close(lock_fd_);
    throw StoreError("cannot open the spool " + file + ": " + error.what());
  }
  writer_thread_ = std::thread([this] { write_loop(); });
  feeder_thread_ = std::thread([this] { feed_loop(); });
}

ReceiveSpool::~ReceiveSpool() {
  stop();
  writer_db_.reset();
  reader_db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void ReceiveSpool::submit(RawMessage message) {
  const std::size_t size = size_of(message);
  std::unique_lock lock(mutex_);
  room_.wait(lock, [&] { return incoming_.empty() || incoming_bytes_ + size <= options_.memory_bytes || stopping_; });
  if (stopping_) throw std::logic_error("ReceiveSpool::submit after stop");
  if (pending_bytes_ + size > options_.max_bytes) {
    ++stats_.dropped;
    const auto now = std::chrono::steady_clock::now();
    if (!last_full_log_ || now - *last_full_log_ >= 5s) {
      last_full_log_ = now;
      spdlog::warn("[Spool] The spool is full ({} bytes of events not applied yet, NATS_SPOOL_MAX_BYTES={}): "
                   "dropping events ({} so far); core NATS will not redeliver them",
                   pending_bytes_, options_.max_bytes, stats_.dropped);
    }
    return;
  }
  message.ack = nullptr;
  incoming_.push_back(Incoming{next_seq_++, std::move(message), size});
  incoming_bytes_ += size;
  pending_bytes_ += size;
  if (incoming_.size() == 1) wake_writer_.notify_one();
}

void ReceiveSpool::write_loop() {
  pthread_setname_np(pthread_self(), "spool-write");
  SQLite::Statement insert(*writer_db_, "INSERT INTO spool (seq, subject, headers, payload) VALUES (?, ?, ?, ?)");
  SQLite::Statement remove(*writer_db_, "DELETE FROM spool WHERE seq <= ?");
  std::deque<Incoming> batch;
  int failures = 0;
  for (;;) {
    std::int64_t delete_through = 0;
    bool last_round = false;
    {
      std::unique_lock lock(mutex_);
      if (batch.empty()) {
        wake_writer_.wait_for(lock, kIdleDeleteInterval,
                              [&] { return !incoming_.empty() || stopping_; });
        batch.swap(incoming_);
        incoming_bytes_ = 0;
      }
      delete_through = settled_through_;
      last_round = stopping_ && incoming_.empty();
    }
    room_.notify_all();
    if (!batch.empty() || delete_through > deleted_through_) {
      try {
        SQLite::Transaction transaction(*writer_db_);
        for (const Incoming& item : batch) {
          insert.bind(1, static_cast<int64_t>(item.seq));
          // The batch outlives each exec: nothing needs copying into SQLite.
          insert.bindNoCopy(2, item.message.subject);
          std::string headers;
          if (item.message.headers.empty()) {
            insert.bind(3);
          } else {
            headers = header_lines(item.message.headers);
            insert.bindNoCopy(3, headers);
          }
          insert.bindNoCopy(4, item.message.bytes.data(), static_cast<int>(item.message.bytes.size()));
          insert.exec();
          insert.reset();
        }
        if (delete_through > deleted_through_) {
          remove.bind(1, static_cast<int64_t>(delete_through));
          remove.exec();
          remove.reset();
        }
        transaction.commit();
        failures = 0;
      } catch (const SQLite::Exception& error) {
        insert.tryReset();
        remove.tryReset();
        // The messages stay in memory (new ones wait for room); the file
        // may be full, or locked: try again.
        const auto wait = kRefeedBackoff.after(++failures);
        spdlog::error("[Spool] Cannot write the spool {}: {}; {} events wait in memory, retrying in {} ms",
                      options_.path.string(), error.what(), batch.size(), wait.count());
        std::unique_lock lock(mutex_);
        if (stopping_ && failures >= 3) {
          spdlog::error("[Spool] Stopping: {} events received were not spooled and are lost", batch.size());
          return;
        }
        wake_writer_.wait_for(lock, wait, [&] { return stopping_; });
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        if (!batch.empty()) {
          written_through_ = batch.back().seq;
          stats_.spooled += batch.size();
        }
        deleted_through_ = std::max(deleted_through_, delete_through);
      }
      batch.clear();
      written_.notify_all();
    }
    if (last_round) return;
  }
}

void ReceiveSpool::feed_loop() {
  pthread_setname_np(pthread_self(), "spool-feed");
  // Receiving comes first: when the cores are busy, the feed (and the
  // pipeline work it does) yields to the threads that take messages in.
  if (options_.feed_nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.feed_nice);
  SQLite::Statement select(*reader_db_,
                           "SELECT seq, subject, headers, payload FROM spool WHERE seq > ? ORDER BY seq LIMIT ?");
  std::int64_t fed_through;
  {
    std::lock_guard lock(mutex_);
    fed_through = settled_through_;
  }
  int refeeds = 0;
  for (;;) {
    bool failed = false;
    {
      std::unique_lock lock(mutex_);
      written_.wait(lock, [&] { return stopping_ || written_through_ > fed_through || failed_seq_ != 0; });
      if (stopping_) return;
      failed = failed_seq_ != 0;
    }
    if (failed) {
      // Everything fed so far settles first; then the feed starts again
      // after the last event applied (those after it come back as duplicates).
      downstream_.flush();
      const auto wait = kRefeedBackoff.after(++refeeds);
      std::unique_lock lock(mutex_);
      spdlog::warn("[Spool] Events from spool seq {} on were not committed: feeding them again in {} ms",
                   failed_seq_, wait.count());
      written_.wait_for(lock, wait, [&] { return stopping_; });
      if (stopping_) return;
      fed_through = settled_through_;
      failed_seq_ = 0;
      continue;
    }
    std::vector<std::pair<std::int64_t, RawMessage>> rows;
    try {
      select.bind(1, static_cast<int64_t>(fed_through));
      select.bind(2, static_cast<int64_t>(options_.feed_batch));
      while (select.executeStep()) {
        RawMessage message;
        message.subject = select.getColumn(1).getString();
        if (!select.getColumn(2).isNull()) message.headers = parse_header_lines(select.getColumn(2).getString());
        const SQLite::Column payload = select.getColumn(3);
        message.bytes.assign(static_cast<const char*>(payload.getBlob()), static_cast<std::size_t>(payload.getBytes()));
        rows.emplace_back(select.getColumn(0).getInt64(), std::move(message));
      }
      select.reset();
    } catch (const SQLite::Exception& error) {
      select.tryReset();
      spdlog::error("[Spool] Cannot read the spool {}: {}; retrying", options_.path.string(), error.what());
      std::unique_lock lock(mutex_);
      written_.wait_for(lock, 1s, [&] { return stopping_; });
      continue;
    }
    for (auto& [seq, message] : rows) {
      const std::size_t bytes = size_of(message);
      message.ack = [this, seq = seq, bytes](Outcome outcome) { settled(seq, bytes, outcome); };
      try {
        downstream_.submit(std::move(message));
      } catch (const std::logic_error&) {
        return;  // the writer stopped: the rest stays spooled
      }
      fed_through = seq;
    }
    if (!rows.empty()) refeeds = 0;
  }
}

void ReceiveSpool::settled(std::int64_t seq, std::size_t bytes, Outcome outcome) {
  bool flush_waiting = false;
  {
    std::lock_guard lock(mutex_);
    flush_waiting = flush_waiters_ > 0;
    if (outcome == Outcome::retry_later) {
      if (failed_seq_ == 0) failed_seq_ = seq;
    } else if (failed_seq_ == 0 && seq == settled_through_ + 1) {
      settled_through_ = seq;
      pending_bytes_ -= std::min<std::uint64_t>(pending_bytes_, bytes);
    }
  }
  if (flush_waiting) settled_cv_.notify_all();
  if (outcome == Outcome::retry_later) written_.notify_all();
}

void ReceiveSpool::flush() {
  {
    std::unique_lock lock(mutex_);
    const std::int64_t target = next_seq_ - 1;
    ++flush_waiters_;
    settled_cv_.wait(lock, [&] { return settled_through_ >= target || failed_seq_ != 0 || stopping_; });
    --flush_waiters_;
  }
  downstream_.flush();
}

void ReceiveSpool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  written_.notify_all();
  room_.notify_all();
  settled_cv_.notify_all();
  if (feeder_thread_.joinable()) feeder_thread_.join();
  // What was fed settles before the spool goes: the acks of events still in
  // the writer's queue call settled() on this object.
  downstream_.flush();
  if (writer_thread_.joinable()) writer_thread_.join();
  try {
    SQLite::Statement remove(*writer_db_, "DELETE FROM spool WHERE seq <= ?");
    std::lock_guard lock(mutex_);
    if (settled_through_ > deleted_through_) {
      remove.bind(1, static_cast<int64_t>(settled_through_));
      remove.exec();
      deleted_through_ = settled_through_;
    }
  } catch (const SQLite::Exception& error) {
    // They are applied again at the next start, as duplicates.
    spdlog::warn("[Spool] Cannot delete applied events from {}: {}", options_.path.string(), error.what());
  }
}

SpoolStats ReceiveSpool::stats() const {
  std::lock_guard lock(mutex_);
  SpoolStats stats = stats_;
  // Seqs are given without gaps and settle in order: what is pending is
  // everything after the last one settled.
  stats.pending = static_cast<std::uint64_t>(next_seq_ - 1 - settled_through_);
  stats.pending_bytes = pending_bytes_;
  return stats;
}

std::unique_ptr<ReceiveSpool> open_receive_spool(const std::filesystem::path& database, std::uint64_t max_bytes,
                                                 EventSink& downstream) {
  constexpr int kSlots = 8;
  auto slot = [&](int n) {
    return std::filesystem::path(database.string() + "-spool" + (n == 1 ? std::string() : "-" + std::to_string(n)));
  };
  std::unique_ptr<ReceiveSpool> own;
  for (int n = 1; n <= kSlots && !own; ++n) {
    try {
      own = std::make_unique<ReceiveSpool>(SpoolOptions{.path = slot(n), .max_bytes = max_bytes}, downstream);
      if (n > 1) spdlog::info("[Spool] Another serve of this database holds its spool: using {}", slot(n).string());
    } catch (const SpoolInUse&) {
    }
  }
  if (!own) throw SpoolInUse("all " + std::to_string(kSlots) + " spools of " + database.string() +
                             " are in use: at most 8 core-NATS serve processes may share one database");
  for (int n = 1; n <= kSlots; ++n) {
    std::error_code missing;
    if (!std::filesystem::exists(slot(n), missing)) continue;
    try {
      ReceiveSpool orphan(SpoolOptions{.path = slot(n), .max_bytes = max_bytes}, downstream);
      if (orphan.stats().left_by_last_run > 0) {
        orphan.flush();
        spdlog::info("[Spool] Applied what a stopped serve left in {}", slot(n).string());
      }
    } catch (const SpoolInUse&) {
      // ours, or a live instance's
    }
  }
  return own;
}

}  // namespace customeriq
