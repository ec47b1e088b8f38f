#include "http/change_stream.hpp"

#include <memory>

namespace customeriq::http {
namespace {

constexpr std::size_t kStoreBatch = 500;

std::string reset_frame(std::int64_t latest, std::int64_t asked_after) {
  const Json data = {{"reason", "changes after " + std::to_string(asked_after) +
                                    " are no longer retained: read the profiles again; the stream "
                                    "goes on from here"},
                     {"seq", latest}};
  return "id: " + std::to_string(latest) + "\nevent: reset\ndata: " + data.dump() + "\n\n";
}

}  // namespace

ChangeStream::ChangeStream(ChangeFeed& feed, ReadPool& reads, std::int64_t after_seq,
                           std::optional<std::string> customer_id)
    : feed_(feed), reads_(reads), customer_id_(std::move(customer_id)), after_seq_(after_seq) {}

void ChangeStream::next(std::size_t max_bytes, std::function<void(std::string, bool)> deliver) {
  std::int64_t after;
  {
    std::lock_guard lock(mutex_);
    after = after_seq_;
  }
  if (auto frames = feed_.read(after, customer_id_, max_bytes)) {
    {
      std::lock_guard lock(mutex_);
      after_seq_ = frames->through_seq;
    }
    return deliver(std::move(frames->text), false);
  }
  read_store(max_bytes, std::move(deliver));
}

void ChangeStream::read_store(std::size_t max_bytes, std::function<void(std::string, bool)> deliver) {
  auto self = std::static_pointer_cast<ChangeStream>(shared_from_this());
  const bool queued = reads_.submit([self, max_bytes, deliver](StoreReader& reader) mutable {
    std::int64_t after;
    {
      std::lock_guard lock(self->mutex_);
      after = self->after_seq_;
    }
    std::string text;
    try {
      // Read before the changes: every change up to it is visible to the
      // query that follows.
      const std::int64_t latest = reader.latest_change_seq();
      if (after > latest || !reader.change_retained_after(after)) {
        std::lock_guard lock(self->mutex_);
        self->after_seq_ = latest;
        text = reset_frame(latest, after);
      } else {
        const auto changes = reader.changes_after(after, self->customer_id_, kStoreBatch);
        std::int64_t through = after;
        std::size_t sent = 0;
        for (const auto& change : changes) {
          if (!text.empty() && text.size() > max_bytes) break;
          text += change_frame(change);
          through = change.seq;
          ++sent;
        }
        // Everything up to `latest` has been looked at when the query
        // returned less than it was allowed and all of it was sent.
        if (sent == changes.size() && changes.size() < kStoreBatch) through = std::max(through, latest);
        std::lock_guard lock(self->mutex_);
        self->after_seq_ = through;
      }
    } catch (const std::exception&) {
      return deliver({}, true);  // the client resumes from its last id
    }
    // Whatever was read, more may follow: ask again.
    if (text.empty()) self->feed_advanced();
    deliver(std::move(text), false);
  });
  if (!queued) deliver({}, true);
}

}  // namespace customeriq::http
