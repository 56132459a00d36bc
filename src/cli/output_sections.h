#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/output_format.h"
#include "util/result_table.h"

namespace statesink::cli {

// A named part of a report made of several results (`statesink stats`).
struct Section {
  std::string name;   // JSON key, CSV title line
  std::string title;  // heading in the table format
  ResultTable result;
  bool single_row = false;  // a record rather than a list
};

// table: each heading, then its table (a single row as measure/value lines),
//        a blank line between sections;
// json:  one object, a key per section: an array of objects, or one object
//        for a single-row section;
// csv:   the sections one after another, each its name on a line of its own,
//        then a header line and the rows, an empty line between sections.
void write_sections(std::ostream& out, const std::vector<Section>& sections, OutputFormat format);

}  // namespace statesink::cli
