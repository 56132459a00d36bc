#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace statesink {

// A table printed with aligned columns, for terminals: a header, a rule, rows.
// Widths count UTF-8 characters, not bytes, so non-ASCII values line up.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  void add_row(std::vector<std::string> row);
  void print(std::ostream& out) const;
  std::size_t row_count() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of code points in a UTF-8 string (invalid bytes count one each).
std::size_t display_width(const std::string& text);

}  // namespace statesink
