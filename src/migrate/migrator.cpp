#include "migrate/migrator.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <map>
#include <ostream>

#include "db/error.h"
#include "db/statement.h"
#include "migrate/sha256.h"
#include "migrate/sql_splitter.h"
#include "version.h"

namespace statesink::migrate {

struct Migrator::Record {
  std::uint64_t version = 0;
  std::string name;
  std::string checksum;
  std::string state;  // applying | failed | applied
  std::uint64_t statements_done = 0;
  std::uint64_t statements_total = 0;
  std::string done_checksum;
  std::string applied_at;
  std::optional<std::uint64_t> execution_ms;
  std::string error;

  std::string label() const { return format_version(version) + "_" + name; }
  bool complete() const { return state == "applied"; }
};

namespace {

constexpr const char* kCreateTable = R"(CREATE TABLE IF NOT EXISTS schema_migrations (
  version          BIGINT UNSIGNED NOT NULL,
  name             VARCHAR(255)    NOT NULL,
  checksum         CHAR(64)        NOT NULL,
  state            VARCHAR(16)     NOT NULL,
  statements_done  INT UNSIGNED    NOT NULL DEFAULT 0,
  statements_total INT UNSIGNED    NOT NULL DEFAULT 0,
  done_checksum    CHAR(64)        NOT NULL,
  started_at       DATETIME(6)     NOT NULL,
  applied_at       DATETIME(6)     NULL,
  execution_ms     BIGINT UNSIGNED NULL,
  applied_by       VARCHAR(512)    NOT NULL,
  error            TEXT            NULL,
  PRIMARY KEY (version)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4)";

// Identifies the first `count` statements, so a resumed migration can tell
// whether what already ran is still what the file says.
std::string prefix_checksum(const std::vector<SqlStatement>& statements, std::size_t count) {
  std::string digests;
  for (std::size_t i = 0; i < count && i < statements.size(); ++i) {
    digests += sha256_hex(statements[i].text);
  }
  return sha256_hex(digests);
}

std::string first_line(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  return line.size() > 120 ? line.substr(0, 117) + "..." : line;
}

// The first `count` words of a statement, upper-cased: enough to tell its kind.
std::vector<std::string> leading_words(std::string_view text, std::size_t count) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (words.size() < count && i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    std::string word;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
      ++i;
    }
    if (word.empty()) {
      break;
    }
    words.push_back(std::move(word));
  }
  return words;
}

// mysqldump wraps each table's rows in LOCK TABLES ... WRITE / UNLOCK TABLES.
// A session holding table locks may touch no other table, so the runner could
// not record progress in schema_migrations after each statement, and a rerun
// would fail the same way. Refused before anything runs instead; the runner's
// own lock already keeps other migrations out.
void refuse_table_locks(const std::vector<SqlStatement>& statements, const std::string& file) {
  for (const SqlStatement& s : statements) {
    const std::vector<std::string> words = leading_words(s.text, 2);
    if (words.size() == 2 && (words[0] == "LOCK" || words[0] == "UNLOCK") &&
        (words[1] == "TABLES" || words[1] == "TABLE")) {
      throw MigrationError(
          file + " line " + std::to_string(s.line) + ": " + first_line(s.text) +
          ": migrations cannot use LOCK TABLES or UNLOCK TABLES (statesink records its progress "
          "in schema_migrations after each statement, which a session holding table locks "
          "cannot do); remove those lines, and use START TRANSACTION ... COMMIT around the "
          "inserts if they must appear at once (nothing was applied)");
    }
  }
}

std::vector<SqlStatement> split_file(const std::string& text, const std::string& file) {
  std::vector<SqlStatement> statements;
  try {
    statements = split_sql(text);
  } catch (const SqlSyntaxError& e) {
    throw MigrationError(file + " line " + std::to_string(e.line()) + ": " + e.what() +
                         "; fix the file and run the command again (nothing was applied)");
  }
  refuse_table_locks(statements, file);
  return statements;
}

