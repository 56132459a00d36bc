#include "ingest/batch_inserter.h"

#include <chrono>
#include <vector>

#include "util/sql_time.h"

namespace statesink::ingest {
namespace {

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

}  // namespace

BatchInserter::BatchInserter(db::Connection& connection, std::string spool_id, std::size_t max_rows)
    : connection_(connection),
      spool_id_(std::move(spool_id)),
      max_rows_(std::max<std::size_t>(1, max_rows)) {}

std::uint64_t BatchInserter::committed_seq() {
  const db::Param id[] = {std::string_view(spool_id_)};
  auto rows = connection_.query("SELECT last_seq FROM ingest_progress WHERE spool_id = ?", id);
  if (rows.empty() || !rows[0][0]) {
    return 0;
  }
  return std::stoull(*rows[0][0]);
}

db::Statement& BatchInserter::rows_statement(std::size_t rows) {
  auto it = statements_.find(rows);
  if (it == statements_.end()) {
    it = statements_.emplace(rows, connection_.prepare(insert_sql(rows))).first;
  }
  return it->second;
}

void BatchInserter::record_progress(std::uint64_t seq) {
  if (!progress_) {
    // No VALUES() in the update: deprecated in MySQL 8.0.20 and without a
    // portable replacement that MariaDB also takes.
    progress_ = connection_.prepare(
        "INSERT INTO ingest_progress (spool_id, last_seq, updated_at) "
        "VALUES (?, ?, UTC_TIMESTAMP(6)) "
        "ON DUPLICATE KEY UPDATE last_seq = ?, updated_at = UTC_TIMESTAMP(6)");
  }
  const db::Param params[] = {std::string_view(spool_id_), seq, seq};
  progress_->execute(params);
}

void BatchInserter::insert(std::span<const spool::Record> records) {
  if (records.empty()) {
    return;
  }
  std::vector<std::string> times;
  times.reserve(records.size());
  for (const auto& r : records) {
    times.push_back(format_sql_datetime_us(r.received_at_us));
  }
  std::vector<db::Param> params;
  db::Transaction transaction(connection_);
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
      const spool::Record& r = records[i];
      params.emplace_back(std::string_view(r.topic));
      params.emplace_back(db::Blob{r.payload});
      params.emplace_back(static_cast<std::int64_t>(r.qos));
      params.emplace_back(static_cast<std::int64_t>(r.retain ? 1 : 0));
      params.emplace_back(std::string_view(times[i]));
    }
    rows_statement(rows).execute(params);
    done += rows;
  }
  record_progress(records.back().seq);
  transaction.commit();
}

void BatchInserter::skip_to(std::uint64_t seq) {
  db::Transaction transaction(connection_);
  record_progress(seq);
  transaction.commit();
}

}  // namespace statesink::ingest
