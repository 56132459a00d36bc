#include "ingest/mysql_store.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "db/error.h"
#include "ingest/topic_order.h"
#include "util/log.h"
#include "util/sql_time.h"

namespace statesink::ingest {
namespace {

// normalise_batch() has a fixed cost per call (its work tables, and planning
// twenty statements) of about as much as 20 messages through the per-row
// trigger, and then costs less than half of the trigger per message: since
// migration 0012 the two break even near 50 messages on the benchmark's
// traffic (README, "Two normalisation paths"). Smaller batches, the common
// case under light traffic, go through the trigger; under load batches grow
// past this and take the set-based path.
constexpr std::size_t kSetBasedMinRows = 50;

// A partial batch is split into chunks of these sizes, so a handful of
// prepared statements serve every batch length.
constexpr std::size_t kChunkSizes[] = {512, 64, 8, 1};

std::string insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
  }
  return sql;
}

db::Connection open(const config::DbUrl& url) {
  db::ConnectOptions options;
  options.connect_timeout = std::chrono::seconds(5);
  // A server that stops answering mid-batch is noticed, then retried; a
  // read-timeout in the URL overrides this.
  options.read_timeout = std::chrono::seconds(60);
  db::Connection connection = db::Connection::open(url, options);
  // Several ingesters (a share group) write the same states at once, and
  // the trigger on `messages` does its reads and writes inside our
  // transaction. Most of their deadlocks came from lock order (see insert());
  // with topic order alone a rare one remained (1 in about 125 batches). Gap
  // locks are where those can still come from: under the default REPEATABLE
  // READ the trigger's lookup of a topic_hash not stored yet locks the gap in
  // states, and the INSERT that creates the row then waits on the other
  // session's gap lock while it waits on ours. READ COMMITTED takes no gap
  // locks for searches, and its UPDATEs skip a row whose last committed
  // version does not match instead of waiting for it. The trigger stays
  // correct at this level: each UPDATE compares again under the row lock (the
  // value for a repeat, last_seen for the order) and rows are created with ON
  // DUPLICATE KEY, so nothing relies on what its first SELECT saw. Only this
  // session changes. With statement-based binary logging InnoDB refuses
  // writes at READ COMMITTED (error 1665), so such a server keeps its
  // default and only the topic order protects it.
  const auto binlog =
      connection.query_value("SELECT @@log_bin = 0 OR @@session.binlog_format <> 'STATEMENT'");
  if (binlog && *binlog == "1") {
    connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  }
  return connection;
}

}  // namespace

MysqlStore::MysqlStore(const config::DbUrl& url, std::string spool_id, std::size_t max_rows)
    : connection_(open(url)),
      spool_id_(std::move(spool_id)),
      max_rows_(std::max<std::size_t>(1, max_rows)) {
  const auto packet = connection_.query_value("SELECT @@max_allowed_packet");
  max_packet_ = packet ? std::stoull(*packet) : (4ULL << 20);
  // Installed by migration 0009; a database not migrated that far is
  // normalised by the trigger alone.
  const auto procedure = connection_.query_value(
      "SELECT COUNT(*) FROM information_schema.routines "
      "WHERE routine_schema = DATABASE() AND routine_name = 'normalise_batch'");
  normalise_batches_ = procedure && *procedure != "0";
  if (!normalise_batches_) {
    // Not an error: the trigger gives the same rows, at more server CPU.
    log::info(
        "normalise_batch() is not there for this account (migration 0009, and GRANT "
        "EXECUTE as in sql/grants.sql): the trigger normalises every batch");
  }
}

std::uint64_t MysqlStore::committed_seq() {
  const db::Param id[] = {std::string_view(spool_id_)};
  auto rows = connection_.query("SELECT last_seq FROM ingest_progress WHERE spool_id = ?", id);
  if (rows.empty() || !rows[0][0]) {
    return 0;
  }
  return std::stoull(*rows[0][0]);
}

db::Statement& MysqlStore::rows_statement(std::size_t rows) {
  auto it = statements_.find(rows);
  if (it == statements_.end()) {
    it = statements_.emplace(rows, connection_.prepare(insert_sql(rows))).first;
  }
  return it->second;
}

bool MysqlStore::move_progress(std::uint64_t from, std::uint64_t to) {
  if (from == 0) {
    // No row yet: the primary key makes a second first attempt fail (1062),
    // which means the first one committed.
    if (!insert_progress_) {
      insert_progress_ = connection_.prepare(
          "INSERT INTO ingest_progress (spool_id, last_seq, updated_at) "
          "VALUES (?, ?, UTC_TIMESTAMP(6))");
    }
    const db::Param params[] = {std::string_view(spool_id_), to};
    try {
      insert_progress_->execute(params);
    } catch (const db::DbError& e) {
      if (e.code() == 1062) {  // ER_DUP_ENTRY
        return false;
      }
      throw;
    }
    return true;
  }
  if (!update_progress_) {
    update_progress_ = connection_.prepare(
        "UPDATE ingest_progress SET last_seq = ?, updated_at = UTC_TIMESTAMP(6) "
        "WHERE spool_id = ? AND last_seq = ?");
  }
  const db::Param params[] = {to, std::string_view(spool_id_), from};
  return update_progress_->execute(params) == 1;
}

