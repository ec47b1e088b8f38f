// How the store shows a row as JSON. The profile, the other reads and the
// change log all select rows through these shapes, so a row looks the same
// wherever it is read. For store/ only.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace SQLite {
class Statement;
}

namespace customeriq {

// One table's row as the reads show it: the columns, and which of them
// hold JSON text (shown parsed).
struct RowShape {
  const char* table;
  const char* columns;  // a SELECT list
  std::array<std::string_view, 2> json_columns;  // unused entries empty
};

extern const RowShape kCustomerRow;
extern const RowShape kTimelineRow;  // without raw_event_data
extern const RowShape kPurchaseRow;
extern const RowShape kWorkOrderRow;
extern const RowShape kKnowledgeRow;

// "SELECT <shape's columns><extra_columns> FROM <table> <rest>".
std::string select_rows(const RowShape& shape, std::string_view rest, std::string_view extra_columns = "");

// The statement's current row as a JSON object named by its columns:
// integers, reals, text, null; a JSON column parsed (kept as text when it
// does not parse).
nlohmann::json row_to_json(SQLite::Statement& statement, const RowShape& shape);

// The same row as JSON text: parsed, it is row_to_json's value (a JSON
// column's text is embedded as it is when it parses). For the writer, which
// stores rows without building them as objects first.
std::string row_to_json_text(SQLite::Statement& statement, const RowShape& shape);

}  // namespace customeriq
