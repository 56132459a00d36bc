#include "ingest/committer.h"

#include "db/error.h"
#include "spool/layout.h"
#include "util/log.h"
#include "util/sql_time.h"
#include "util/wait.h"

namespace statesink::ingest {
namespace {

// Room for the statement text, the packet header and the other columns: a
// multi-row INSERT costs at most this much beyond its topics and payloads
// per row, and once per statement.
constexpr std::uint64_t kRowOverhead = 128;
constexpr std::uint64_t kStatementOverhead = std::uint64_t{16} * 1024;
constexpr int kQuickRetries = 5;

std::uint64_t row_bytes(const spool::Record& r) {
  return r.topic.size() + r.payload.size() + kRowOverhead;
}

}  // namespace

Committer::Committer(CommitterOptions options, StoreFactory connect, spool::Spool& spool,
                     Metrics& metrics)
    : options_(std::move(options)),
      connect_(std::move(connect)),
      spool_(spool),
      metrics_(metrics),
      dead_letters_(spool::Layout{spool.options().directory}.dead_letters()),
      mark_(spool::Layout{spool.options().directory}.handed_over()),
      outage_("database " + options_.db_name),
      backoff_(std::chrono::milliseconds(200), std::chrono::seconds(15)) {}

bool Committer::ensure_connected(const std::atomic<bool>& abandon) {
  while (!store_) {
    if (abandon) {
      return false;
    }
    try {
      store_ = connect_();
      position_ = store_->committed_seq();
      metrics_.db_connected = true;
      check_behind();
    } catch (const db::DbError& e) {
      store_.reset();
      metrics_.db_connected = false;
      if (e.code() == 1146) {  // no such table
        throw std::runtime_error(
            "the database has no ingest_progress table: run `statesink migrate up` first");
      }
      failed(e, abandon);
    }
  }
  return true;
}

void Committer::check_behind() {
  const HandoverMark::Mark mark = mark_.read();
  if (position_ >= mark.seq) {
    metrics_.db_behind_messages = 0;
    return;
  }
  // Before reading starts, the spool resumes right after the database's
  // position, so what it still holds goes in again; once it reads, its
  // cursor is past everything handed over.
  const std::uint64_t held_from = started_ ? mark.seq + 1 : spool_.oldest_held();
  const std::uint64_t lost_to = std::min(mark.seq, held_from - 1);
  if (lost_to <= position_) {
    metrics_.db_behind_messages = 0;
    log::warn("database " + options_.db_name + " holds this spool's messages only up to number " +
              std::to_string(position_) + " of " + std::to_string(mark.seq) +
              " committed before (restored from a backup, or failed over?); the spool still "
              "holds the rest and inserts it again");
    return;
  }
  const std::uint64_t missing = lost_to - position_;
  metrics_.db_behind_messages = missing;
  if (behind_reported_ == mark.seq) {
    return;
  }
  behind_reported_ = mark.seq;
  log::error("database " + options_.db_name + " holds this spool's messages only up to number " +
             std::to_string(position_) + ", but up to " + std::to_string(mark.seq) +
             " had been committed there: " + std::to_string(missing) + " message(s), numbers " +
             std::to_string(position_ + 1) + " to " + std::to_string(lost_to) +
             ", received up to " + format_sql_datetime_us(mark.received_at_us) +
             " UTC at the latest, are missing from it and were already deleted from the spool. "
             "Was the database restored from a backup, or did it fail over to a replica that "
             "lagged? Copy those messages from the old server if it still has them; ingestion "
             "goes on with what the spool still holds");
}

bool Committer::connect_and_position(const std::stop_token& stop, std::uint64_t& committed) {
  std::atomic<bool> abandon{false};
  std::stop_callback on_stop(stop, [&] { abandon = true; });
  if (!ensure_connected(abandon)) {
    return false;
  }
  outage_.recovered();
  metrics_.db_outage = false;
  backoff_.reset();
  committed = position_;
  started_ = true;
  return true;
}

std::uint64_t Committer::statement_budget() const {
  const std::uint64_t packet = store_->max_packet();
  return packet > 2 * kStatementOverhead ? packet - kStatementOverhead : packet / 2;
}

std::vector<spool::Record> Committer::next_batch(const std::stop_token& drain) {
  // Bytes do not bound the batch here: commit_batch splits it by the
  // server's packet size. This only keeps memory in proportion.
  const std::uint64_t max_bytes = 16ULL << 20;
  auto batch = spool_.read_batch(
      options_.batch_size, max_bytes,
      drain.stop_requested() ? std::chrono::milliseconds(50) : std::chrono::milliseconds(500));
  if (batch.empty()) {
    return batch;
  }
  // Fill the batch for up to batch_delay after its first message.
  const auto deadline = std::chrono::steady_clock::now() + options_.batch_delay;
  std::uint64_t bytes = 0;
  for (const auto& r : batch) {
    bytes += row_bytes(r);
  }
  while (batch.size() < options_.batch_size && bytes < max_bytes && !drain.stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      break;
    }
    auto more =
        spool_.read_batch(options_.batch_size - batch.size(), max_bytes - bytes,
                          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    for (auto& r : more) {
      bytes += row_bytes(r);
      batch.push_back(std::move(r));
    }
  }
  return batch;
}

void Committer::handed_over(const spool::Record& last, std::size_t rows,
                            std::chrono::steady_clock::time_point start) {
  quick_retries_ = 0;
  position_ = last.seq;
  spool_.commit(last.seq);
  mark_.write({last.seq, last.received_at_us});
  outage_.recovered();
  metrics_.db_outage = false;
  backoff_.reset();
  const auto now = std::chrono::steady_clock::now();
  metrics_.inserted += rows;
  if (rows > 0) {
    ++metrics_.batches;
    metrics_.last_batch_size = rows;
    metrics_.last_batch_micros = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - start).count());
  }
  metrics_.last_commit_steady_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  publish_spool_state();
}

