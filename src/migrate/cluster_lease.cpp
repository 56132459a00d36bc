#include "migrate/cluster_lease.h"

#include <unistd.h>

#include <array>
#include <random>
#include <thread>

#include "db/error.h"
#include "migrate/migrator.h"

namespace statesink::migrate {
namespace {

constexpr const char* kCreateTable = R"(CREATE TABLE IF NOT EXISTS schema_migration_lock (
  id         TINYINT UNSIGNED NOT NULL,
  holder     VARCHAR(255)     NULL,
  expires_at DATETIME(6)      NULL,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4)";

std::string new_holder() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  return std::string(host) + " pid " + std::to_string(::getpid()) + " #" + std::to_string(random());
}

}  // namespace

void execute_past_conflicts(db::Connection& connection, const std::string& sql) {
  retry_past_conflicts([&] { connection.execute(sql); });
}

void retry_past_conflicts(const std::function<void()>& action) {
  for (int attempt = 1;; ++attempt) {
    try {
      action();
      return;
    } catch (const db::DbError& e) {
      // Galera: the same DDL or row from another node certified first.
      if (e.code() != 1213 || attempt == 10) {
        throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
    }
  }
}

ClusterLease::ClusterLease(db::Connection& connection, std::chrono::seconds timeout,
                           std::ostream& err)
    : db_(connection), holder_(new_holder()) {
  // DDL only when needed: on Galera it runs cluster-wide (TOI) and aborts
  // another node's migrator in the middle of its bookkeeping.
  if (!db_.has_table("schema_migration_lock")) {
    execute_past_conflicts(db_, kCreateTable);
  }
  execute_past_conflicts(db_, "INSERT IGNORE INTO schema_migration_lock (id) VALUES (1)");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool said = false;
  while (!claim()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw MigrationError(
          "another statesink migrate held the cluster's migration lock for more "
          "than " +
          std::to_string(timeout.count()) +
          " s (see the table schema_migration_lock); wait for it to finish, or "
          "raise --lock-timeout");
    }
    if (!said) {
      said = true;
      const auto rows = db_.query(
          "SELECT holder, DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i:%s') FROM "
          "schema_migration_lock WHERE id = 1");
      err << "waiting up to " << timeout.count()
          << " s for another statesink migrate on this cluster ("
          << (rows.empty() ? "?" : rows[0][0].value_or("?")) << ", lease until "
          << (rows.empty() ? "?" : rows[0][1].value_or("?")) << " UTC) to finish\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

ClusterLease::~ClusterLease() {
  try {
    db_.execute(
        "UPDATE schema_migration_lock SET holder = NULL, expires_at = NULL WHERE id = 1 AND "
        "holder = ?",
        std::array<db::Param, 1>{std::string_view(holder_)});
  } catch (const db::DbError&) {
    // Unreleased, the lease lapses after kTtl.
  }
}

bool ClusterLease::claim() {
  try {
    const std::uint64_t claimed = db_.execute(
        "UPDATE schema_migration_lock SET holder = ?, expires_at = UTC_TIMESTAMP(6) + INTERVAL " +
            std::to_string(kTtl.count()) +
            " SECOND WHERE id = 1 AND (holder IS NULL OR expires_at < UTC_TIMESTAMP(6))",
        std::array<db::Param, 1>{std::string_view(holder_)});
    if (claimed != 1) {
      return false;
    }
    // Read back causally (the session waits for the cluster: wsrep_sync_wait):
    // of claims that overlapped, the one certified last holds the row, so
    // exactly one claimant finds its own name here, whatever each UPDATE said.
    return db_.query_value("SELECT holder FROM schema_migration_lock WHERE id = 1") == holder_;
  } catch (const db::DbError& e) {
    if (e.code() == 1213) {  // another node's claim certified first
      return false;
    }
    throw;
  }
}

void ClusterLease::renew() {
  const std::uint64_t kept =
      db_.execute("UPDATE schema_migration_lock SET expires_at = UTC_TIMESTAMP(6) + INTERVAL " +
                      std::to_string(kTtl.count()) + " SECOND WHERE id = 1 AND holder = ?",
                  std::array<db::Param, 1>{std::string_view(holder_)});
  if (kept != 1) {
    throw MigrationError(
        "this migrate lost the cluster's migration lock (a statement ran for "
        "longer than " +
        std::to_string(kTtl.count()) +
        " s and another migrate took over); run statesink migrate status, then "
        "migrate up again once the other one is done");
  }
}

}  // namespace statesink::migrate
