#include "ingest/committer.h"

#include <thread>

#include "db/error.h"
#include "util/log.h"

namespace statesink::ingest {
namespace {

// Room for the statement text and the other columns of one row.
constexpr std::uint64_t kRowOverhead = 4096;

std::uint64_t record_bytes(const spool::Record& r) { return r.topic.size() + r.payload.size(); }

std::string with_advice(const db::DbError& e) {
  const std::string hint = db::advice(e);
  return hint.empty() ? std::string(e.what()) : std::string(e.what()) + "; " + hint;
}

}  // namespace

Committer::Committer(CommitterOptions options, spool::Spool& spool, Metrics& metrics)
    : options_(std::move(options)),
      spool_(spool),
      metrics_(metrics),
      dead_letters_(spool.options().directory / "dead-letter.jsonl"),
      outage_("database " + options_.db.redacted()),
      backoff_(std::chrono::milliseconds(200), std::chrono::seconds(15)) {}

void Committer::disconnect() {
  inserter_.reset();
  connection_.reset();
  metrics_.db_connected = false;
}

bool Committer::ensure_connected(const std::atomic<bool>& abandon) {
  while (!connection_) {
    if (abandon) {
      return false;
    }
    try {
      db::ConnectOptions options;
      options.connect_timeout = std::chrono::seconds(5);
      // A server that stops answering mid-batch is noticed, then retried.
      options.read_timeout = std::chrono::seconds(60);
      connection_ = db::Connection::open(options_.db, options);
      auto packet = connection_->query_value("SELECT @@max_allowed_packet");
      const std::uint64_t max_packet = packet ? std::stoull(*packet) : (16ULL << 20);
      max_message_bytes_ =
          max_packet > 2 * kRowOverhead ? max_packet - kRowOverhead : max_packet / 2;
      inserter_.emplace(*connection_, options_.spool_id, options_.batch_size);
      metrics_.db_connected = true;
    } catch (const db::DbError& e) {
      disconnect();
      ++metrics_.db_errors;
      outage_.failed(with_advice(e));
      pause(backoff_.next(), abandon);
    }
  }
  return true;
}

void Committer::pause(std::chrono::milliseconds delay, const std::atomic<bool>& abandon) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!abandon && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                           until - std::chrono::steady_clock::now()) +
                                           std::chrono::milliseconds(1)));
  }
}

bool Committer::connect_and_position(const std::stop_token& stop, std::uint64_t& committed) {
  std::atomic<bool> abandon{false};
  std::stop_callback on_stop(stop, [&] { abandon = true; });
  while (ensure_connected(abandon)) {
    try {
      committed = inserter_->committed_seq();
      outage_.recovered();
      backoff_.reset();
      return true;
    } catch (const db::DbError& e) {
      ++metrics_.db_errors;
      if (e.code() == 1146) {  // no such table
        throw std::runtime_error(
            "the database has no ingest_progress table: run `statesink migrate up` first");
      }
      disconnect();
      outage_.failed(with_advice(e));
      pause(backoff_.next(), abandon);
    }
  }
  return false;
}

std::vector<spool::Record> Committer::next_batch(const std::stop_token& drain) {
  const std::uint64_t max_bytes = std::max<std::uint64_t>(max_message_bytes_ / 2, 1 << 20);
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
    bytes += record_bytes(r);
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
      bytes += record_bytes(r);
      batch.push_back(std::move(r));
    }
  }
  return batch;
}

void Committer::committed(std::uint64_t seq, std::size_t rows,
                          std::chrono::steady_clock::time_point start) {
  spool_.commit(seq);
  const auto now = std::chrono::steady_clock::now();
  metrics_.inserted += rows;
  ++metrics_.batches;
  metrics_.last_batch_size = rows;
  metrics_.last_batch_micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now - start).count());
  metrics_.last_commit_steady_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const auto backlog = spool_.backlog();
  metrics_.backlog_records = backlog.records;
  metrics_.backlog_bytes = backlog.bytes;
}

void Committer::dead_letter(const spool::Record& record, const std::string& reason) {
  dead_letters_.write(record, reason);
  ++metrics_.dead_lettered;
  log::warn("message " + std::to_string(record.seq) + " on topic '" + record.topic + "' (" +
            std::to_string(record.payload.size()) + " bytes) written to " +
            dead_letters_.path().string() + " instead of the database: " + reason);
}

