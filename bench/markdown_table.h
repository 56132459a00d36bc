#pragma once

// A Markdown table, numbers right-aligned: readable in a terminal and pasted
// into the README as it is.

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace statesink::bench {

class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace statesink::bench
