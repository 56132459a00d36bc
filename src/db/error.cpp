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

template <std::size_t N>
bool contains(const std::array<unsigned, N>& codes, unsigned code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

DbError::DbError(const std::string& what, unsigned code, std::string sqlstate)
    : std::runtime_error(what), code_(code), sqlstate_(std::move(sqlstate)) {}

bool DbError::retryable() const { return is_retryable_error(code_); }
bool DbError::connection_lost() const { return is_connection_error(code_); }

bool is_connection_error(unsigned code) { return contains(kConnectionErrors, code); }

bool is_retryable_error(unsigned code) {
  return is_connection_error(code) || contains(kTransientErrors, code);
}

}  // namespace statesink::db
