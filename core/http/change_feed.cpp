#include "http/change_feed.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace customeriq::http {

std::string change_frame(const Change& change) {
  const Json data = {{"seq", change.seq},
                     {"customer_id", change.customer_id},
                     {"kind", change.kind},
                     {"committed_at", change.committed_at},
                     {"row", change.row}};
  return "id: " + std::to_string(change.seq) + "\nevent: " + change.kind + "\ndata: " +
         data.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

ChangeFeed::ChangeFeed(const std::filesystem::path& database, Options options)
    : reader_(database), options_(options) {
  latest_ = memory_starts_after_ = reader_.latest_change_seq();
  thread_ = std::thread([this] { run(); });
}

ChangeFeed::~ChangeFeed() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ChangeFeed::notify() {
  {
    std::lock_guard lock(wake_mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void ChangeFeed::set_listener(std::function<void()> listener) {
  std::lock_guard lock(wake_mutex_);
  listener_ = std::move(listener);
}

std::int64_t ChangeFeed::latest_seq() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::optional<std::string> ChangeFeed::database_problem() const {
  std::lock_guard lock(mutex_);
  return database_problem_;
}

std::optional<ChangeFeed::Frames> ChangeFeed::read(std::int64_t after_seq,
                                                   const std::optional<std::string>& customer_id,
                                                   std::size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  // Older than memory, or a number this log has not given (yet): the
  // store decides (its changes, or a reset).
  if (after_seq < memory_starts_after_ || after_seq > latest_) return std::nullopt;
  Frames frames{{}, std::max(after_seq, memory_starts_after_)};
  auto entry = std::upper_bound(entries_.begin(), entries_.end(), after_seq,
                                [](std::int64_t seq, const Entry& e) { return seq < e.seq; });
  for (; entry != entries_.end(); ++entry) {
    if (!frames.text.empty() && frames.text.size() + entry->frame->size() > max_bytes) return frames;
    if (!customer_id || entry->customer_id == *customer_id) frames.text += *entry->frame;
    frames.through_seq = entry->seq;
  }
  frames.through_seq = std::max(frames.through_seq, latest_);
  return frames;
}

void ChangeFeed::run() {
  for (;;) {
    std::function<void()> listener;
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, options_.poll_interval, [&] { return notified_ || stopping_; });
      if (stopping_) return;
      notified_ = false;
      listener = listener_;
    }
    const std::int64_t before = latest_seq();
    follow();
    if (listener && latest_seq() != before) listener();
  }
}

void ChangeFeed::follow() {
  try {
    std::optional<std::string> problem;
    if (!reader_.is_migrated()) problem = "the database schema is not the one this version writes";
    for (;;) {
      const auto changes = reader_.changes_after(latest_seq(), std::nullopt, 1000);
      if (changes.empty()) break;
      std::lock_guard lock(mutex_);
      for (const auto& change : changes) {
        auto frame = std::make_shared<const std::string>(change_frame(change));
        entry_bytes_ += frame->size();
        entries_.push_back(Entry{change.seq, change.customer_id, std::move(frame)});
        latest_ = change.seq;
      }
      while (!entries_.empty() &&
             (entries_.size() > options_.memory_frames || entry_bytes_ > options_.memory_bytes)) {
        entry_bytes_ -= entries_.front().frame->size();
        memory_starts_after_ = entries_.front().seq;
        entries_.pop_front();
      }
    }
    std::lock_guard lock(mutex_);
    database_problem_ = std::move(problem);
  } catch (const std::exception& failure) {
    std::lock_guard lock(mutex_);
    if (!database_problem_) spdlog::warn("[HTTP] The change feed cannot read the database: {}", failure.what());
    database_problem_ = failure.what();
  }
}

}  // namespace customeriq::http
