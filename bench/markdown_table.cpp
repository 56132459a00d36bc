#include "markdown_table.h"

#include <algorithm>

namespace statesink::bench {
namespace {

// Width on a terminal: UTF-8 continuation bytes take no column (→, ≤).
std::size_t display(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

}  // namespace

void MarkdownTable::print(std::ostream& out) const {
  std::vector<std::size_t> width(header_.size(), 3);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], display(cells[i]));
    }
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    out << "|";
    for (std::size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      const std::size_t pad = width[i] - display(cell);
      const bool right = i > 0 && !is_header;
      out << ' ' << (right ? std::string(pad, ' ') : "") << cell
          << (right ? "" : std::string(pad, ' ')) << " |";
    }
    out << "\n";
  };
  line(header_, true);
  out << "|";
  for (std::size_t i = 0; i < width.size(); ++i) {
    out << " " << std::string(width[i] - (i > 0 ? 1 : 0), '-') << (i > 0 ? ":" : "") << " |";
  }
  out << "\n";
  for (const auto& r : rows_) line(r, false);
}

}  // namespace statesink::bench
