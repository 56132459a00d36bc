#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "db/error.h"
#include "ingest/dead_letter.h"
#include "ingest/handover_mark.h"
#include "ingest/metrics.h"
#include "ingest/outage.h"
#include "ingest/store.h"
#include "spool/spool.h"
#include "util/backoff.h"

namespace statesink::ingest {

struct CommitterOptions {
  std::string db_name;  // the database's redacted URL, for messages
  std::size_t batch_size = 1000;
  // A batch is sent when it is full or when its first message has waited this
  // long; 0: at once with what is waiting (under load, what arrived during the
  // last commit).
  std::chrono::milliseconds batch_delay{0};
};

// The database side of ingestion: reads the spool in order and commits
// batches into `messages` together with the spool position (see Store).
//
// Each transaction moves the position only from the value this side last
// saw, so when a COMMIT's outcome is unknown (the connection dropped during
// it) the retry either lands or finds the first attempt landed; never both.
// A message is set aside (dead-lettered) only when the server refuses its
// data (DbError::about_content()); any other error, unknown ones included,
// is an outage: logged once, retried with backoff, nothing skipped.
class Committer {
 public:
  Committer(CommitterOptions options, StoreFactory connect, spool::Spool& spool, Metrics& metrics);

  // Waits for the database and returns the last committed sequence number of
  // this spool; false when stop was requested first.
  bool connect_and_position(const std::stop_token& stop, std::uint64_t& committed);

  // Commits until `drain` is requested and the spool is empty, or until
  // `abandon` is requested (what is left stays in the spool for next time).
  void run(const std::stop_token& drain, const std::atomic<bool>& abandon);

 private:
  bool ensure_connected(const std::atomic<bool>& abandon);
  void check_behind();
  std::vector<spool::Record> next_batch(const std::stop_token& drain);
  void commit_batch(const std::vector<spool::Record>& batch, const std::atomic<bool>& abandon);
  // Largest sum of row sizes one statement may carry.
  std::uint64_t statement_budget() const;
  void set_aside(const spool::Record& record, const std::string& reason);
  void failed(const db::DbError& error, const std::atomic<bool>& abandon);
  // Copies the spool's backlog and flush count into the metrics; returns the backlog.
  spool::Backlog publish_spool_state();
  void handed_over(const spool::Record& last, std::size_t rows,
                   std::chrono::steady_clock::time_point start);

  CommitterOptions options_;
  StoreFactory connect_;
  spool::Spool& spool_;
  Metrics& metrics_;
  DeadLetterFile dead_letters_;
  HandoverMark mark_;
  std::unique_ptr<Store> store_;
  std::uint64_t position_ = 0;       // committed in the database, as last seen
  std::uint64_t set_aside_seq_ = 0;  // the last record written to the dead-letter file
  std::uint64_t behind_reported_ = 0;
  bool started_ = false;
  int quick_retries_ = 0;  // deadlocks retried at once since the last commit  //
                           // connect_and_position() done: the spool reads on
  Outage outage_;
  Backoff backoff_;
};

}  // namespace statesink::ingest