bool MysqlStore::insert(std::uint64_t from, std::span<const spool::Record> records) {
  if (records.empty()) {
    return true;
  }
  if (!normalise_batches_ || records.size() < kSetBasedMinRows) {
    return insert_rows(from, records, false);
  }
  try {
    return insert_rows(from, records, true);
  } catch (const NormaliseBatchFailed& e) {
    // The transaction has rolled back. The trigger never fails on a message,
    // so the same rows through it are stored; the set-based path stays off
    // for this connection, and the error is worth a report.
    log::error(std::string("normalise_batch() failed: ") + e.what() +
               "; this connection now lets the per-row trigger normalise its batches. "
               "Please report the error with the messages of this batch (topics and payloads).");
    normalise_batches_ = false;
    return insert_rows(from, records, false);
  }
}

bool MysqlStore::insert_rows(std::uint64_t from, std::span<const spool::Record> records,
                             bool set_based) {
  // The rows go in ordered by topic (topic_key: by entity, its state
  // first, then last_updated, then the other attributes), so every
  // transaction takes the
  // exclusive row locks its trigger runs need (the topic's current_states
  // row, updated by nearly every message) in one order. In reception order,
  // two batches holding the same topics in different orders each locked a
  // row the other needed next: with two or three ingesters in a share group
  // that was 1.4 to 2.4 deadlocks per batch, and READ COMMITTED alone did not
  // change it. The sort is stable, so the messages of one topic keep their
  // order, which is all the trigger's repeat and last-value decisions depend
  // on. The price: within one batch messages.id follows topic order, not
  // reception order across topics; received_at stays the exact reception
  // time, and ids still grow from batch to batch.
  std::vector<std::pair<TopicKey, const spool::Record*>> keyed;
  keyed.reserve(records.size());
  for (const auto& r : records) {
    keyed.emplace_back(topic_key(r.topic), &r);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> times;
  times.reserve(records.size());
  for (const auto& [key, r] : keyed) {
    times.push_back(format_sql_datetime_us(r->received_at_us));
  }
  std::vector<db::Param> params;
  db::Transaction transaction(connection_);
  if (!move_progress(from, records.back().seq)) {
    return false;  // the transaction rolls back, though it holds nothing
  }
  // With the variable set, the trigger collects each new row's key (id and
  // received_at) instead of normalising the row; normalise_batch() below
  // reads and clears it. A user variable outlives a rollback, so it is set at
  // every attempt, also to NULL for the trigger's path: keys of a failed
  // set-based attempt must not make the trigger collect instead of normalise.
  connection_.execute(set_based ? "SET @statesink_batch_ids = ''"
                                : "SET @statesink_batch_ids = NULL");
  std::size_t done = 0;
  while (done < records.size()) {
    const std::size_t left = records.size() - done;
    std::size_t rows = std::min(left, max_rows_);
    if (rows < max_rows_) {
      for (std::size_t size : kChunkSizes) {
        if (size <= left) {
          rows = size;
          break;
        }
      }
    }
    params.clear();
    params.reserve(rows * 5);
    for (std::size_t i = done; i < done + rows; ++i) {
      const spool::Record& r = *keyed[i].second;
      params.emplace_back(std::string_view(r.topic));
      params.emplace_back(db::Blob{r.payload});
      params.emplace_back(static_cast<std::int64_t>(r.qos));
      params.emplace_back(static_cast<std::int64_t>(r.retain ? 1 : 0));
      params.emplace_back(std::string_view(times[i]));
    }
    rows_statement(rows).execute(params);
    done += rows;
  }
  if (set_based) {
    try {
      connection_.execute("CALL normalise_batch()");
    } catch (const db::DbError& e) {
      // Lost connections, deadlocks and outages are the committer's to retry;
      // anything else is the procedure's own failure.
      if (e.retryable() || e.connection_lost() || e.needs_operator()) {
        throw;
      }
      throw NormaliseBatchFailed(e.what());
    }
  }
  transaction.commit();
  return true;
}

bool MysqlStore::skip(std::uint64_t from, std::uint64_t to) {
  db::Transaction transaction(connection_);
  if (!move_progress(from, to)) {
    return false;
  }
  transaction.commit();
  return true;
}

}  // namespace statesink::ingest
