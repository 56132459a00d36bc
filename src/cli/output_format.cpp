#include "cli/output_format.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "util/error.h"
#include "util/text_table.h"

namespace statesink::cli {
namespace {

// A value with a line break would break the table's alignment and make a
// row look like two.
std::string printable(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      result += "\\n";
    } else if (c == '\r') {
      result += "\\r";
    } else if (c == '\t') {
      result += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      result += escaped;
    } else {
      result += c;
    }
  }
  return result;
}

void write_table(std::ostream& out, const ResultTable& result) {
  std::vector<std::string> header;
  for (const Column& column : result.columns) {
    header.push_back(column.title);
  }
  TextTable table(std::move(header));
  for (const auto& row : result.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& cell : row) {
      cells.push_back(cell ? printable(*cell) : "");
    }
    table.add_row(std::move(cells));
  }
  table.print(out);
}

// "2024-05-01 12:00:00.512345" -> "2024-05-01T12:00:00.512345Z".
std::string iso_time(std::string text) {
  if (text.size() > 10 && text[10] == ' ') {
    text[10] = 'T';
    text += 'Z';
  }
  return text;
}

nlohmann::ordered_json json_value(const std::optional<std::string>& cell, ColumnKind kind) {
  if (!cell) {
    return nullptr;
  }
  switch (kind) {
    case ColumnKind::number: {
      double number = 0;
      const char* end = cell->data() + cell->size();
      auto [stop, error] = std::from_chars(cell->data(), end, number);
      if (error == std::errc{} && stop == end) {
        return number;
      }
      return *cell;
    }
    case ColumnKind::integer: {
      std::int64_t number = 0;
      const char* end = cell->data() + cell->size();
      auto [stop, error] = std::from_chars(cell->data(), end, number);
      if (error == std::errc{} && stop == end) {
        return number;
      }
      return *cell;
    }
    case ColumnKind::time:
      return iso_time(*cell);
    case ColumnKind::text:
      break;
  }
  return *cell;
}

void write_json(std::ostream& out, const ResultTable& result) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (std::size_t row = 0; row < result.rows.size(); ++row) {
    array.push_back(json_row(result, row));
  }
  // Facts are valid UTF-8 (the trigger rejects anything else); replacing
  // keeps output possible should a row ever hold something else.
  out << array.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

void write_csv(std::ostream& out, const ResultTable& result) {
  auto write_line = [&out](const auto& cells, auto text_of) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out << (i == 0 ? "" : ",") << csv_field(text_of(cells[i]));
    }
    out << "\r\n";
  };
  write_line(result.columns, [](const Column& column) { return column.name; });
  for (const auto& row : result.rows) {
    write_line(row,
               [](const std::optional<std::string>& cell) { return cell.value_or(std::string()); });
  }
}

}  // namespace

OutputFormat parse_output_format(std::string_view text, std::string_view option) {
  if (text == "table") {
    return OutputFormat::table;
  }
  if (text == "json") {
    return OutputFormat::json;
  }
  if (text == "csv") {
    return OutputFormat::csv;
  }
  throw UsageError(std::string(option) + ": '" + std::string(text) +
                   "' is not an output format; use table, json or csv");
}

void write_result(std::ostream& out, const ResultTable& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::table:
      write_table(out, result);
      return;
    case OutputFormat::json:
      write_json(out, result);
      return;
    case OutputFormat::csv:
      write_csv(out, result);
      return;
  }
}

nlohmann::ordered_json json_row(const ResultTable& result, std::size_t row) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  const auto& cells = result.rows.at(row);
  for (std::size_t i = 0; i < result.columns.size() && i < cells.size(); ++i) {
    object[result.columns[i].name] = json_value(cells[i], result.columns[i].kind);
  }
  return object;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string quoted = "\"";
  for (const char c : text) {
    quoted += c;
    if (c == '"') {
      quoted += '"';
    }
  }
  quoted += '"';
  return quoted;
}

}  // namespace statesink::cli