// One transaction for the records. True when committed (or found committed
// after a lost connection); false when the caller should retry after backoff.
// A permanent error is rethrown.
bool Committer::try_insert(std::span<const spool::Record> records) {
  const auto start = std::chrono::steady_clock::now();
  try {
    inserter_->insert(records);
    committed(records.back().seq, records.size(), start);
    outage_.recovered();
    backoff_.reset();
    return true;
  } catch (const db::DbError& e) {
    // Missing privileges or tables are the operator's to fix, not a reason
    // to set messages aside: wait for the fix like for any outage.
    if (!e.retryable() && !e.connection_lost() && !e.needs_operator()) {
      throw;
    }
    ++metrics_.db_errors;
    outage_.failed(with_advice(e));
    recheck_ = true;
    if (e.connection_lost()) {
      disconnect();
    }
    return false;
  }
}

void Committer::insert_one_by_one(std::span<const spool::Record> records) {
  for (const auto& r : records) {
    while (true) {
      try {
        if (try_insert(std::span(&r, 1))) {
          break;
        }
      } catch (const db::DbError& e) {
        // This row alone is refused for good: keep it aside, then move past it.
        dead_letter(r, std::string("refused by the database: ") + e.what());
        inserter_->skip_to(r.seq);
        spool_.commit(r.seq);
        break;
      }
      return;  // connection lost: the caller reconnects and resumes
    }
  }
}

void Committer::commit_batch(std::vector<spool::Record>& batch, const std::atomic<bool>& abandon) {
  std::size_t done = 0;  // records of `batch` known to be committed
  while (done < batch.size()) {
    if (!ensure_connected(abandon)) {
      return;
    }
    try {
      // After a failure, the last attempt may have committed after all.
      const std::uint64_t in_db = recheck_ ? inserter_->committed_seq() : 0;
      recheck_ = false;
      const std::size_t before = done;
      while (done < batch.size() && batch[done].seq <= in_db) {
        ++done;
      }
      if (done > before) {
        committed(batch[done - 1].seq, done - before, std::chrono::steady_clock::now());
        outage_.recovered();
        continue;
      }
      // Messages too large for one packet are dead-lettered in their place in the sequence.
      std::size_t end = done;
      while (end < batch.size() && record_bytes(batch[end]) <= max_message_bytes_) {
        ++end;
      }
      if (end > done) {
        std::span<const spool::Record> part(batch.data() + done, end - done);
        bool ok = false;
        try {
          ok = try_insert(part);
        } catch (const db::DbError& e) {
          log::warn(std::string("a batch was refused (") + e.what() +
                    "); inserting its messages one by one to find the cause");
          insert_one_by_one(part);
          recheck_ = true;
          continue;  // re-read the position: it tells how far that got
        }
        if (!ok) {
          pause(backoff_.next(), abandon);
          continue;
        }
        done = end;
      }
      if (done < batch.size()) {
        const spool::Record& big = batch[done];
        dead_letter(big, "larger than the server's max_allowed_packet allows (" +
                             std::to_string(record_bytes(big)) + " bytes; limit about " +
                             std::to_string(max_message_bytes_) +
                             "); raise max_allowed_packet on the server to store such messages");
        inserter_->skip_to(big.seq);
        committed(big.seq, 0, std::chrono::steady_clock::now());
        ++done;
      }
    } catch (const db::DbError& e) {
      ++metrics_.db_errors;
      outage_.failed(with_advice(e));
      recheck_ = true;
      if (e.connection_lost() || !e.retryable()) {
        disconnect();
      }
      pause(backoff_.next(), abandon);
    }
  }
}

void Committer::run(const std::stop_token& drain, const std::atomic<bool>& abandon) {
  while (!abandon) {
    auto batch = next_batch(drain);
    if (batch.empty()) {
      const auto backlog = spool_.backlog();
      metrics_.backlog_records = backlog.records;
      metrics_.backlog_bytes = backlog.bytes;
      if (drain.stop_requested() && backlog.records == 0) {
        return;
      }
      continue;
    }
    commit_batch(batch, abandon);
  }
}

}  // namespace statesink::ingest
