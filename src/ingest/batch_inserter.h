#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "db/connection.h"
#include "db/statement.h"
#include "spool/record.h"

namespace statesink::ingest {

// Writes spooled records into `messages` and, in the same transaction, how far
// the spool got (ingest_progress.last_seq). After any crash the database alone
// says where to resume, so a batch is in the table completely or not at all,
// and never twice.
class BatchInserter {
 public:
  BatchInserter(db::Connection& connection, std::string spool_id, std::size_t max_rows);

  // The last sequence number committed for this spool, 0 when none.
  std::uint64_t committed_seq();
  // Inserts the records (in order) and moves the progress to the last one.
  void insert(std::span<const spool::Record> records);
  // Moves the progress past records that were dead-lettered instead.
  void skip_to(std::uint64_t seq);

 private:
  db::Statement& rows_statement(std::size_t rows);
  void record_progress(std::uint64_t seq);

  db::Connection& connection_;
  std::string spool_id_;
  std::size_t max_rows_;
  std::map<std::size_t, db::Statement> statements_;
  std::optional<db::Statement> progress_;
};

}  // namespace statesink::ingest