std::string host_name() {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0) {
    return "unknown host";
  }
  return buffer.data();
}

std::string range(std::uint64_t count) {
  return count == 1 ? "statement 1" : "statements 1-" + std::to_string(count);
}

// Prints statements so they can be piped into the mysql client as they are.
void print_statements(std::ostream& out, const std::vector<SqlStatement>& statements) {
  for (const SqlStatement& s : statements) {
    if (s.text.find(';') != std::string::npos) {
      out << "DELIMITER $$\n" << s.text << "\n$$\nDELIMITER ;\n";
    } else {
      // A statement may end in a comment that would swallow a terminator on its line.
      std::string_view last_line = std::string_view(s.text).substr(s.text.rfind('\n') + 1);
      bool comment = last_line.find("--") != std::string_view::npos ||
                     last_line.find('#') != std::string_view::npos;
      out << s.text << (comment ? "\n;\n" : ";\n");
    }
  }
}

// Every statesink session runs in UTC (db::Connection), which the runner's
// bookkeeping does not need (it writes UTC_TIMESTAMP) but which a migration's
// own statements would notice: an event's schedule, and the time zone stored
// with it, follow the session's zone. The mysql client uses the server's
// default zone, so the file's statements run in that one, and the session
// goes back to UTC afterwards for whatever the connection does next.
class ServerTimeZone {
 public:
  explicit ServerTimeZone(db::Connection& db) : db_(db) {
    db_.execute("SET time_zone = @@GLOBAL.time_zone");
  }
  ~ServerTimeZone() {
    try {
      db_.execute("SET time_zone = '+00:00'");
    } catch (const db::DbError&) {
      // A lost connection takes its session with it; a new one starts in UTC.
    }
  }
  ServerTimeZone(const ServerTimeZone&) = delete;
  ServerTimeZone& operator=(const ServerTimeZone&) = delete;

 private:
  db::Connection& db_;
};

std::uint64_t to_u64(const std::optional<std::string>& value) {
  return value ? std::stoull(*value) : 0;
}

}  // namespace

const char* to_string(State state) {
  switch (state) {
    case State::pending:
      return "pending";
    case State::applied:
      return "applied";
    case State::changed:
      return "changed";
    case State::failed:
      return "failed";
    case State::missing:
      return "missing";
  }
  return "unknown";
}

Migrator::Migrator(db::Connection& connection, MigrationSet migrations, std::ostream& out,
                   std::ostream& err, MigratorOptions options)
    : db_(connection),
      migrations_(std::move(migrations)),
      out_(out),
      err_(err),
      options_(options) {}

bool Migrator::table_exists() { return db_.has_table("schema_migrations"); }

void Migrator::ensure_table() {
  // Not even IF NOT EXISTS when it is there: on Galera the DDL runs
  // cluster-wide and aborts another node's migrator mid-bookkeeping.
  if (!table_exists()) {
    execute_past_conflicts(db_, kCreateTable);
  }
}

