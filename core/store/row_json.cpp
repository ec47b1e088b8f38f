#include "store/row_json.hpp"

#include <algorithm>
#include <charconv>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "text.hpp"

namespace customeriq {

const RowShape kCustomerRow{"customers",
                            "id, name, email, phone, company, status, customer_since, lifetime_value, "
                            "tags, custom_fields, created_at, updated_at",
                            {"tags", "custom_fields"}};
const RowShape kTimelineRow{"customer_events",
                            "id, original_id, event_type, event_date, title, description, amount, status, "
                            "metadata, agent_notes, source_service, created_at",
                            {"metadata"}};
const RowShape kPurchaseRow{"purchases",
                            "id, product_name, product_sku, quantity, price, total, purchase_date, "
                            "warranty_expires, metadata, created_at",
                            {"metadata"}};
const RowShape kWorkOrderRow{"work_orders",
                             "id, order_type, issue_description, resolution, status, priority, assigned_to, "
                             "created_date, completed_date, cost, metadata",
                             {"metadata"}};
const RowShape kKnowledgeRow{"customer_knowledge",
                             "id, original_id, content, category, importance, tags, source, created_at, "
                             "updated_at",
                             {"tags"}};

std::string select_rows(const RowShape& shape, std::string_view rest, std::string_view extra_columns) {
  std::string sql = "SELECT ";
  sql += shape.columns;
  sql += extra_columns;
  sql += " FROM ";
  sql += shape.table;
  sql += " ";
  sql += rest;
  return sql;
}

namespace {

// How every column of a row is read, for both outputs: its SQLite type
// decides the JSON type, and a JSON column's text is JSON.
template <typename Output>
void read_columns(SQLite::Statement& statement, const RowShape& shape, Output& out) {
  for (int i = 0; i < statement.getColumnCount(); ++i) {
    const SQLite::Column column = statement.getColumn(i);
    const std::string_view name = statement.getColumnName(i);
    if (column.isNull()) {
      out.null(name);
    } else if (column.isInteger()) {
      out.integer(name, column.getInt64());
    } else if (column.isFloat()) {
      out.real(name, column.getDouble());
    } else {
      const char* text = column.getText();
      const std::string_view value(text, static_cast<std::size_t>(column.getBytes()));
      if (std::find(shape.json_columns.begin(), shape.json_columns.end(), name) != shape.json_columns.end())
        out.json_text(name, value);
      else
        out.text(name, value);
    }
  }
}

class JsonOutput {
 public:
  void null(std::string_view name) { row_[std::string(name)] = nullptr; }
  void integer(std::string_view name, std::int64_t value) { row_[std::string(name)] = value; }
  void real(std::string_view name, double value) { row_[std::string(name)] = value; }
  void text(std::string_view name, std::string_view value) { row_[std::string(name)] = std::string(value); }
  void json_text(std::string_view name, std::string_view value) {
    nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
    row_[std::string(name)] = parsed.is_discarded() ? nlohmann::json(std::string(value)) : std::move(parsed);
  }
  nlohmann::json take() { return std::move(row_); }

 private:
  nlohmann::json row_ = nlohmann::json::object();
};

// Writes what nlohmann would for the same values, but only numbers and text
// that need escaping go through it.
class TextOutput {
 public:
  void null(std::string_view name) { key(name) += "null"; }
  void integer(std::string_view name, std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    key(name).append(digits, end);
  }
  void real(std::string_view name, double value) { key(name) += nlohmann::json(value).dump(); }
  void text(std::string_view name, std::string_view value) {
    key(name);
    if (needs_no_escaping(value)) {
      text_ += '"';
      text_ += value;
      text_ += '"';
    } else {
      text_ += nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  void json_text(std::string_view name, std::string_view value) {
    if (!nlohmann::json::accept(value)) return text(name, value);
    key(name) += value;
  }
  std::string take() {
    text_ += '}';
    return std::move(text_);
  }

 private:
  std::string text_ = "{";

  std::string& key(std::string_view name) {
    if (text_.size() > 1) text_ += ',';
    text_ += '"';
    text_ += name;  // column names are plain identifiers
    text_ += "\":";
    return text_;
  }

  static bool needs_no_escaping(std::string_view value) {
    bool ascii = true;
    for (const char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || c == '"' || c == '\\') return false;
      ascii &= byte < 0x80;
    }
    return ascii || is_valid_utf8(value);
  }
};

}  // namespace

nlohmann::json row_to_json(SQLite::Statement& statement, const RowShape& shape) {
  JsonOutput out;
  read_columns(statement, shape, out);
  return out.take();
}

std::string row_to_json_text(SQLite::Statement& statement, const RowShape& shape) {
  TextOutput out;
  read_columns(statement, shape, out);
  return out.take();
}

}  // namespace customeriq
