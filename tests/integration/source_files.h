// Files of the source tree, which the build passes as STATESINK_SOURCE_DIR.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#ifndef STATESINK_SOURCE_DIR
#error "STATESINK_SOURCE_DIR must name the source tree"
#endif

namespace statesink::testing {

inline std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(STATESINK_SOURCE_DIR) / relative;
}

// A file of the source tree, e.g. "sql/grants.sql".
inline std::string read_source_file(const std::string& relative) {
  const std::filesystem::path path = source_path(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace statesink::testing