std::vector<Migrator::Record> Migrator::read_records() {
  std::vector<Record> records;
  if (!table_exists()) {
    return records;
  }
  for (const db::Row& row :
       db_.query("SELECT version, name, checksum, state, statements_done, statements_total, "
                 "done_checksum, DATE_FORMAT(applied_at, '%Y-%m-%d %H:%i:%s'), execution_ms, error "
                 "FROM schema_migrations ORDER BY version")) {
    Record r;
    r.version = to_u64(row[0]);
    r.name = row[1].value_or("");
    r.checksum = row[2].value_or("");
    r.state = row[3].value_or("");
    r.statements_done = to_u64(row[4]);
    r.statements_total = to_u64(row[5]);
    r.done_checksum = row[6].value_or("");
    r.applied_at = row[7].value_or("");
    if (row[8]) {
      r.execution_ms = to_u64(row[8]);
    }
    r.error = row[9].value_or("");
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<StatusRow> Migrator::status() {
  std::map<std::uint64_t, StatusRow> rows;
  for (const Migration& m : migrations_.all()) {
    rows[m.version] = StatusRow{m.version, m.label(), State::pending, "", std::nullopt, ""};
  }
  for (const Record& r : read_records()) {
    StatusRow& row = rows[r.version];
    const Migration* m = migrations_.find(r.version);
    row.version = r.version;
    row.label = m ? m->label() : r.label();
    row.applied_at = r.applied_at;
    row.duration_ms = r.execution_ms;
    if (!r.complete()) {
      row.state = State::failed;
      row.note = "stopped after " + std::to_string(r.statements_done) + " of " +
                 std::to_string(r.statements_total) + " statements" +
                 (r.error.empty() ? " (the run was interrupted)" : ": " + r.error);
    } else if (!m) {
      row.state = State::missing;
      row.note = "applied, but " + migrations_.origin() + " has no file for it";
    } else if (m->checksum != r.checksum) {
      row.state = State::changed;
      row.note = m->up_file() + " was edited after it was applied";
    } else {
      row.state = State::applied;
    }
    if (r.complete() && !r.error.empty()) {
      row.note += (row.note.empty() ? "" : "; ") + r.error;
    }
  }
  std::vector<StatusRow> out;
  for (auto& [version, row] : rows) {
    out.push_back(std::move(row));
  }
  return out;
}

int Migrator::up(std::optional<std::uint64_t> target, bool dry_run) {
  if (target && *target != 0 && !migrations_.find(*target)) {
    throw MigrationError("there is no migration " + format_version(*target) + " in " +
                         migrations_.origin() + "; see statesink migrate status");
  }
  std::optional<MigrationLock> lock;
  if (!dry_run) {
    ensure_table();
    lock.emplace(db_, options_.lock_timeout, err_);
  }
  // Read only under the lock: another migrator may just have finished.
  std::map<std::uint64_t, Record> records;
  for (Record& r : read_records()) {
    records.emplace(r.version, std::move(r));
  }
  const std::uint64_t highest_applied = records.empty() ? 0 : records.rbegin()->first;

  std::vector<const Migration*> todo;
  for (const Migration& m : migrations_.all()) {
    if (target && m.version > *target) {
      break;
    }
    auto it = records.find(m.version);
    if (it != records.end() && it->second.complete()) {
      if (it->second.checksum != m.checksum) {
        err_ << "warning: " << m.up_file() << " was edited after it was applied; "
             << "run statesink migrate verify\n";
      }
      continue;
    }
    if (it == records.end() && m.version < highest_applied) {
      throw MigrationError(m.up_file() + " is pending but a later migration (" +
                           format_version(highest_applied) +
                           ") is already applied; give it a version above " +
                           format_version(highest_applied) + " (nothing was applied)");
    }
    todo.push_back(&m);
  }
  for (const auto& [version, r] : records) {
    if (!migrations_.find(version)) {
      err_ << "warning: the database has migration " << r.label() << ", which "
           << migrations_.origin() << " does not hold; this statesink may be older than the one "
           << "that applied it\n";
    }
  }

  if (dry_run) {
    out_ << "-- statesink migrate up --dry-run on " << db_.description() << ": " << todo.size()
         << " migration(s) to apply; bookkeeping in schema_migrations not shown\n";
    for (const Migration* m : todo) {
      std::vector<SqlStatement> statements = split_file(m->up_sql, m->up_file());
      auto it = records.find(m->version);
      const std::size_t skip = it == records.end() ? 0 : it->second.statements_done;
      out_ << "\n-- " << m->up_file();
      if (skip > 0) {
        out_ << " (resuming after statement " << skip << ")";
        statements.erase(
            statements.begin(),
            statements.begin() + static_cast<std::ptrdiff_t>(std::min(skip, statements.size())));
      }
      out_ << "\n";
      print_statements(out_, statements);
    }
    return static_cast<int>(todo.size());
  }

  // Every file is checked before the first statement runs, so a file the
  // runner cannot take stops the run with nothing applied.
  for (const Migration* m : todo) {
    split_file(m->up_sql, m->up_file());
  }
  for (const Migration* m : todo) {
    auto it = records.find(m->version);
    apply(*m, it == records.end() ? nullptr : &it->second, *lock);
  }
  const std::uint64_t now_at =
      std::max(highest_applied, todo.empty() ? std::uint64_t{0} : todo.back()->version);
  if (todo.empty()) {
    out_ << "nothing to apply: the database is at version " << format_version(now_at) << "\n";
  } else {
    out_ << "applied " << todo.size() << " migration(s): the database is at version "
         << format_version(now_at) << "\n";
  }
  return static_cast<int>(todo.size());
}

void Migrator::apply(const Migration& m, const Record* partial, MigrationLock& lock) {
  const std::vector<SqlStatement> statements = split_file(m.up_sql, m.up_file());
  std::size_t start = 0;
  if (partial) {
    start = partial->statements_done;
    if (start > statements.size() || prefix_checksum(statements, start) != partial->done_checksum) {
      throw MigrationError(
          m.label() + " was partly applied (" + range(start) + " of " +
          std::to_string(partial->statements_total) + ") and " + m.up_file() +
          " no longer starts with those statements; either restore them in the file so the run "
          "can resume, or undo what they did by hand and run: statesink migrate forget " +
          std::to_string(m.version));
    }
    if (start > 0) {
      out_ << "resuming " << m.label() << " at statement " << (start + 1) << " of "
           << statements.size() << "\n";
    }
  }

  const std::string applied_by = "statesink " + std::string(kVersion) + " on " + host_name();
  const std::uint64_t total = statements.size();
  const std::string done = prefix_checksum(statements, start);
  // Bookkeeping retried past conflicts: on Galera, a second migrator's DDL
  // aborts these writes (1213) while this one holds the lease.
  if (partial) {
    retry_past_conflicts([&] {
      db_.execute(
          "UPDATE schema_migrations SET name = ?, checksum = ?, state = 'applying', "
          "statements_total = ?, started_at = UTC_TIMESTAMP(6), applied_by = "
          "CONCAT(CURRENT_USER(), ' with ', ?), error = NULL WHERE version = ?",
          std::array<db::Param, 5>{std::string_view(m.name), std::string_view(m.checksum), total,
                                   std::string_view(applied_by), m.version});
    });
  } else {
    retry_past_conflicts([&] {
      db_.execute(
          "INSERT INTO schema_migrations (version, name, checksum, state, statements_done, "
          "statements_total, done_checksum, started_at, applied_by) VALUES (?, ?, ?, 'applying', "
          "0, "
          "?, ?, UTC_TIMESTAMP(6), CONCAT(CURRENT_USER(), ' with ', ?))",
          std::array<db::Param, 6>{m.version, std::string_view(m.name),
                                   std::string_view(m.checksum), total, std::string_view(done),
                                   std::string_view(applied_by)});
    });
  }

  db::Statement progress = db_.prepare(
      "UPDATE schema_migrations SET statements_done = ?, done_checksum = ? WHERE version = ?");
  const auto started = std::chrono::steady_clock::now();
  const ServerTimeZone zone(db_);
  for (std::size_t i = start; i < statements.size(); ++i) {
    const SqlStatement& s = statements[i];
    try {
      // A statement a conflict aborted (1213) was not applied: run it again.
      retry_past_conflicts([&] { db_.execute(s.text); });
    } catch (const db::DbError& e) {
      const std::string where = "statement " + std::to_string(i + 1) + " of " +
                                std::to_string(total) + " (" + m.up_file() + " line " +
                                std::to_string(s.line) + ": " + first_line(s.text) + ")";
      const std::string reason = where + " failed: " + e.what();
      try {
        db_.execute("UPDATE schema_migrations SET state = 'failed', error = ? WHERE version = ?",
                    std::array<db::Param, 2>{std::string_view(reason), m.version});
      } catch (const db::DbError&) {
        // The connection is gone; the row still says 'applying' and status reports it.
      }
      const std::string kept =
          i == 0 ? "No statement of it was applied."
                 : range(i) +
                       " of it were applied and stay applied (MySQL and MariaDB commit "
                       "each DDL statement at once).";
      throw MigrationError("migration " + m.label() + " failed at " + reason + ". " + kept +
                           " Fix the statement and run statesink migrate up again: it resumes at "
                           "statement " +
                           std::to_string(i + 1) + ".");
    }
    const std::string prefix = prefix_checksum(statements, i + 1);
    retry_past_conflicts([&] {
      progress.execute(
          std::array<db::Param, 3>{std::uint64_t{i + 1}, std::string_view(prefix), m.version});
    });
    lock.keep_alive();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  retry_past_conflicts([&] {
    db_.execute(
        "UPDATE schema_migrations SET state = 'applied', applied_at = UTC_TIMESTAMP(6), "
        "execution_ms = ?, error = NULL WHERE version = ?",
        std::array<db::Param, 2>{static_cast<std::uint64_t>(elapsed), m.version});
  });
  out_ << "applied " << m.label() << " (" << total << " statement" << (total == 1 ? "" : "s")
       << ", " << elapsed << " ms)\n";
}

int Migrator::down(std::uint64_t target, bool dry_run) {
  if (target != 0 && !migrations_.find(target)) {
    throw MigrationError("there is no migration " + format_version(target) + " in " +
                         migrations_.origin() +
                         "; give --to a version from statesink migrate status, or 0 for none");
  }
  std::optional<MigrationLock> lock;
  if (!dry_run) {
    ensure_table();
    lock.emplace(db_, options_.lock_timeout, err_);
  }
  std::vector<Record> records = read_records();
  std::vector<const Migration*> todo;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->version <= target) {
      break;
    }
    const Migration* m = migrations_.find(it->version);
    if (!it->complete()) {
      throw MigrationError(it->label() +
                           " is only partly applied; finish it with statesink "
                           "migrate up, or undo it by hand and run statesink migrate forget " +
                           std::to_string(it->version) + " (nothing was rolled back)");
    }
    if (!m) {
      throw MigrationError("cannot roll back " + it->label() + ": " + migrations_.origin() +
                           " has no file for it; point --dir at the migrations that applied it "
                           "(nothing was rolled back)");
    }
    if (!m->down_sql) {
      throw MigrationError("cannot roll back " + m->label() + ": it has no " + m->down_file() +
                           " (nothing was rolled back)");
    }
    todo.push_back(m);
  }
  if (dry_run) {
    out_ << "-- statesink migrate down --dry-run on " << db_.description() << ": " << todo.size()
         << " migration(s) to roll back; bookkeeping in schema_migrations not shown\n";
    for (const Migration* m : todo) {
      out_ << "\n-- " << m->down_file() << "\n";
      print_statements(out_, split_file(*m->down_sql, m->down_file()));
    }
    return static_cast<int>(todo.size());
  }
  for (const Migration* m : todo) {
    split_file(*m->down_sql, m->down_file());
  }
  for (const Migration* m : todo) {
    roll_back(*m);
  }
  out_ << (todo.empty() ? "nothing to roll back"
                        : "rolled back " + std::to_string(todo.size()) + " migration(s)")
       << ": the database is at version " << format_version(target) << "\n";
  return static_cast<int>(todo.size());
}

void Migrator::roll_back(const Migration& m) {
  const std::vector<SqlStatement> statements = split_file(*m.down_sql, m.down_file());
  const auto started = std::chrono::steady_clock::now();
  const ServerTimeZone zone(db_);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const SqlStatement& s = statements[i];
    try {
      db_.execute(s.text);
    } catch (const db::DbError& e) {
      const std::string reason = "rolling back failed at statement " + std::to_string(i + 1) +
                                 " of " + std::to_string(statements.size()) + " (" + m.down_file() +
                                 " line " + std::to_string(s.line) + "): " + e.what();
      try {
        db_.execute("UPDATE schema_migrations SET error = ? WHERE version = ?",
                    std::array<db::Param, 2>{std::string_view(reason), m.version});
      } catch (const db::DbError&) {
        // Best effort: the error is reported below either way.
      }
      throw MigrationError(
          m.label() + ": " + reason + ". " +
          (i == 0 ? std::string("Nothing of it was rolled back")
                  : range(i) + " of the down file ran and stay done") +
          "; it is still recorded as applied. Fix " + m.down_file() +
          " (make it safe to re-run, e.g. with IF EXISTS) and run statesink migrate down again.");
    }
  }
  db_.execute("DELETE FROM schema_migrations WHERE version = ?",
              std::array<db::Param, 1>{m.version});
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  out_ << "rolled back " << m.label() << " (" << elapsed << " ms)\n";
}

