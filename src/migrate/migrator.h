#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/connection.h"
#include "migrate/cluster_lease.h"
#include "migrate/migration_set.h"

namespace statesink::migrate {

enum class State {
  pending,  // known file, not applied
  applied,  // applied, file unchanged
  changed,  // applied, but the file's checksum differs from the one recorded
  failed,   // partly applied: a statement failed or the run was killed
  missing,  // recorded as applied, but no file for it is known
};
const char* to_string(State state);

struct StatusRow {
  std::uint64_t version = 0;
  std::string label;  // 0001_messages
  State state = State::pending;
  std::string applied_at;  // UTC, empty when not applied
  std::optional<std::uint64_t> duration_ms;
  std::string note;  // what is wrong, for failed/changed/missing
};

// A migration could not be applied or rolled back; the message says which
// statement failed, what was applied before it, and how to recover.
class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigratorOptions {
  // How long to wait for another statesink migrating the same database.
  std::chrono::seconds lock_timeout{300};
};

// Applies and rolls back migrations, recording each in schema_migrations:
// checksum, who applied it and when, how long it took, and how many of its
// statements have run, so a failed migration resumes where it stopped once
// its file is fixed (MySQL and MariaDB commit DDL statement by statement, so
// a migration cannot simply be rolled back).
class MigrationLock;

class Migrator {
 public:
  Migrator(db::Connection& connection, MigrationSet migrations, std::ostream& out,
           std::ostream& err, MigratorOptions options = {});

  std::vector<StatusRow> status();
  // Applies pending migrations up to `target` (default: all). Returns how many.
  int up(std::optional<std::uint64_t> target, bool dry_run);
  // Rolls back applied migrations above `target` (0: all). Returns how many.
  int down(std::uint64_t target, bool dry_run);
  // Removes the record of a migration that failed part-way, after its
  // applied statements were undone by hand, so the next up starts it afresh.
  void forget(std::uint64_t version);

 private:
  struct Record;
  std::vector<Record> read_records();
  bool table_exists();
  void ensure_table();
  void apply(const Migration& migration, const Record* partial, MigrationLock& lock);
  void roll_back(const Migration& migration);

  db::Connection& db_;
  MigrationSet migrations_;
  std::ostream& out_;
  std::ostream& err_;
  MigratorOptions options_;
};

// Holds the database-wide migration lock for its lifetime: GET_LOCK, which
// belongs to the session, so a killed migrator never leaves it behind; on a
// Galera node, where GET_LOCK holds on that node only, a ClusterLease.
class MigrationLock {
 public:
  MigrationLock(db::Connection& connection, std::chrono::seconds timeout, std::ostream& err);
  ~MigrationLock();
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

  // Called between statements: renews a cluster lease, nothing otherwise.
  void keep_alive();

 private:
  db::Connection& db_;
  std::unique_ptr<ClusterLease> lease_;
};

}  // namespace statesink::migrate
