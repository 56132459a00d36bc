#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "config/url.h"
#include "db/connection.h"
#include "ingest/batch_inserter.h"
#include "ingest/dead_letter.h"
#include "ingest/metrics.h"
#include "ingest/outage.h"
#include "spool/spool.h"
#include "util/backoff.h"

namespace statesink::ingest {

struct CommitterOptions {
  config::DbUrl db;
  std::string spool_id;
  std::size_t batch_size = 1000;
  // A batch is sent when it is full or when its first message has waited this long.
  std::chrono::milliseconds batch_delay{100};
};

// The database side of ingestion: reads the spool in order and commits batches
// into `messages` together with the spool position (see BatchInserter).
// Database errors are retried with backoff; a message the database refuses
// for good goes to the dead-letter file; nothing is ever skipped silently.
class Committer {
 public:
  Committer(CommitterOptions options, spool::Spool& spool, Metrics& metrics);

  // Waits for the database and returns the last committed sequence number of
  // this spool; false when stop was requested first.
  bool connect_and_position(const std::stop_token& stop, std::uint64_t& committed);

  // Commits until `drain` is requested and the spool is empty, or until
  // `abandon` is requested (what is left stays in the spool for next time).
  void run(const std::stop_token& drain, const std::atomic<bool>& abandon);

 private:
  bool ensure_connected(const std::atomic<bool>& abandon);
  void disconnect();
  std::vector<spool::Record> next_batch(const std::stop_token& drain);
  // Splits off messages the server cannot take in one packet.
  void commit_batch(std::vector<spool::Record>& batch, const std::atomic<bool>& abandon);
  bool try_insert(std::span<const spool::Record> records);
  void insert_one_by_one(std::span<const spool::Record> records);
  void dead_letter(const spool::Record& record, const std::string& reason);
  void committed(std::uint64_t seq, std::size_t rows, std::chrono::steady_clock::time_point start);
  void pause(std::chrono::milliseconds delay, const std::atomic<bool>& abandon);

  CommitterOptions options_;
  spool::Spool& spool_;
  Metrics& metrics_;
  DeadLetterFile dead_letters_;
  std::optional<db::Connection> connection_;
  std::optional<BatchInserter> inserter_;
  std::uint64_t max_message_bytes_ = 0;
  bool recheck_ = false;  // read the committed position back before the next insert
  Outage outage_;
  Backoff backoff_;
};

}  // namespace statesink::ingest
