#include "history/statistics_updater.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "db/statement.h"
#include "history/statistics_buckets.h"
#include "util/error.h"

namespace statesink::history {
namespace {

using std::chrono::seconds;

// The complete buckets move on in slices of a day, each slice committed with
// its progress, so that a first run over years of history (or a long
// rebuild) keeps what it finished when interrupted.
constexpr std::chrono::hours kSlice{24};
// Rows per INSERT statement.
constexpr std::size_t kInsertRows = 500;

UtcTime parse_db_time(const std::string& text) {
  return parse_time_arg(text, "a time from the database", UtcTime{});
}

std::optional<UtcTime> parse_db_time(const std::optional<std::string>& text) {
  if (!text) {
    return std::nullopt;
  }
  return parse_db_time(*text);
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// GET_LOCK names are server-wide and, on MySQL, at most 64 characters.
constexpr std::string_view kLockName = "LEFT(CONCAT('statesink.statistics.', DATABASE()), 64)";

// The lock that keeps two updates or rebuilds of one database apart; it
// belongs to the session, so a killed run cannot leave it behind.
class RunLock {
 public:
  RunLock(db::Connection& connection, seconds wait) : connection_(connection) {
    const auto got =
        connection_.query_value("SELECT GET_LOCK(CONCAT('statesink.statistics.', DATABASE()), " +
                                std::to_string(wait.count()) + ")");
    held_ = got && *got == "1";
  }
  ~RunLock() {
    if (held_) {
      try {
        connection_.query_value("SELECT RELEASE_LOCK(" + std::string(kLockName) + ")");
      } catch (...) {
        // The lock ends with the session anyway.
      }
    }
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  bool held() const { return held_; }

 private:
  db::Connection& connection_;
  bool held_ = false;
};

// Recomputes one table's buckets, one state and time range at a time, with
// statements prepared once per run.
class Recomputer {
 public:
  Recomputer(db::Connection& connection, const Granularity& granularity)
      : connection_(connection),
        granularity_(granularity),
        table_(db::quote_identifier(granularity.table)),
        delete_(connection.prepare("DELETE FROM " + table_ +
                                   " WHERE state_id = ? AND bucket_start >= ? "
                                   "AND bucket_start < ?")),
        // Facts are placed at happened_at: when the change happened in Home
        // Assistant where it says so, else when it was received (migration
        // 0011). Its index (state_id, happened_at) ends in the primary key, so
        // this is a short backward scan.
        in_force_(
            connection.prepare("SELECT num_value FROM facts WHERE state_id = ? AND happened_at < ? "
                               "ORDER BY happened_at DESC, id DESC LIMIT 1")),
        facts_(connection.prepare(
            "SELECT happened_at, num_value FROM facts WHERE state_id = ? AND happened_at >= ? "
            "AND happened_at < ? ORDER BY happened_at, id")) {}

  // Replaces the rows of `state` in [from, to); the caller holds the
  // transaction. Both ends are multiples of the bucket width.
  void recompute(std::uint64_t state, UtcTime from, UtcTime to, StatisticsProgress& progress) {
    if (from >= to) {
      return;
    }
    const std::string from_text = format_sql_datetime(from);
    const std::string to_text = format_sql_datetime(to);
    const db::Param range[] = {state, std::string_view(from_text), std::string_view(to_text)};
    progress.rows_deleted += delete_.execute(range);

    std::optional<double> in_force;
    const db::Param before[] = {state, std::string_view(from_text)};
    for (const db::Row& row : in_force_.query(before)) {
      if (row.at(0)) {
        in_force = std::stod(*row.at(0));
      }
    }
    std::vector<TimedValue> facts;
    for (const db::Row& row : facts_.query(range)) {
      TimedValue fact{parse_db_time(row.at(0).value_or("")), std::nullopt};
      if (row.at(1)) {
        fact.value = std::stod(*row.at(1));
      }
      facts.push_back(fact);
    }
    const std::vector<BucketStats> rows =
        compute_buckets(granularity_.step, from, to, in_force, facts);
    write(state, rows);
    progress.rows_written += rows.size();
    ++progress.recomputed;
  }

  // Removes every row in [from, to).
  void remove_all(UtcTime from, UtcTime to, StatisticsProgress& progress) {
    const std::string from_text = format_sql_datetime(from);
    const std::string to_text = format_sql_datetime(to);
    const db::Param params[] = {std::string_view(from_text), std::string_view(to_text)};
    progress.rows_deleted += connection_.execute(
        "DELETE FROM " + table_ + " WHERE bucket_start >= ? AND bucket_start < ?", params);
  }

  // Removes the rows in [from, to) of states that cannot have any there: no
  // number in force at `from` and no fact since. Rows like that are left by
  // facts deleted since they were computed.
  void remove_orphans(UtcTime from, UtcTime to, StatisticsProgress& progress) {
    const std::string from_text = format_sql_datetime(from);
    const std::string to_text = format_sql_datetime(to);
    const db::Param params[] = {std::string_view(from_text), std::string_view(to_text),
                                std::string_view(from_text)};
    progress.rows_deleted += connection_.execute(
        "DELETE t FROM " + table_ +
            " t LEFT JOIN current_states c ON c.state_id = t.state_id "
            "WHERE t.bucket_start >= ? AND t.bucket_start < ? "
            "AND (c.state_id IS NULL OR (c.num_value IS NULL AND c.last_seen < ?))",
        params);
  }

 private:
  void write(std::uint64_t state, const std::vector<BucketStats>& rows) {
    const std::string prefix =
        "INSERT INTO " + table_ +
        " (state_id, bucket_start, samples, min_value, max_value, mean_value, first_value, "
        "last_value, covered_seconds) VALUES ";
    std::string sql;
    std::size_t in_statement = 0;
    // Only numbers and times formatted here go into the text, so it needs no
    // escaping; %.17g gives each DOUBLE back exactly.
    for (const BucketStats& row : rows) {
      sql += in_statement == 0 ? prefix : std::string(", ");
      // Appended piece by piece: `"literal" + std::string` sets off GCC 12's
      // false -Wrestrict warning (GCC bug 105651) in optimised builds.
      sql += '(';
      sql += std::to_string(state);
      sql += ", '";
      sql += format_sql_datetime(row.bucket_start);
      sql += "', ";
      sql += std::to_string(row.samples);
      for (const double value : {row.min_value, row.max_value}) {
        sql += ", ";
        sql += number_text(value);
      }
      sql += ", ";
      sql += row.mean_value ? number_text(*row.mean_value) : std::string("NULL");
      for (const double value : {row.first_value, row.last_value, row.covered_seconds}) {
        sql += ", ";
        sql += number_text(value);
      }
      sql += ')';
      if (++in_statement == kInsertRows) {
        connection_.execute(sql);
        sql.clear();
        in_statement = 0;
      }
    }
    if (in_statement > 0) {
      connection_.execute(sql);
    }
  }

  db::Connection& connection_;
  const Granularity& granularity_;
  std::string table_;
  db::Statement delete_;
  db::Statement in_force_;
  db::Statement facts_;
};

// States that may have rows in a range starting at `from`: those with a
// number in force now, and those that received anything since `from` (the
// trigger keeps last_seen at the newest reception time of any of the state's
// messages, late ones included). A state whose number was in force at `from`
// and is not now has changed since, so it is among the second.
std::vector<std::uint64_t> candidate_states(db::Connection& connection, UtcTime from) {
  const std::string from_text = format_sql_datetime(from);
  const db::Param params[] = {std::string_view(from_text)};
  std::vector<std::uint64_t> states;
  for (const db::Row& row :
       connection.query("SELECT state_id FROM current_states "
                        "WHERE num_value IS NOT NULL OR last_seen >= ? ORDER BY state_id",
                        params)) {
    states.push_back(std::stoull(row.at(0).value_or("0")));
  }
  return states;
}

// Recomputes every state over [from, to) in slices and chunks of states.
// `after_slice` runs inside the transaction of each slice's last chunk.
void recompute_range(db::Connection& connection, Recomputer& recomputer,
                     const Granularity& granularity, UtcTime from, UtcTime to,
                     const StatisticsOptions& options, StatisticsProgress& progress,
                     const ProgressCallback& callback,
                     const std::function<void(UtcTime slice_end)>& after_slice) {
  progress.target = to;
  for (UtcTime start = from; start < to;) {
    const std::vector<std::uint64_t> states = candidate_states(connection, start);
    // No candidate means no fact at all since `start` and nothing in force:
    // the rest of the range has no rows, whatever its length.
    const UtcTime end =
        states.empty() ? to : std::min<UtcTime>(to, bucket_floor(start + kSlice, granularity.step));
    std::size_t next = 0;
    do {
      db::Transaction transaction(connection);
      if (next == 0) {
        recomputer.remove_orphans(start, end, progress);
      }
      const std::size_t stop = std::min(states.size(), next + options.state_chunk);
      for (; next < stop; ++next) {
        recomputer.recompute(states[next], start, end, progress);
      }
      if (next == states.size() && after_slice) {
        after_slice(end);
      }
      transaction.commit();
    } while (next < states.size());
    progress.done_until = end;
    if (callback) {
      callback(progress);
    }
    start = end;
  }
}

struct ProgressRow {
  std::uint64_t last_fact_id = 0;
  std::optional<UtcTime> computed_until;
  std::uint64_t observed_fact_id = 0;
  std::optional<UtcTime> observed_at;
};

ProgressRow read_progress(db::Connection& connection, const Granularity& granularity) {
  const db::Param params[] = {granularity.name};
  const std::vector<db::Row> rows = connection.query(
      "SELECT last_fact_id, computed_until, observed_fact_id, observed_at "
      "FROM statistics_progress WHERE granularity = ?",
      params);
  ProgressRow progress;
  if (rows.empty()) {
    // The migration inserts both rows; an operator may have deleted one to
    // start over.
    connection.execute("INSERT INTO statistics_progress (granularity) VALUES (?)", params);
    return progress;
  }
  const db::Row& row = rows.front();
  progress.last_fact_id = std::stoull(row.at(0).value_or("0"));
  progress.computed_until = parse_db_time(row.at(1));
  progress.observed_fact_id = std::stoull(row.at(2).value_or("0"));
  progress.observed_at = parse_db_time(row.at(3));
  return progress;
}

void set_progress(db::Connection& connection, const Granularity& granularity,
                  std::string_view column, const db::Param& value) {
  const db::Param params[] = {value, granularity.name};
  connection.execute("UPDATE statistics_progress SET " + std::string(column) +
                         " = ?, updated_at = UTC_TIMESTAMP(6) WHERE granularity = ?",
                     params);
}

void update_granularity(db::Connection& connection, const Granularity& granularity, UtcTime now,
                        const StatisticsOptions& options, StatisticsProgress& progress,
                        const ProgressCallback& callback) {
  progress.granularity = granularity.name;
  Recomputer recomputer(connection, granularity);
  const UtcTime horizon = bucket_floor(now, granularity.step);
  ProgressRow state = read_progress(connection, granularity);
  const std::uint64_t newest_id =
      std::stoull(connection.query_value("SELECT MAX(id) FROM facts").value_or("0"));

  if (!state.computed_until) {
    // The first run starts at the oldest fact: everything after it is
    // computed by moving the complete buckets on, below. Facts older than
    // that, recorded later, come in as late facts.
    const auto oldest = connection.query_value("SELECT MIN(happened_at) FROM facts");
    state.computed_until =
        oldest ? bucket_floor(parse_db_time(*oldest), granularity.step) : horizon;
    // Every fact there is now gets read by time below, so none of them is a
    // late fact for the next run; without this, the next run would compute
    // the whole history a second time. A fact still uncommitted at this
    // moment was received about now, after the complete buckets, and is read
    // by time when its bucket completes.
    state.last_fact_id = newest_id;
    const std::string text = format_sql_datetime(*state.computed_until);
    const db::Param params[] = {std::string_view(text), newest_id, granularity.name};
    connection.execute(
        "UPDATE statistics_progress SET computed_until = ?, last_fact_id = ?, "
        "updated_at = UTC_TIMESTAMP(6) WHERE granularity = ?",
        params);
  }
  const UtcTime computed_until = *state.computed_until;

  // New facts up to an id that every earlier transaction has had time to
  // commit: one seen by a previous run at least `settle` ago.
  std::uint64_t settled_id = state.last_fact_id;
  if (options.settle.count() == 0) {
    settled_id = std::max(settled_id, newest_id);
  } else if (state.observed_at && *state.observed_at <= now - options.settle) {
    settled_id = std::max(settled_id, state.observed_fact_id);
  }

  // Late and out-of-order facts: a fact before the complete buckets' end
  // changes its bucket and every bucket up to the state's next fact (the
  // value it brings holds until then). Facts after it are taken in below when
  // their buckets complete.
  const std::string until_text = format_sql_datetime(computed_until);
  db::Statement changed = connection.prepare(
      "SELECT state_id, MIN(happened_at), MAX(happened_at), COUNT(*) FROM facts "
      "WHERE id > ? AND id <= ? AND happened_at < ? GROUP BY state_id ORDER BY state_id");
  db::Statement following = connection.prepare(
      "SELECT MIN(happened_at) FROM facts WHERE state_id = ? AND happened_at > ?");
  for (std::uint64_t low = state.last_fact_id; low < settled_id;) {
    const std::uint64_t high = std::min<std::uint64_t>(settled_id, low + options.fact_chunk);
    db::Transaction transaction(connection);
    const db::Param ids[] = {low, high, std::string_view(until_text)};
    for (const db::Row& row : changed.query(ids)) {
      const std::uint64_t state_id = std::stoull(row.at(0).value_or("0"));
      const UtcTime first = parse_db_time(row.at(1).value_or(""));
      const std::string& last_text = *row.at(2);
      const db::Param after[] = {state_id, std::string_view(last_text)};
      const auto next = following.query(after).at(0).at(0);
      UtcTime end = computed_until;
      if (next) {
        end = std::min(end, bucket_floor(parse_db_time(*next), granularity.step) +
                                std::chrono::microseconds(granularity.step));
      }
      recomputer.recompute(state_id, bucket_floor(first, granularity.step), end, progress);
    }
    set_progress(connection, granularity, "last_fact_id", high);
    transaction.commit();
    progress.facts += high - low;
    low = high;
    if (callback) {
      callback(progress);
    }
  }

  // The buckets completed since the last run, for every state that may have
  // rows in them.
  recompute_range(connection, recomputer, granularity, computed_until, horizon, options, progress,
                  callback, [&](UtcTime slice_end) {
                    const std::string text = format_sql_datetime(slice_end);
                    set_progress(connection, granularity, "computed_until", std::string_view(text));
                  });
  progress.done_until = std::max(computed_until, horizon);

  const std::string now_text = format_sql_datetime(now);
  const db::Param observed[] = {newest_id, std::string_view(now_text), granularity.name};
  connection.execute(
      "UPDATE statistics_progress SET observed_fact_id = ?, observed_at = ?, "
      "updated_at = UTC_TIMESTAMP(6) WHERE granularity = ?",
      observed);
}

void require_tables(db::Connection& connection) {
  if (!has_statistics_tables(connection)) {
    throw std::runtime_error(
        "the database has no statistics tables: run statesink migrate up first");
  }
  // Statistics place facts at their event time (migration 0011).
  if (connection
          .query_value("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
                       "DATABASE() AND table_name = 'facts' AND column_name = 'happened_at'")
          .value_or("0") != "1") {
    throw std::runtime_error(
        "facts has no happened_at column (migration 0011, event time): run statesink migrate up "
        "first");
  }
}

}  // namespace

bool has_statistics_tables(db::Connection& connection) {
  return connection
             .query_value(
                 "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                 "AND table_name IN ('statistics_5min', 'statistics_hourly', "
                 "'statistics_progress')")
             .value_or("0") == "3";
}

StatisticsReport update_statistics(db::Connection& connection, UtcTime now,
                                   const StatisticsOptions& options,
                                   const ProgressCallback& progress) {
  const auto start = std::chrono::steady_clock::now();
  require_tables(connection);
  StatisticsReport report;
  RunLock lock(connection, seconds(0));
  if (!lock.held()) {
    report.skipped = true;
    return report;
  }
  update_granularity(connection, kFiveMinutes, now, options, report.five_minutes, progress);
  update_granularity(connection, kHourly, now, options, report.hourly, progress);
  report.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return report;
}

StatisticsReport rebuild_statistics(db::Connection& connection, UtcTime from,
                                    std::optional<UtcTime> to, UtcTime now,
                                    const StatisticsOptions& options, seconds lock_wait,
                                    const ProgressCallback& progress) {
  const auto start = std::chrono::steady_clock::now();
  require_tables(connection);
  StatisticsReport report;
  RunLock lock(connection, lock_wait);
  if (!lock.held()) {
    report.skipped = true;
    return report;
  }
  for (const Granularity* granularity : {&kFiveMinutes, &kHourly}) {
    StatisticsProgress& done = granularity == &kFiveMinutes ? report.five_minutes : report.hourly;
    done.granularity = granularity->name;
    const UtcTime horizon = bucket_floor(now, granularity->step);
    UtcTime end = horizon;
    if (to) {
      // Up to the end of the bucket that holds `to`.
      const UtcTime floor = bucket_floor(*to, granularity->step);
      end = std::min(horizon, floor == *to ? floor : floor + granularity->step);
    }
    UtcTime begin = bucket_floor(from, granularity->step);
    Recomputer recomputer(connection, *granularity);
    // Before the oldest fact there can be no rows: clear them at once rather
    // than walking through years of empty days.
    if (const auto oldest = connection.query_value("SELECT MIN(happened_at) FROM facts")) {
      const UtcTime first = std::min(end, bucket_floor(parse_db_time(*oldest), granularity->step));
      if (first > begin) {
        recomputer.remove_all(begin, first, done);
        begin = first;
      }
    }
    recompute_range(connection, recomputer, *granularity, begin, end, options, done, progress, {});
    done.done_until = std::max(begin, end);
  }
  report.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return report;
}

}  // namespace statesink::history
