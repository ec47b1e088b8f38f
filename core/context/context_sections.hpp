// The sections of the context document, rendered from the store's rows as
// whole lines, most important section first. Which lines fit the budget is
// context_document.cpp's part. For context/ only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/store_reader.hpp"

namespace customeriq {

// Longest value of a fact, in code points; longer ones end in "…".
inline constexpr std::size_t kFactChars = 200;

struct ContextLine {
  std::string text;
  std::size_t items = 1;  // rows it stands for: a folded run of events, its events
  // Timeline lines: (event_date, id) of the oldest event the line stands for.
  std::optional<std::pair<std::int64_t, std::int64_t>> oldest_event;
};

struct ContextSection {
  std::string name;      // its key in ContextDocument::omitted
  std::string heading;   // "## …"; for a section without rows, the whole section ("## Knowledge: none")
  std::vector<ContextLine> lines;
  std::size_t total = 0;  // items in all, also those not read
};

// The customer's heading, identity and as-of lines; the longest values are
// shortened until they take at most max_chars code points (newlines
// included) or cannot be shortened further. shortened: how many were.
std::vector<std::string> identity_lines(const Json& customer, std::int64_t now, std::size_t max_chars,
                                        std::size_t& shortened);

ContextSection open_work_orders_section(const RowSlice& orders, std::int64_t now);
ContextSection purchases_section(const RowSlice& purchases, std::int64_t now);
ContextSection knowledge_section(const RowSlice& knowledge);
// events: the newest, newest first; runs of one type and title fold into one line.
ContextSection timeline_section(const Json& events, std::size_t total_events);
ContextSection activity_section(const std::vector<EventTypeCount>& counts, const std::optional<Json>& last_contact);

}  // namespace customeriq
