#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace statesink::db {

// Bytes for a BLOB column, sent without any character set conversion.
struct Blob {
  std::string_view bytes;
};

// A parameter of a prepared statement. Text is sent in the connection's
// character set (utf8mb4). The caller keeps the bytes alive until the
// statement has run.
using Param =
    std::variant<std::nullptr_t, std::int64_t, std::uint64_t, double, std::string_view, Blob>;

// One row of a result, every column as text (NULL as nullopt), the way the
// text protocol delivers it.
using Row = std::vector<std::optional<std::string>>;

}  // namespace statesink::db
