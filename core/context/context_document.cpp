#include "context/context_document.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "context/context_sections.hpp"
#include "context/fact_text.hpp"

namespace customeriq {
namespace {

// A section first reads one row per kTypicalLineChars of the budget left
// to it, then more while its lines do not fill that budget; never more
// than kMaxRowsPerSection.
constexpr std::size_t kMaxRowsPerSection = 2000;
constexpr std::size_t kTypicalLineChars = 80;
// A customer id longer than this is written {id} in the closing line's
// paths: the identity line names it.
constexpr std::size_t kMaxPathIdChars = 64;

// One line of the document after the identity, in the order of priority.
struct Entry {
  const std::string* text;
  std::size_t section;  // index into the sections
  std::size_t items;
  bool heading;  // a heading that stands only with a line of its section after it
  const ContextLine* line;  // nullptr for headings
};

struct LeftOut {
  const char* section;
  const char* one;   // what a count of 1 counts
  const char* many;  // what other counts count
  const char* path;  // under the customer's path, where the rest is
};

constexpr LeftOut kLeftOut[] = {
    {"identity", "identity value shortened", "identity values shortened", ""},
    {"work_orders", "open work order", "open work orders", "work-orders"},
    {"purchases", "purchase", "purchases", "purchases"},
    {"knowledge", "knowledge row", "knowledge rows", "knowledge"},
    {"timeline", "timeline event", "timeline events", "timeline"},
    {"activity", "activity line", "activity lines", "timeline"},
};

// How to read the rest of a section; for the timeline with the cursor
// after the last event shown.
std::string how_to_get(const LeftOut& part, const std::string& customer_path,
                       const std::optional<std::string>& cursor) {
  const std::string section = part.section;
  const std::string path = customer_path + (*part.path ? "/" : "") + part.path;
  if (section == "timeline")
    return "`GET " + path + (cursor ? "?cursor=" + *cursor : std::string()) +
           "`, or the MCP tool `get_customer_timeline`";
  if (section == "activity") return "`GET " + path + "?types=TYPE`";
  return "`GET " + path + "`";
}

// The closing line: what was left out, and where to read it: for each part
// (full), or one path for them all.
std::string closing_line(const std::map<std::string, std::size_t>& omitted, const std::string& customer_path,
                         const std::optional<std::string>& cursor, bool full) {
  if (omitted.empty()) return "_Nothing was left out._";
  std::string line = "_Left out: ";
  std::vector<std::string> paths;
  for (const LeftOut& part : kLeftOut) {
    const auto count = omitted.find(part.section);
    if (count == omitted.end()) continue;
    if (line.back() != ' ') line += ", ";
    line += std::to_string(count->second) + " " + (count->second == 1 ? part.one : part.many);
    if (full) line += " (" + how_to_get(part, customer_path, cursor) + ")";
    if (*part.path && std::find(paths.begin(), paths.end(), part.path) == paths.end()) paths.push_back(part.path);
  }
  if (!full) {
    line += " (`GET " + customer_path;
    if (paths.size() == 1) line += "/" + paths.front();
    if (paths.size() > 1) {
      line += "/{";
      for (std::size_t i = 0; i < paths.size(); ++i) line += (i ? "," : "") + paths[i];
      line += "}";
    }
    line += "`)";
  }
  return line + "._";
}

}  // namespace

Json ContextDocument::to_json() const {
  Json left_out = Json::object();
  for (const auto& [section, count] : omitted) left_out[section] = count;
  return Json{{"customer_id", customer_id}, {"text", text}, {"truncated", truncated}, {"omitted", left_out}};
}

std::optional<ContextDocument> build_context_document(StoreReader& reader, const std::string& customer_id,
                                                      const ContextOptions& options) {
  const std::size_t max_chars = options.max_chars;
  if (max_chars < kMinContextChars)
    throw std::invalid_argument("max_chars must be at least " + std::to_string(kMinContextChars) + ", got " +
                                std::to_string(max_chars));
  const std::optional<Json> customer = reader.customer(customer_id);
  if (!customer) return std::nullopt;
  const std::int64_t now = options.now != 0 ? options.now : static_cast<std::int64_t>(std::time(nullptr));
  const std::vector<EventTypeCount> counts = reader.event_type_counts(customer_id);
  std::size_t total_events = 0;
  for (const EventTypeCount& count : counts) total_events += count.count;
  const std::size_t open_work_orders = reader.open_work_orders(customer_id, 0).total;
  const std::size_t purchases = reader.recent_purchases(customer_id, 0).total;
  const std::size_t knowledge = reader.top_knowledge(customer_id, 0).total;
  const ContextSection activity = activity_section(counts, reader.last_contact(customer_id));

  const std::string id_segment = path_segment(customer_id);
  const std::string customer_path =
      "/v1/customers/" + (id_segment.size() <= kMaxPathIdChars ? id_segment : std::string("{id}"));

  // The closing line's longest short form, everything left out: the
  // identity never takes the room it needs.
  const std::map<std::string, std::size_t> everything{
      {"identity", 7},
      {"work_orders", std::max<std::size_t>(open_work_orders, 1)},
      {"purchases", std::max<std::size_t>(purchases, 1)},
      {"knowledge", std::max<std::size_t>(knowledge, 1)},
      {"timeline", std::max<std::size_t>(total_events, 1)},
      {"activity", std::max<std::size_t>(activity.total, 1)}};
  const std::size_t closing_reserve = code_points(closing_line(everything, customer_path, std::nullopt, false)) + 2;
  std::size_t identity_shortened = 0;
  const std::vector<std::string> identity =
      identity_lines(*customer, now, max_chars - std::min(max_chars, closing_reserve), identity_shortened);
  std::string identity_text;
  for (const std::string& line : identity) identity_text += (identity_text.empty() ? "" : "\n") + line;
  const std::size_t identity_chars = code_points(identity_text);

  // Sections in the order of priority, each read as far as the budget the
  // ones before it left could show (the reads are ordered, so reading more
  // only adds lines after the ones that would not fit).
  std::size_t room = max_chars - std::min(max_chars, identity_chars);
  auto section_chars = [](const ContextSection& section) {
    std::size_t chars = 2 + code_points(section.heading);
    for (const ContextLine& line : section.lines) chars += 1 + code_points(line.text);
    return chars;
  };
  // read(limit) renders the section from at most limit rows and says how many it read.
  auto fill = [&](std::size_t total, auto read) {
    ContextSection section;
    std::size_t limit = std::min({kMaxRowsPerSection, total, room / kTypicalLineChars + 2});
    if (total == 0 || room == 0) limit = 0;
    for (;;) {
      std::size_t rows_read = 0;
      section = read(limit, rows_read);
      const std::size_t chars = section_chars(section);
      if (limit == 0 || chars > room || rows_read < limit || limit >= std::min(kMaxRowsPerSection, total)) {
        room -= std::min(room, chars);
        return section;
      }
      // As many more as the lines so far suggest would fill the room, at least twice as many.
      limit = std::min({kMaxRowsPerSection, total, std::max(2 * limit, limit * room / chars * 5 / 4 + 1)});
    }
  };
  auto slice_reader = [&](RowSlice (StoreReader::*read)(const std::string&, std::size_t), std::size_t total,
                          auto render) {
    return [&, read, total, render](std::size_t limit, std::size_t& rows_read) {
      RowSlice slice = limit == 0 ? RowSlice{Json::array(), total} : (reader.*read)(customer_id, limit);
      rows_read = slice.items.size();
      return render(slice);
    };
  };
  std::vector<ContextSection> sections;
  sections.push_back(fill(open_work_orders, slice_reader(&StoreReader::open_work_orders, open_work_orders,
                                                         [now](const RowSlice& rows) {
                                                           return open_work_orders_section(rows, now);
                                                         })));
  sections.push_back(fill(purchases, slice_reader(&StoreReader::recent_purchases, purchases,
                                                  [now](const RowSlice& rows) { return purchases_section(rows, now); })));
  sections.push_back(fill(knowledge, slice_reader(&StoreReader::top_knowledge, knowledge,
                                                  [](const RowSlice& rows) { return knowledge_section(rows); })));
  sections.push_back(fill(total_events, [&](std::size_t limit, std::size_t& rows_read) {
    Json events = limit == 0 ? Json::array() : reader.timeline(customer_id, {.limit = limit})->at("items");
    rows_read = events.size();
    return timeline_section(events, total_events);
  }));
  sections.push_back(activity);
  constexpr std::size_t kTimeline = 3;

  // A section's heading starts with the blank line before it.
  std::vector<std::string> headings;
  for (const ContextSection& section : sections) headings.push_back("\n" + section.heading);
  std::vector<Entry> entries;
  std::size_t timeline_begin = 0, timeline_end = 0;
  for (std::size_t s = 0; s < sections.size(); ++s) {
    if (s == kTimeline) timeline_begin = entries.size();
    const bool has_lines = !sections[s].lines.empty();
    // A section with rows but none read is left out whole.
    if (has_lines || sections[s].total == 0) entries.push_back({&headings[s], s, 0, has_lines, nullptr});
    for (const ContextLine& line : sections[s].lines) entries.push_back({&line.text, s, line.items, false, &line});
    if (s == kTimeline) timeline_end = entries.size();
  }
  // prefix[k]: code points of the first k entries, each after a newline.
  std::vector<std::size_t> prefix(entries.size() + 1, 0);
  for (std::size_t i = 0; i < entries.size(); ++i) prefix[i + 1] = prefix[i] + 1 + code_points(*entries[i].text);

  // The most entries that fit before any closing line.
  std::size_t most = 0;
  while (most < entries.size() && identity_chars + prefix[most + 1] + 2 <= max_chars) ++most;
  auto omitted_with = [&](const std::vector<std::size_t>& kept_items) {
    std::map<std::string, std::size_t> omitted;
    if (identity_shortened > 0) omitted["identity"] = identity_shortened;
    for (std::size_t s = 0; s < sections.size(); ++s)
      if (sections[s].total > kept_items[s]) omitted[sections[s].name] = sections[s].total - kept_items[s];
    return omitted;
  };
  auto cursor_with = [&](std::size_t shown) -> std::optional<std::string> {
    const std::size_t last = std::min(shown, timeline_end);
    if (last <= timeline_begin + 1) return std::nullopt;
    const ContextLine* line = entries[last - 1].line;
    if (!line || !line->oldest_event) return std::nullopt;
    return timeline_cursor_after(line->oldest_event->first, line->oldest_event->second);
  };

  // Lines go from the end (the lowest priority first) until the closing
  // line fits. The full one may take the room of timeline and activity
  // lines only; else the short one takes what room it needs. A heading
  // goes with the last line of its section; the identity always stays.
  std::vector<std::size_t> kept_at_most(sections.size(), 0);
  for (std::size_t i = 0; i < most; ++i) kept_at_most[entries[i].section] += entries[i].items;
  std::optional<std::size_t> shown;
  std::string closing;
  std::map<std::string, std::size_t> omitted;
  for (const bool full : {true, false}) {
    std::vector<std::size_t> kept_items = kept_at_most;
    const std::size_t fewest = full ? std::min(most, timeline_begin) : 0;
    for (std::size_t candidate = most;; --candidate) {
      if (candidate == 0 || !entries[candidate - 1].heading) {
        std::map<std::string, std::size_t> left_out = omitted_with(kept_items);
        std::string line = closing_line(left_out, customer_path, cursor_with(candidate), full);
        if (identity_chars + prefix[candidate] + 2 + code_points(line) <= max_chars) {
          shown = candidate;
          closing = std::move(line);
          omitted = std::move(left_out);
          break;
        }
      }
      if (candidate == fewest) break;
      kept_items[entries[candidate - 1].section] -= entries[candidate - 1].items;
    }
    if (shown) break;
  }
  // The identity left room for the short closing line.
  if (!shown) throw std::logic_error("the context document of " + customer_id + " does not fit " +
                                     std::to_string(max_chars) + " characters");

  ContextDocument document;
  document.customer_id = customer_id;
  document.text = identity_text;
  for (std::size_t i = 0; i < *shown; ++i) document.text += "\n" + *entries[i].text;
  document.text += "\n\n" + closing;
  document.omitted = std::move(omitted);
  document.truncated = !document.omitted.empty();
  return document;
}

}  // namespace customeriq
