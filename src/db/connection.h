#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/url.h"
#include "db/value.h"

struct st_mysql;

namespace statesink::db {

class Statement;

struct ConnectOptions {
  std::chrono::seconds connect_timeout{10};
  // Bounds one network read or write, so a vanished server is noticed.
  std::chrono::seconds read_timeout{0};  // 0: none (migrations may run long)
  std::chrono::seconds write_timeout{60};
};

// One session with the server: utf8mb4, time_zone UTC, no automatic
// reconnect (a silent reconnect would lose session state such as locks and
// open transactions; callers reconnect explicitly on DbError::connection_lost()).
class Connection {
 public:
  // Connects to the first host of the URL that answers and is ready: for a
  // Galera node, in the primary component and synced (its reads then wait
  // for the cluster, wsrep_sync_wait = 1). Throws DbError; its message names
  // the server by its redacted URL, and every host's reason when several
  // were tried.
  static Connection open(const config::DbUrl& url, const ConnectOptions& options = {});

  // True when the server is a node of a Galera cluster (wsrep_on).
  bool is_galera_node();
  // True when `table` (or a view of that name) exists in the current database.
  bool has_table(std::string_view table);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one statement, discarding any result; returns the affected rows.
  std::uint64_t execute(std::string_view sql);
  // Runs one statement and returns its rows (text protocol).
  std::vector<Row> query(std::string_view sql);
  // Prepared statement, run with parameters; see Statement.
  Statement prepare(std::string_view sql);
  // Shorthands for a prepared statement run once.
  std::uint64_t execute(std::string_view sql, std::span<const Param> params);
  std::vector<Row> query(std::string_view sql, std::span<const Param> params);

  // The first column of the first row, or nullopt (no row, or NULL).
  std::optional<std::string> query_value(std::string_view sql);

  std::uint64_t last_insert_id() const;
  unsigned long server_thread_id() const;
  std::string server_version() const;
  bool is_mariadb() const;
  std::string escape(std::string_view bytes) const;  // for string literals
  void ping();

  // Where this connection points, password hidden; for messages.
  const std::string& description() const { return description_; }

  st_mysql* handle() const { return mysql_.get(); }

 private:
  struct Closer {
    void operator()(st_mysql* mysql) const;
  };
  Connection(std::unique_ptr<st_mysql, Closer> mysql, std::string description);
  static Connection open_one(const config::DbUrl& url, const ConnectOptions& options);
  // Why a Galera node cannot serve yet ("" when it can, or is no Galera node).
  std::string cluster_not_ready();
  [[noreturn]] void fail(std::string_view doing) const;

  std::unique_ptr<st_mysql, Closer> mysql_;
  std::string description_;
};

// "`name`" with embedded backticks doubled.
std::string quote_identifier(std::string_view name);

// Commits only when asked; rolls back when left without commit() (exceptions).
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace statesink::db
