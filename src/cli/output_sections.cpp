#include "cli/output_sections.h"

#include <nlohmann/json.hpp>
#include <ostream>

namespace statesink::cli {
namespace {

// A record reads better down the page than as one very wide row.
ResultTable transposed(const ResultTable& result) {
  ResultTable lines;
  lines.columns = {{"measure", "measure", ColumnKind::text}, {"value", "value", ColumnKind::text}};
  for (std::size_t i = 0; i < result.columns.size(); ++i) {
    lines.rows.push_back(
        {result.columns[i].title, result.rows.empty() ? std::nullopt : result.rows.front().at(i)});
  }
  return lines;
}

}  // namespace

void write_sections(std::ostream& out, const std::vector<Section>& sections, OutputFormat format) {
  if (format == OutputFormat::json) {
    nlohmann::ordered_json document = nlohmann::ordered_json::object();
    for (const Section& section : sections) {
      if (section.single_row) {
        document[section.name] = section.result.rows.empty() ? nlohmann::ordered_json(nullptr)
                                                             : json_row(section.result, 0);
        continue;
      }
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (std::size_t row = 0; row < section.result.rows.size(); ++row) {
        rows.push_back(json_row(section.result, row));
      }
      document[section.name] = std::move(rows);
    }
    out << document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return;
  }
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const Section& section = sections[i];
    if (i > 0) {
      out << (format == OutputFormat::csv ? "\r\n" : "\n");
    }
    if (format == OutputFormat::csv) {
      out << csv_field(section.name) << "\r\n";
      write_result(out, section.result, format);
      continue;
    }
    out << section.title << "\n";
    if (section.result.rows.empty()) {
      out << "(none)\n";
    } else {
      write_result(out, section.single_row ? transposed(section.result) : section.result, format);
    }
  }
}

}  // namespace statesink::cli
