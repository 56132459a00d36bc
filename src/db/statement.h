#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/value.h"

struct st_mysql_stmt;

namespace statesink::db {

class Connection;

// A server-side prepared statement. Parameters travel in the binary protocol,
// so payload bytes need no escaping and cannot be misread as SQL.
class Statement {
 public:
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  ~Statement();

  // Runs it; returns the affected rows.
  std::uint64_t execute(std::span<const Param> params);
  // Runs it and returns every row, columns converted to text.
  std::vector<Row> query(std::span<const Param> params);
  std::uint64_t last_insert_id() const;
  unsigned parameter_count() const;

 private:
  friend class Connection;
  struct Closer {
    void operator()(st_mysql_stmt* stmt) const;
  };
  Statement(std::unique_ptr<st_mysql_stmt, Closer> stmt, std::string sql);
  void bind_and_run(std::span<const Param> params);
  [[noreturn]] void fail(std::string_view doing) const;

  std::unique_ptr<st_mysql_stmt, Closer> stmt_;
  std::string sql_;  // for error messages
};

}  // namespace statesink::db
