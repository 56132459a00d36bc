#pragma once

#include <optional>
#include <string>
#include <vector>

namespace statesink {

// How a column's text is written where the format has types.
enum class ColumnKind {
  text,     // JSON string
  number,   // JSON number (a DOUBLE column)
  integer,  // JSON number without a fraction (a count)
  time,     // DATETIME(6) in UTC: JSON gets ISO-8601 with Z, table and CSV keep the SQL form
};

struct Column {
  std::string name;   // JSON key and CSV header: the SQL column's name
  std::string title;  // table header
  ColumnKind kind = ColumnKind::text;
};

// A result as the database returns it: every cell as text, NULL as nullopt.
struct ResultTable {
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

}  // namespace statesink