spool::Backlog Committer::publish_spool_state() {
  const auto backlog = spool_.backlog();
  metrics_.backlog_records = backlog.records;
  metrics_.backlog_bytes = backlog.bytes;
  metrics_.spool_syncs = spool_.syncs();
  return backlog;
}

void Committer::failed(const db::DbError& error, const std::atomic<bool>& abandon) {
  ++metrics_.db_errors;
  metrics_.db_outage = true;
  outage_.failed(db::describe(error));
  // After a deadlock or a certification conflict the session is fine and the
  // transaction rolled back; after anything else its state is unknown, so a
  // new connection reads the position afresh.
  if (!error.retryable() || error.connection_lost()) {
    store_.reset();
    metrics_.db_connected = false;
  }
  wait_for(backoff_.next(), abandon);
}

void Committer::set_aside(const spool::Record& record, const std::string& reason) {
  if (set_aside_seq_ != record.seq) {
    dead_letters_.write(record, reason);
    set_aside_seq_ = record.seq;
    ++metrics_.dead_lettered;
    log::warn("message " + std::to_string(record.seq) + " on topic '" + record.topic + "' (" +
              std::to_string(record.payload.size()) + " bytes) written to " +
              dead_letters_.path().string() + " instead of the database: " + reason +
              "; `statesink dead-letter replay` puts it back once the cause is fixed");
  }
  if (store_->skip(position_, record.seq)) {
    handed_over(record, 0, std::chrono::steady_clock::now());
  } else {
    position_ = store_->committed_seq();
  }
}

void Committer::commit_batch(const std::vector<spool::Record>& batch,
                             const std::atomic<bool>& abandon) {
  std::size_t done = 0;
  // While looking for the message a batch was refused for: one row per transaction up to here.
  std::uint64_t one_by_one_until = 0;
  while (done < batch.size()) {
    if (!ensure_connected(abandon)) {
      return;
    }
    try {
      const std::size_t first = done;
      while (done < batch.size() && batch[done].seq <= position_) {
        ++done;  // committed by an attempt that looked failed
      }
      if (done > first) {
        handed_over(batch[done - 1], 0, std::chrono::steady_clock::now());
        continue;
      }
      const std::uint64_t budget = statement_budget();
      const spool::Record& head = batch[done];
      if (row_bytes(head) > budget) {
        set_aside(head, "larger than the server's max_allowed_packet allows (" +
                            std::to_string(head.topic.size() + head.payload.size()) +
                            " bytes; limit about " + std::to_string(budget - kRowOverhead) +
                            "); raise max_allowed_packet on the server to store such messages");
        continue;
      }
      std::size_t end = done + 1;
      std::uint64_t bytes = row_bytes(head);
      if (head.seq > one_by_one_until) {
        while (end < batch.size() && bytes + row_bytes(batch[end]) <= budget) {
          bytes += row_bytes(batch[end]);
          ++end;
        }
      }
      const std::span<const spool::Record> part(batch.data() + done, end - done);
      const auto start = std::chrono::steady_clock::now();
      try {
        if (store_->insert(position_, part)) {
          handed_over(part.back(), part.size(), start);
          done = end;
        } else {
          position_ = store_->committed_seq();
          log::info("a commit whose outcome was unknown had succeeded; database " +
                    options_.db_name + " is at message " + std::to_string(position_));
        }
      } catch (const db::DbError& e) {
        if (!e.about_content()) {
          throw;
        }
        if (part.size() > 1) {
          log::warn(std::string("a batch was refused (") + e.what() +
                    "); inserting its messages one by one to find the cause");
          one_by_one_until = part.back().seq;
        } else {
          set_aside(part.front(), std::string("refused by the database: ") + e.what());
        }
      }
    } catch (const db::DbError& e) {
      // A deadlock or a cluster certification conflict rolled back a
      // transaction that competed with another writer: the next attempt
      // usually passes, so it goes again at once, a few times, before the
      // error counts as an outage.
      if ((e.code() == 1213 || e.code() == 3101) && quick_retries_ < kQuickRetries) {
        ++quick_retries_;
        ++metrics_.db_conflict_retries;
        continue;
      }
      quick_retries_ = 0;
      failed(e, abandon);
    }
  }
}

void Committer::run(const std::stop_token& drain, const std::atomic<bool>& abandon) {
  while (!abandon) {
    auto batch = next_batch(drain);
    if (batch.empty()) {
      const auto backlog = publish_spool_state();
      if (drain.stop_requested() && backlog.records == 0) {
        return;
      }
      continue;
    }
    commit_batch(batch, abandon);
  }
}

}  // namespace statesink::ingest
