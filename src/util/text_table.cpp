#include "util/text_table.h"

#include <algorithm>
#include <ostream>

namespace statesink {

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (unsigned char c : text) {
    // Continuation bytes (10xxxxxx) belong to the character before them.
    if ((c & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::add_row(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::size_t> widths(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) {
    widths[c] = display_width(header_[c]);
    for (const auto& row : rows_) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) {
        line.append(widths[c] - display_width(row[c]) + 2, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  print_row(header_);
  std::vector<std::string> rule;
  for (std::size_t w : widths) {
    rule.emplace_back(w, '-');
  }
  print_row(rule);
  for (const auto& row : rows_) {
    print_row(row);
  }
}

}  // namespace statesink
