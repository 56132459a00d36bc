#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statesink::cli {

enum class OutputFormat { table, json, csv };

// "table", "json" or "csv"; anything else is a UsageError naming `option`.
OutputFormat parse_output_format(std::string_view text, std::string_view option = "--format");

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

// table: aligned columns for a terminal, NULL as an empty cell and control
//        characters escaped (\n, \t, \xHH) so that every row stays one line;
// json:  an array of objects, keys in column order, NULL as null;
// csv:   RFC 4180 with a header line and CRLF line ends, NULL as an empty field.
void write_result(std::ostream& out, const ResultTable& result, OutputFormat format);

// One CSV field, quoted when it holds a comma, a quote, CR or LF.
std::string csv_field(std::string_view text);

}  // namespace statesink::cli
