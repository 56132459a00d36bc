// Any bytes as a migration file: split_sql either splits or throws
// SqlSyntaxError, in time linear in the input, and whatever it reports points
// into the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "migrate/sql_splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using statesink::migrate::split_sql;
  using statesink::migrate::SqlStatement;
  using statesink::migrate::SqlSyntaxError;
  const std::string_view script(reinterpret_cast<const char*>(data), size);
  const int lines = 1 + static_cast<int>(std::count(script.begin(), script.end(), '\n'));
  try {
    int previous = 1;
    for (const SqlStatement& statement : split_sql(script)) {
      if (statement.text.empty() || statement.line < previous || statement.line > lines) {
        __builtin_trap();
      }
      previous = statement.line;
    }
  } catch (const SqlSyntaxError& error) {
    if (error.line() < 1 || error.line() > lines) {
      __builtin_trap();
    }
  }
  return 0;
}
