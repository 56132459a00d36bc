#include "db/connection.h"

#include <mysql.h>

#include <cstdlib>
#include <mutex>
#include <optional>
#include <utility>

#include "db/error.h"
#include "db/statement.h"

namespace statesink::db {
namespace {

// mysql_library_init is not thread-safe; run it once, before any thread
// opens a connection, and release its memory at exit.
void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (mysql_library_init(0, nullptr, nullptr) != 0) {
      throw DbError("cannot initialise the MariaDB client library", 0, "HY000");
    }
    std::atexit([] { mysql_library_end(); });
  });
}

void set_option(MYSQL* mysql, mysql_option option, const void* value) {
  if (mysql_optionsv(mysql, option, value) != 0) {
    throw DbError("the MariaDB client library rejected a connection option", 0, "HY000");
  }
}

unsigned int seconds(std::chrono::seconds value) {
  return static_cast<unsigned int>(value.count());
}

const std::string* find_option(const config::DbUrl& url, const std::string& key) {
  auto it = url.options.find(key);
  return it == url.options.end() ? nullptr : &it->second;
}

void configure_tls(MYSQL* mysql, const config::DbUrl& url) {
  const std::string* mode_option = find_option(url, "ssl-mode");
  const std::string mode = mode_option ? *mode_option : "DISABLED";
  const std::string* ca = find_option(url, "ssl-ca");
  const std::string* cert = find_option(url, "ssl-cert");
  const std::string* key = find_option(url, "ssl-key");
  if (mode == "DISABLED" && !ca && !cert && !key) {
    return;
  }
  auto c_str = [](const std::string* s) { return s ? s->c_str() : nullptr; };
  mysql_ssl_set(mysql, c_str(key), c_str(cert), c_str(ca), nullptr, nullptr);
  const my_bool enforce = mode == "REQUIRED" || mode == "VERIFY_CA" || mode == "VERIFY_IDENTITY";
  set_option(mysql, MYSQL_OPT_SSL_ENFORCE, &enforce);
  // Connector/C checks the certificate chain and the host name together.
  const my_bool verify = mode == "VERIFY_CA" || mode == "VERIFY_IDENTITY";
  set_option(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
}

std::chrono::seconds timeout_option(const config::DbUrl& url, const std::string& key,
                                    std::chrono::seconds fallback) {
  const std::string* value = find_option(url, key);
  return value ? std::chrono::seconds(std::stoul(*value)) : fallback;
}

}  // namespace

void Connection::Closer::operator()(MYSQL* mysql) const { mysql_close(mysql); }

