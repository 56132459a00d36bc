#include "db/error.h"

#include <algorithm>
#include <array>
#include <utility>

namespace statesink::db {
namespace {

// Client-side (2xxx) and server codes meaning the session is gone.
constexpr std::array<unsigned, 14> kConnectionErrors = {
    2002,  // CR_CONNECTION_ERROR: cannot connect through the socket
    2003,  // CR_CONN_HOST_ERROR: cannot connect over TCP
    2005,  // CR_UNKNOWN_HOST: name resolution failed, often transient in containers
    2006,  // CR_SERVER_GONE_ERROR
    2013,  // CR_SERVER_LOST
    2055,  // CR_SERVER_LOST_EXTENDED
    1040,  // ER_CON_COUNT_ERROR: too many connections
    1053,  // ER_SERVER_SHUTDOWN
    1152,  // ER_ABORTING_CONNECTION
    1158,  // ER_NET_READ_ERROR
    1159,  // ER_NET_READ_INTERRUPTED
    1160,  // ER_NET_ERROR_ON_WRITE
    1927,  // ER_CONNECTION_KILLED (MariaDB)
    4031,  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24+)
};

// The session survives; the statement or transaction may be run again.
constexpr std::array<unsigned, 5> kTransientErrors = {
    1205,  // ER_LOCK_WAIT_TIMEOUT
    1213,  // ER_LOCK_DEADLOCK, also Galera certification conflicts
    1161,  // ER_NET_WRITE_INTERRUPTED
    3101,  // ER_TRANSACTION_ROLLBACK_DURING_COMMIT (Group Replication certification)
    1290,  // ER_OPTION_PREVENTS_STATEMENT: read-only during a failover
};

// Privileges, schema and server state: the same statement fails for any
// data until an operator acts.
constexpr std::array<unsigned, 12> kOperatorErrors = {
    1036,  // ER_OPEN_AS_READONLY: table is read only
    1044,  // ER_DBACCESS_DENIED_ERROR
    1142,  // ER_TABLEACCESS_DENIED_ERROR: e.g. no INSERT on messages
    1143,  // ER_COLUMNACCESS_DENIED_ERROR
    1227,  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    1146,  // ER_NO_SUCH_TABLE: schema not migrated
    1054,  // ER_BAD_FIELD_ERROR: schema older than the binary
    1449,  // ER_NO_SUCH_USER: the trigger's definer was dropped
    1021,  // ER_DISK_FULL
    1114,  // ER_RECORD_FILE_FULL: table is full
    1792,  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    1290,  // ER_OPTION_PREVENTS_STATEMENT: --read-only
};

// The data of the statement, not the server, is at fault.
constexpr std::array<unsigned, 10> kContentErrors = {
    1048,  // ER_BAD_NULL_ERROR
    1153,  // ER_NET_PACKET_TOO_LARGE: one message larger than max_allowed_packet
    1264,  // ER_WARN_DATA_OUT_OF_RANGE
    1292,  // ER_TRUNCATED_WRONG_VALUE: e.g. a reception time out of DATETIME's range
    1366,  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: bytes not valid in the column's character set
    1367,  // ER_ILLEGAL_VALUE_FOR_TYPE
    1406,  // ER_DATA_TOO_LONG
    3819,  // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    4025,  // ER_CONSTRAINT_FAILED (MariaDB)
    1301,  // ER_WARN_ALLOWED_PACKET_OVERFLOWED: a value grew past max_allowed_packet
};

template <std::size_t N>
bool contains(const std::array<unsigned, N>& codes, unsigned code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

DbError::DbError(const std::string& what, unsigned code, std::string sqlstate)
    : std::runtime_error(what), code_(code), sqlstate_(std::move(sqlstate)) {}

bool DbError::retryable() const { return is_retryable_error(code_); }
bool DbError::connection_lost() const { return is_connection_error(code_); }

bool DbError::needs_operator() const { return is_operator_error(code_); }

bool DbError::about_content() const { return is_content_error(code_); }

bool is_content_error(unsigned code) { return contains(kContentErrors, code); }

bool is_connection_error(unsigned code) { return contains(kConnectionErrors, code); }

bool is_operator_error(unsigned code) { return contains(kOperatorErrors, code); }

std::string advice(const DbError& error) {
  switch (error.code()) {
    case 1045:
      return "check the user name and the password (in the URL or STATESINK_DB_PASSWORD)";
    case 1049:
      return "create the database (CREATE DATABASE name CHARACTER SET utf8mb4) or fix its name "
             "in the URL";
    case 1044:
    case 1142:
    case 1143:
    case 1227:
      return "grant the account the privileges it needs (see sql/grants.sql)";
    case 1146:
    case 1054:
      return "create or upgrade the schema with statesink migrate up";
    case 1419:
      return "creating triggers with binary logging on needs SUPER or "
             "log_bin_trust_function_creators=1 on the server";
    case 1449:
      return "the account that ran the migrations owns the triggers: re-create it, or run "
             "statesink migrate down and up again as an existing account";
    case 1021:
    case 1114:
      return "free disk space on the database server";
    case 1036:
    case 1290:
    case 1792:
      return "the server is read-only: point --db at the primary, or turn read_only off";
    default:
      break;
  }
  if (error.connection_lost()) {
    return "check that the server is running and that --db / STATESINK_DB points at it";
  }
  return "";
}

bool is_retryable_error(unsigned code) {
  return is_connection_error(code) || contains(kTransientErrors, code);
}

std::string describe(const DbError& error) {
  const std::string hint = advice(error);
  return hint.empty() ? std::string(error.what()) : std::string(error.what()) + "; " + hint;
}

}  // namespace statesink::db