void Migrator::forget(std::uint64_t version) {
  ensure_table();
  MigrationLock lock(db_, options_.lock_timeout, err_);
  for (const Record& r : read_records()) {
    if (r.version != version) {
      continue;
    }
    if (r.complete()) {
      throw MigrationError(r.label() +
                           " is fully applied; forget is only for a migration that "
                           "stopped part-way. To undo it, use statesink migrate down");
    }
    db_.execute("DELETE FROM schema_migrations WHERE version = ?",
                std::array<db::Param, 1>{version});
    out_ << "forgot " << r.label() << " (" << r.statements_done << " of " << r.statements_total
         << " statements had run); the next statesink migrate up starts it from statement 1\n";
    return;
  }
  throw MigrationError("migration " + format_version(version) +
                       " has no record in schema_migrations; nothing to forget");
}

MigrationLock::MigrationLock(db::Connection& connection, std::chrono::seconds timeout,
                             std::ostream& err)
    : db_(connection) {
  if (db_.is_galera_node()) {
    lease_ = std::make_unique<ClusterLease>(db_, timeout, err);
    return;
  }
  // GET_LOCK is server-wide; the name carries the database so migrations of
  // other databases on the same server do not wait for each other.
  constexpr const char* kName = "LEFT(CONCAT('statesink.migrate.', DATABASE()), 64)";
  if (db_.query_value(std::string("SELECT GET_LOCK(") + kName + ", 0)") == "1") {
    return;
  }
  const std::optional<std::string> holder =
      db_.query_value(std::string("SELECT IS_USED_LOCK(") + kName + ")");
  err << "waiting up to " << timeout.count()
      << " s for another statesink migrate on this database (server connection "
      << holder.value_or("?") << ") to finish\n";
  if (db_.query_value(std::string("SELECT GET_LOCK(") + kName + ", " +
                      std::to_string(timeout.count()) + ")") != "1") {
    throw MigrationError("another statesink migrate (server connection " + holder.value_or("?") +
                         ") held the migration lock for more than " +
                         std::to_string(timeout.count()) +
                         " s; wait for it to finish, or raise --lock-timeout");
  }
}

void MigrationLock::keep_alive() {
  if (lease_) {
    lease_->renew();
  }
}

MigrationLock::~MigrationLock() {
  if (lease_) {
    return;  // the lease gives itself back
  }
  try {
    db_.execute("DO RELEASE_LOCK(LEFT(CONCAT('statesink.migrate.', DATABASE()), 64))");
  } catch (const db::DbError&) {
    // A lost connection releases the lock by itself.
  }
}

}  // namespace statesink::migrate