Connection::Connection(std::unique_ptr<MYSQL, Closer> mysql, std::string description)
    : mysql_(std::move(mysql)), description_(std::move(description)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Connection Connection::open_one(const config::DbUrl& url, const ConnectOptions& options) {
  init_library_once();
  std::unique_ptr<MYSQL, Closer> mysql(mysql_init(nullptr));
  if (!mysql) {
    throw DbError("out of memory creating a database connection", 2008, "HY000");
  }
  MYSQL* m = mysql.get();
  set_option(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // Every DATETIME statesink writes or reads is UTC, whatever the server's zone.
  set_option(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
  const unsigned int connect =
      seconds(timeout_option(url, "connect-timeout", options.connect_timeout));
  const unsigned int read = seconds(timeout_option(url, "read-timeout", options.read_timeout));
  const unsigned int write = seconds(timeout_option(url, "write-timeout", options.write_timeout));
  set_option(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect);
  if (read > 0) {
    set_option(m, MYSQL_OPT_READ_TIMEOUT, &read);
  }
  if (write > 0) {
    set_option(m, MYSQL_OPT_WRITE_TIMEOUT, &write);
  }
  const my_bool no = 0;
  set_option(m, MYSQL_OPT_RECONNECT, &no);
  const unsigned int local_infile = 0;
  set_option(m, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  configure_tls(m, url);

  const std::string* socket = find_option(url, "socket");
  const char* password = url.password.empty() ? nullptr : url.password.c_str();
  if (!mysql_real_connect(m, url.host.c_str(), url.user.c_str(), password, url.database.c_str(),
                          url.port, socket ? socket->c_str() : nullptr, 0)) {
    throw DbError("cannot connect to the database " + url.redacted() + ": " + mysql_error(m),
                  mysql_errno(m), mysql_sqlstate(m));
  }
  return Connection(std::move(mysql), url.redacted());
}

Connection Connection::open(const config::DbUrl& url, const ConnectOptions& options) {
  std::string reasons;
  std::optional<DbError> last;
  for (std::size_t i = 0; i < url.host_count(); ++i) {
    const config::DbUrl one = url.only_host(i);
    try {
      Connection connection = open_one(one, options);
      const std::string not_ready = connection.cluster_not_ready();
      if (not_ready.empty()) {
        return connection;
      }
      // 1047 is what a Galera node answers while it cannot serve: an outage.
      last.emplace("the database " + one.redacted() + " " + not_ready, 1047, "08S01");
    } catch (const DbError& e) {
      last = e;
    }
    if (url.host_count() == 1) {
      throw *last;
    }
    reasons += (reasons.empty() ? "" : "; ") + std::string(last->what());
  }
  throw DbError("no database host of " + url.redacted() + " is ready: " + reasons, last->code(),
                last->sqlstate());
}

bool Connection::is_galera_node() {
  // MySQL has no wsrep_on at all, a MariaDB server outside a cluster says OFF.
  const auto rows = query("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'");
  return !rows.empty() && rows[0][1] && *rows[0][1] == "ON";
}

bool Connection::has_table(std::string_view table) {
  const Param params[] = {table};
  return !query(
              "SELECT 1 FROM information_schema.tables "
              "WHERE table_schema = DATABASE() AND table_name = ?",
              params)
              .empty();
}

std::string Connection::cluster_not_ready() {
  if (!is_galera_node()) {
    return "";
  }
  std::string ready;
  std::string state;
  std::string status;
  for (const auto& row : query("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', "
                               "'wsrep_local_state_comment', 'wsrep_cluster_status')")) {
    const std::string value = row[1].value_or("");
    if (*row[0] == "wsrep_ready") {
      ready = value;
    } else if (*row[0] == "wsrep_local_state_comment") {
      state = value;
    } else {
      status = value;
    }
  }
  if (ready != "ON" || status != "Primary") {
    return "is a Galera node outside the primary component (wsrep_ready " + ready +
           ", cluster status " + status + ")";
  }
  if (state != "Synced") {
    return "is a Galera node that is not synced yet (" + state + ")";
  }
  // Reads wait until this node has applied what the cluster committed before
  // them, so a position read here is never older than one written elsewhere.
  execute("SET SESSION wsrep_sync_wait = 1");
  return "";
}

void Connection::fail(std::string_view doing) const {
  MYSQL* m = mysql_.get();
  throw DbError(std::string(doing) + " failed on " + description_ + ": " + mysql_error(m) +
                    " (error " + std::to_string(mysql_errno(m)) + ")",
                mysql_errno(m), mysql_sqlstate(m));
}

std::uint64_t Connection::execute(std::string_view sql) {
  MYSQL* m = mysql_.get();
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    fail("a statement");
  }
  std::uint64_t affected = 0;
  // Drain every result, also of statements (CALL) that return several.
  do {
    if (MYSQL_RES* result = mysql_store_result(m)) {
      mysql_free_result(result);
    } else if (mysql_field_count(m) == 0) {
      affected += mysql_affected_rows(m);
    } else {
      fail("reading a result");
    }
  } while (mysql_next_result(m) == 0);
  if (mysql_errno(m) != 0) {
    fail("a statement");
  }
  return affected;
}

std::vector<Row> Connection::query(std::string_view sql) {
  MYSQL* m = mysql_.get();
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    fail("a query");
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(m),
                                                                  &mysql_free_result);
  std::vector<Row> rows;
  if (!result) {
    if (mysql_field_count(m) != 0) {
      fail("reading a result");
    }
    return rows;
  }
  const unsigned int columns = mysql_num_fields(result.get());
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    Row& out = rows.emplace_back();
    out.reserve(columns);
    for (unsigned int i = 0; i < columns; ++i) {
      if (row[i]) {
        out.emplace_back(std::string(row[i], lengths[i]));
      } else {
        out.emplace_back(std::nullopt);
      }
    }
  }
  return rows;
}

std::optional<std::string> Connection::query_value(std::string_view sql) {
  std::vector<Row> rows = query(sql);
  if (rows.empty() || rows.front().empty()) {
    return std::nullopt;
  }
  return rows.front().front();
}

std::uint64_t Connection::execute(std::string_view sql, std::span<const Param> params) {
  return prepare(sql).execute(params);
}

std::vector<Row> Connection::query(std::string_view sql, std::span<const Param> params) {
  return prepare(sql).query(params);
}

Statement Connection::prepare(std::string_view sql) {
  std::unique_ptr<MYSQL_STMT, Statement::Closer> stmt(mysql_stmt_init(mysql_.get()));
  if (!stmt) {
    fail("creating a prepared statement");
  }
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0) {
    throw DbError("preparing a statement failed on " + description_ + ": " +
                      mysql_stmt_error(stmt.get()) + " (error " +
                      std::to_string(mysql_stmt_errno(stmt.get())) + ")",
                  mysql_stmt_errno(stmt.get()), mysql_stmt_sqlstate(stmt.get()));
  }
  return Statement(std::move(stmt), std::string(sql));
}

std::uint64_t Connection::last_insert_id() const { return mysql_insert_id(mysql_.get()); }

unsigned long Connection::server_thread_id() const { return mysql_thread_id(mysql_.get()); }

std::string Connection::server_version() const { return mysql_get_server_info(mysql_.get()); }

bool Connection::is_mariadb() const {
  return server_version().find("MariaDB") != std::string::npos;
}

std::string Connection::escape(std::string_view bytes) const {
  std::string out(bytes.size() * 2 + 1, '\0');
  const unsigned long n =
      mysql_real_escape_string(mysql_.get(), out.data(), bytes.data(), bytes.size());
  out.resize(n);
  return out;
}

void Connection::ping() {
  if (mysql_ping(mysql_.get()) != 0) {
    fail("a ping");
  }
}

std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') {
      out += '`';
    }
  }
  out += '`';
  return out;
}

Transaction::Transaction(Connection& connection) : connection_(connection) {
  connection_.execute("START TRANSACTION");
}

Transaction::~Transaction() {
  if (open_) {
    try {
      connection_.execute("ROLLBACK");
    } catch (const DbError&) {
      // The connection is gone or broken; the server rolls back on its own.
    }
  }
}

void Transaction::commit() {
  connection_.execute("COMMIT");
  open_ = false;
}

}  // namespace statesink::db
