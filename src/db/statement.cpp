#include "db/statement.h"

#include <mysql.h>

#include <utility>

#include "db/error.h"

namespace statesink::db {
namespace {

// Fills one MYSQL_BIND from a Param; the Param outlives the bind.
struct ParamBinder {
  MYSQL_BIND& bind;
  void operator()(std::nullptr_t) const { bind.buffer_type = MYSQL_TYPE_NULL; }
  void operator()(const std::int64_t& v) const {
    bind.buffer_type = MYSQL_TYPE_LONGLONG;
    bind.buffer = const_cast<std::int64_t*>(&v);
  }
  void operator()(const std::uint64_t& v) const {
    bind.buffer_type = MYSQL_TYPE_LONGLONG;
    bind.buffer = const_cast<std::uint64_t*>(&v);
    bind.is_unsigned = 1;
  }
  void operator()(const double& v) const {
    bind.buffer_type = MYSQL_TYPE_DOUBLE;
    bind.buffer = const_cast<double*>(&v);
  }
  void operator()(const std::string_view& v) const { bytes(MYSQL_TYPE_STRING, v); }
  void operator()(const Blob& v) const { bytes(MYSQL_TYPE_BLOB, v.bytes); }

  void bytes(enum_field_types type, std::string_view v) const {
    bind.buffer_type = type;
    // The library only reads input buffers, but its struct is not const.
    bind.buffer = const_cast<char*>(v.data());
    bind.buffer_length = v.size();
  }
};

}  // namespace

void Statement::Closer::operator()(MYSQL_STMT* stmt) const { mysql_stmt_close(stmt); }

Statement::Statement(std::unique_ptr<MYSQL_STMT, Closer> stmt, std::string sql)
    : stmt_(std::move(stmt)), sql_(std::move(sql)) {}
Statement::Statement(Statement&&) noexcept = default;
Statement& Statement::operator=(Statement&&) noexcept = default;
Statement::~Statement() = default;

void Statement::fail(std::string_view doing) const {
  MYSQL_STMT* s = stmt_.get();
  std::string shown = sql_.size() > 200 ? sql_.substr(0, 200) + "..." : sql_;
  throw DbError(std::string(doing) + " failed: " + mysql_stmt_error(s) + " (error " +
                    std::to_string(mysql_stmt_errno(s)) + ") in: " + shown,
                mysql_stmt_errno(s), mysql_stmt_sqlstate(s));
}

unsigned Statement::parameter_count() const {
  return static_cast<unsigned>(mysql_stmt_param_count(stmt_.get()));
}

void Statement::bind_and_run(std::span<const Param> params) {
  MYSQL_STMT* s = stmt_.get();
  if (params.size() != parameter_count()) {
    throw DbError("statement expects " + std::to_string(parameter_count()) + " parameters, got " +
                      std::to_string(params.size()) + ": " + sql_,
                  0, "HY000");
  }
  std::vector<MYSQL_BIND> binds(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::visit(ParamBinder{binds[i]}, params[i]);
  }
  if (!binds.empty() && mysql_stmt_bind_param(s, binds.data()) != 0) {
    fail("binding parameters");
  }
  if (mysql_stmt_execute(s) != 0) {
    fail("a prepared statement");
  }
}

std::uint64_t Statement::execute(std::span<const Param> params) {
  bind_and_run(params);
  MYSQL_STMT* s = stmt_.get();
  const std::uint64_t affected = mysql_stmt_affected_rows(s);
  // Discard a result set if the statement returned one.
  if (mysql_stmt_field_count(s) > 0) {
    mysql_stmt_free_result(s);
  }
  return affected;
}

std::vector<Row> Statement::query(std::span<const Param> params) {
  bind_and_run(params);
  MYSQL_STMT* s = stmt_.get();
  if (mysql_stmt_store_result(s) != 0) {
    fail("reading a result");
  }
  const unsigned columns = mysql_stmt_field_count(s);
  // Every column is fetched as text. A short buffer first; a longer value is
  // reported as truncated and fetched again at its real length.
  constexpr unsigned long kInitial = 64;
  std::vector<std::string> buffers(columns, std::string(kInitial, '\0'));
  std::vector<unsigned long> lengths(columns);
  std::vector<my_bool> nulls(columns);
  std::vector<MYSQL_BIND> binds(columns);
  for (unsigned i = 0; i < columns; ++i) {
    binds[i].buffer_type = MYSQL_TYPE_STRING;
    binds[i].buffer = buffers[i].data();
    binds[i].buffer_length = kInitial;
    binds[i].length = &lengths[i];
    binds[i].is_null = &nulls[i];
  }
  if (columns > 0 && mysql_stmt_bind_result(s, binds.data()) != 0) {
    fail("binding results");
  }
  std::vector<Row> rows;
  while (true) {
    const int rc = mysql_stmt_fetch(s);
    if (rc == MYSQL_NO_DATA) {
      break;
    }
    if (rc == 1) {
      fail("fetching a row");
    }
    Row& row = rows.emplace_back();
    for (unsigned i = 0; i < columns; ++i) {
      if (nulls[i]) {
        row.emplace_back(std::nullopt);
        continue;
      }
      std::string value(lengths[i], '\0');
      if (lengths[i] <= kInitial) {
        value.assign(buffers[i].data(), lengths[i]);
      } else {
        MYSQL_BIND full{};
        full.buffer_type = MYSQL_TYPE_STRING;
        full.buffer = value.data();
        full.buffer_length = lengths[i];
        if (mysql_stmt_fetch_column(s, &full, i, 0) != 0) {
          fail("fetching a column");
        }
      }
      row.emplace_back(std::move(value));
    }
  }
  mysql_stmt_free_result(s);
  return rows;
}

std::uint64_t Statement::last_insert_id() const { return mysql_stmt_insert_id(stmt_.get()); }

}  // namespace statesink::db
