#pragma once

#include <cstddef>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "util/result_table.h"

namespace statesink::cli {

enum class OutputFormat { table, json, csv };

// "table", "json" or "csv"; anything else is a UsageError naming `option`.
OutputFormat parse_output_format(std::string_view text, std::string_view option = "--format");

// table: aligned columns for a terminal, NULL as an empty cell and control
//        characters escaped (\n, \t, \xHH) so that every row stays one line;
// json:  an array of objects, keys in column order, NULL as null;
// csv:   RFC 4180 with a header line and CRLF line ends, NULL as an empty field.
void write_result(std::ostream& out, const ResultTable& result, OutputFormat format);

// Row `row` as the JSON output writes it: an object, keys in column order.
nlohmann::ordered_json json_row(const ResultTable& result, std::size_t row);

// One CSV field, quoted when it holds a comma, a quote, CR or LF.
std::string csv_field(std::string_view text);

}  // namespace statesink::cli
